package httpmw

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/otelkit/otelkit/internal/cache"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults used when an option is not given.
const (
	// DefaultRequestIDHeader is the header a request ID is read from and
	// echoed in.
	DefaultRequestIDHeader = "X-Request-ID"
	// DefaultSlowThreshold is the duration above which a request is slow.
	DefaultSlowThreshold = time.Second
	// DefaultForwardedHeader is the header trusted proxies append the client
	// address to.
	DefaultForwardedHeader = "X-Forwarded-For"
	// ResponseTimeHeader is the header WithResponseTimeHeader sets.
	ResponseTimeHeader = "X-Response-Time"
)

// Option configures the middleware made by [New] (and, for the options
// that concern it, a [Health] made by [NewHealth]).
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is the resolved configuration of one middleware. It is never
// modified after newConfig.
type config struct {
	logger        *slog.Logger // nil: slog.Default() at each record
	tp            trace.TracerProvider
	mp            metric.MeterProvider
	otelOpts      []otelhttp.Option
	idHeader      string
	idFromProxies bool
	proxies       []netip.Prefix
	fwdHeader     string
	sampling      *sampling.Policy
	redact        *redact.Policy
	slow          time.Duration
	routeSlow     map[string]time.Duration
	statusLevel   func(status int) slog.Level
	skip          map[string]string // path -> noisy-record key
	responseTime  bool
	hashUser      bool
	fwdHeaderSet  bool
	contentTypes  *cache.Memo[string, string] // redacted, of request_completed
}

func newConfig(opts []Option) *config {
	c := &config{
		idHeader:    DefaultRequestIDHeader,
		fwdHeader:   DefaultForwardedHeader,
		slow:        DefaultSlowThreshold,
		statusLevel: DefaultStatusLevel,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	c.idHeader = http.CanonicalHeaderKey(c.idHeader)
	c.defaultsFromHandler()
	if c.redact == nil {
		c.redact = redact.New()
	}
	if c.statusLevel == nil {
		c.statusLevel = DefaultStatusLevel
	}
	c.contentTypes = cache.New(maxCachedValues, c.redact.String)
	return c
}

// defaultsFromHandler fills what the options left out from the logbridge
// handler installed as slog's default (otelsetup.Setup installs one): its
// redaction and sampling policies, and the sampling policy's trusted
// proxies and forwarding header, so client addresses, debug trust and
// redaction agree across the service without wiring.
func (c *config) defaultsFromHandler() {
	h, ok := slog.Default().Handler().(*logbridge.Handler)
	if !ok {
		return
	}
	if c.redact == nil {
		c.redact = h.Redaction()
	}
	if c.sampling == nil {
		c.sampling = h.Sampling()
	}
	if len(c.proxies) == 0 && c.sampling != nil {
		c.proxies = c.sampling.TrustedProxies()
		if !c.fwdHeaderSet {
			c.fwdHeader = c.sampling.ForwardedHeader()
		}
	}
}

// log returns the logger for request records: the configured one, else
// slog's default at the time of the call, so a default installed after New
// (by otelsetup.Setup, say) applies.
func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithLogger sets the logger for request logs, panics, errors and security
// events. The default, nil, means slog.Default() at the time of each record.
// Give it a logbridge logger (for example one named "http") so records carry
// the request's context fields and per-request debug applies.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithTracerProvider sets the TracerProvider of the server spans. The
// default is the global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithMeterProvider sets the MeterProvider of the HTTP server metrics and of
// otelkit.http.auth_failures. The default is the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithOTelHTTPOptions makes otelhttp.NewHandler, with these options
// (filters, propagators, public endpoints, ...), make the server span and
// metrics instead of the middleware itself (see [New]).
// WithTracerProvider and WithMeterProvider are applied after them.
func WithOTelHTTPOptions(opts ...otelhttp.Option) Option {
	opts = append([]otelhttp.Option(nil), opts...)
	return optionFunc(func(c *config) { c.otelOpts = append(c.otelOpts, opts...) })
}

// WithRequestIDHeader sets the header an incoming request ID is read from
// and the response echoes it in (default DefaultRequestIDHeader). An empty
// name keeps the default.
func WithRequestIDHeader(name string) Option {
	return optionFunc(func(c *config) {
		if name = strings.TrimSpace(name); name != "" {
			c.idHeader = http.CanonicalHeaderKey(name)
		}
	})
}

// WithRequestIDFromProxiesOnly accepts an incoming request ID only from a
// trusted proxy (see WithTrustedProxies); requests from any other peer get
// a new ID. Use it when the service is reachable directly as well as through
// a gateway that sets the ID.
func WithRequestIDFromProxiesOnly() Option {
	return optionFunc(func(c *config) { c.idFromProxies = true })
}

// WithTrustedProxies lists the proxies (CIDR prefixes or addresses, such as
// "10.0.0.0/8" or "::1") whose forwarding header (see WithForwardedHeader)
// gives the client address. From any other peer the header is ignored,
// so it cannot be spoofed. Invalid entries are reported through otel.Handle
// and ignored.
func WithTrustedProxies(cidrs ...string) Option {
	var prefixes []netip.Prefix
	for _, s := range cidrs {
		p, err := sampling.ParsePrefix(s)
		if err != nil {
			otel.Handle(fmt.Errorf("httpmw: WithTrustedProxies: %w", err))
			continue
		}
		prefixes = append(prefixes, p)
	}
	return optionFunc(func(c *config) { c.proxies = append(c.proxies, prefixes...) })
}

// WithForwardedHeader names the header trusted proxies append the client
// address to: "X-Forwarded-For" (the default), "Forwarded" (RFC 7239, its
// for= parameters), or another header holding a comma-separated list of
// addresses. Only that header is read.
func WithForwardedHeader(name string) Option {
	return optionFunc(func(c *config) {
		if name = strings.TrimSpace(name); name != "" {
			c.fwdHeader, c.fwdHeaderSet = http.CanonicalHeaderKey(name), true
		}
	})
}

// WithSampling sets the per-request sampling policy: trusted debug headers,
// ratio sampling and tail buffers (see package sampling). Give the log
// handler the same policy (logbridge.WithSampling). Without this option,
// New takes the policy of the logbridge handler installed as slog's default
// (otelsetup.Setup installs one), and its trusted proxies unless
// WithTrustedProxies is given; with neither, sampling is off.
func WithSampling(p *sampling.Policy) Option {
	return optionFunc(func(c *config) { c.sampling = p })
}

// WithRedaction sets the redaction policy applied to what the middleware
// logs and puts on spans: paths, queries, headers, user agents, panic values
// and error strings. Without this option, New takes the policy of the
// logbridge handler installed as slog's default (as otelsetup.Setup builds
// it from its configuration), else redact.New().
func WithRedaction(p *redact.Policy) Option {
	return optionFunc(func(c *config) { c.redact = p })
}

// WithSlowThreshold sets the duration above which a request is logged at
// WARN (at least) with slow=true (default DefaultSlowThreshold). Zero or
// less turns the slow rule off.
func WithSlowThreshold(d time.Duration) Option {
	return optionFunc(func(c *config) { c.slow = d })
}

// WithRouteSlowThreshold sets the slow threshold of one route, overriding
// WithSlowThreshold for it. The route is matched as it appears in http.route:
// the path part of the pattern ("GET /orders/{id}" and "/orders/{id}" name
// the same route). Zero or less turns the slow rule off for that route.
func WithRouteSlowThreshold(route string, d time.Duration) Option {
	return optionFunc(func(c *config) {
		if c.routeSlow == nil {
			c.routeSlow = make(map[string]time.Duration)
		}
		c.routeSlow[routeOf(route)] = d
	})
}

// WithStatusLevels sets the level of request_completed records by response
// status (default DefaultStatusLevel). Slow requests are raised to WARN
// whatever it returns.
func WithStatusLevels(level func(status int) slog.Level) Option {
	return optionFunc(func(c *config) { c.statusLevel = level })
}

// DefaultStatusLevel is the default level of request_completed records:
// INFO below 400, WARN for 4xx and ERROR for 5xx.
func DefaultStatusLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// WithSkipPaths keeps request_completed records of these URL paths (exact
// match, such as "/healthz") off INFO: they are written at DEBUG, except
// that with a sampling policy (WithSampling) one in N is kept at its level
// (see sampling.Policy.KeepNoisy), and WARN and above are always written.
// The requests are still traced and metered. Handlers of a [Health] are
// treated this way wherever they are mounted.
func WithSkipPaths(paths ...string) Option {
	paths = append([]string(nil), paths...)
	return optionFunc(func(c *config) {
		if c.skip == nil {
			c.skip = make(map[string]string, len(paths))
		}
		for _, p := range paths {
			c.skip[p] = EventRequestCompleted + " " + p
		}
	})
}

// WithResponseTimeHeader sets the X-Response-Time header (for example
// "12.345ms") on every response: the time from the start of the request to
// the moment the response header is written.
func WithResponseTimeHeader() Option {
	return optionFunc(func(c *config) { c.responseTime = true })
}

// WithHashedUserID makes SetUser store a keyed hash of the user ID (see
// redact.Policy.Hash, keyed by the redaction policy of WithRedaction) instead
// of the ID itself, on log records and on the span alike, so users stay
// correlatable without being identifiable.
func WithHashedUserID() Option {
	return optionFunc(func(c *config) { c.hashUser = true })
}
