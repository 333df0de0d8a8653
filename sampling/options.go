package sampling

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Defaults used when an option is not given.
const (
	// DefaultHeader is the request header that asks for per-request debug.
	DefaultHeader = "X-Debug-Log"
	// DefaultMaxTokenLifetime bounds how far in the future a token may expire.
	DefaultMaxTokenLifetime = 24 * time.Hour
	// DefaultWarnInterval is the minimum time between two WARN reports of
	// untrusted debug attempts.
	DefaultWarnInterval = time.Second
	// DefaultTailMaxRecords is the default record bound of a tail buffer.
	DefaultTailMaxRecords = 1000
	// DefaultTailMaxBytes is the default byte bound of a tail buffer.
	DefaultTailMaxBytes = 1 << 20
	// DefaultNoisyEvery is the default N of "keep 1 in N" noisy records.
	DefaultNoisyEvery = 10
)

// minSecretLen is the shortest HMAC key accepted: shorter keys can be
// brute-forced offline from one captured token.
const minSecretLen = 16

// config is the resolved configuration of a Policy. It is never modified
// after New returns.
type config struct {
	header         string
	secret         []byte
	allowed        []netip.Prefix
	proxies        []netip.Prefix
	forwardHeader  string
	maxLifetime    time.Duration
	ratio          float64
	detailLevel    slog.Level
	tail           bool
	tailLevel      slog.Level
	tailMaxRecords int
	tailMaxBytes   int
	tailSlow       time.Duration
	tailTrigger    slog.Level
	noisyEvery     uint64
	logger         *slog.Logger
	warnInterval   time.Duration
	meterProvider  metric.MeterProvider
	now            func() time.Time
	errs           []error
}

func newConfig(opts []Option) (config, error) {
	c := config{
		header:         DefaultHeader,
		forwardHeader:  "X-Forwarded-For",
		maxLifetime:    DefaultMaxTokenLifetime,
		detailLevel:    slog.LevelDebug,
		tailLevel:      slog.LevelDebug,
		tailMaxRecords: DefaultTailMaxRecords,
		tailMaxBytes:   DefaultTailMaxBytes,
		tailTrigger:    slog.LevelError,
		noisyEvery:     DefaultNoisyEvery,
		warnInterval:   DefaultWarnInterval,
		now:            time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c, errors.Join(c.errs...)
}

// Option configures a Policy. Options are applied in order; a later option
// overrides an earlier one of the same kind.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithHeader sets the name of the request header that asks for per-request
// debug (default [DefaultHeader]).
func WithHeader(name string) Option {
	return optionFunc(func(c *config) {
		name = strings.TrimSpace(name)
		if name == "" {
			c.errs = append(c.errs, errors.New("sampling: empty debug header name"))
			return
		}
		c.header = http.CanonicalHeaderKey(name)
	})
}

// WithSecret sets the HMAC-SHA256 key that signs debug tokens (see
// [SignToken]). Without a secret no token is ever trusted. The key must be
// at least 16 bytes; the slice is copied.
func WithSecret(secret []byte) Option {
	return optionFunc(func(c *config) {
		if len(secret) < minSecretLen {
			c.errs = append(c.errs, fmt.Errorf("sampling: debug secret must be at least %d bytes", minSecretLen))
			return
		}
		c.secret = append([]byte(nil), secret...)
	})
}

// WithAllowedPeers trusts the debug header from callers whose address is in
// one of the given CIDR prefixes or addresses ("10.0.0.0/8", "::1"). The
// caller address is the direct peer, or the forwarded client address when the
// peer is a trusted proxy (see [WithTrustedProxies]).
func WithAllowedPeers(cidrs ...string) Option {
	return optionFunc(func(c *config) {
		c.allowed = appendPrefixes(c, c.allowed, cidrs)
	})
}

// WithTrustedProxies lists the proxies (CIDR prefixes or addresses) whose
// forwarding header (see [WithForwardedHeader]) is believed. Forwarding
// headers from any other peer are ignored, so they cannot be spoofed.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) {
		c.proxies = appendPrefixes(c, c.proxies, cidrs)
	})
}

// WithForwardedHeader names the forwarding header the trusted proxies append
// the client address to: "X-Forwarded-For" (the default), "Forwarded"
// (RFC 7239, its for= parameters), or another header holding a
// comma-separated list of addresses. Only that header is read: one the
// proxies do not manage would pass a client's forgery through.
func WithForwardedHeader(name string) Option {
	return optionFunc(func(c *config) {
		name = strings.TrimSpace(name)
		if name == "" {
			c.errs = append(c.errs, errors.New("sampling: empty forwarded header name"))
			return
		}
		c.forwardHeader = http.CanonicalHeaderKey(name)
	})
}

func appendPrefixes(c *config, dst []netip.Prefix, cidrs []string) []netip.Prefix {
	for _, s := range cidrs {
		p, err := ParsePrefix(s)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("sampling: %w", err))
			continue
		}
		dst = append(dst, p)
	}
	return dst
}

// ParsePrefix parses one entry of a trusted-proxy or allowed-peer list: a
// CIDR prefix ("10.0.0.0/8", masked) or a single address ("::1", a
// one-address prefix; IPv4-mapped addresses unmapped). An IPv4-mapped
// prefix is an error, since peers are compared unmapped and it would never
// match. httpmw's WithTrustedProxies takes its entries the same way.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 would never match an unmapped peer.
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix %q: use the IPv4 form", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// WithMaxTokenLifetime rejects tokens that expire further than d in the
// future (default [DefaultMaxTokenLifetime]), so a leaked token is useful for
// a bounded time whatever expiry it was minted with.
func WithMaxTokenLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, errors.New("sampling: token lifetime must be positive"))
			return
		}
		c.maxLifetime = d
	})
}

// WithRatio enables DEBUG detail for the given fraction (0 to 1) of requests,
// decided from the trace ID (see [Request.Enabled]). The default is 0.
func WithRatio(fraction float64) Option {
	return optionFunc(func(c *config) {
		if math.IsNaN(fraction) || fraction < 0 || fraction > 1 {
			c.errs = append(c.errs, fmt.Errorf("sampling: ratio %v is not in [0, 1]", fraction))
			return
		}
		c.ratio = fraction
	})
}

// WithDetailLevel sets the lowest level that forced debug and ratio sampling
// turn on (default slog.LevelDebug).
func WithDetailLevel(level slog.Level) Option {
	return optionFunc(func(c *config) { c.detailLevel = level })
}

// WithTailBuffer turns on tail buffering: in requests that are neither forced
// nor ratio sampled, records at or below the tail level that are not
// otherwise enabled are held, at most maxRecords of them and maxBytes in
// estimated memory, oldest dropped first. Zero or negative bounds take the
// defaults ([DefaultTailMaxRecords], [DefaultTailMaxBytes]).
func WithTailBuffer(maxRecords, maxBytes int) Option {
	return optionFunc(func(c *config) {
		c.tail = true
		if maxRecords > 0 {
			c.tailMaxRecords = maxRecords
		}
		if maxBytes > 0 {
			c.tailMaxBytes = maxBytes
		}
	})
}

// WithTailLevel sets the highest level a tail buffer holds (default
// slog.LevelDebug).
func WithTailLevel(level slog.Level) Option {
	return optionFunc(func(c *config) { c.tailLevel = level })
}

// WithTailSlow flushes a request's tail buffer when the request took at least
// d. Zero (the default) disables the slow trigger.
func WithTailSlow(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			d = 0
		}
		c.tailSlow = d
	})
}

// WithTailTriggerLevel flushes a request's tail buffer when a record at or
// above level was observed during the request (default slog.LevelError).
func WithTailTriggerLevel(level slog.Level) Option {
	return optionFunc(func(c *config) { c.tailTrigger = level })
}

// WithNoisyEvery sets N for noisy records: [Policy.KeepNoisy] keeps 1 in N
// per key (default [DefaultNoisyEvery]). N of 1 or less keeps everything.
func WithNoisyEvery(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			n = 1
		}
		c.noisyEvery = uint64(n)
	})
}

// WithLogger sets the logger for security warnings and debug_sampled audit
// records. The default, nil, means slog.Default() at the time of each record.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithWarnInterval sets the minimum time between two WARN reports of
// untrusted debug attempts (default [DefaultWarnInterval]); the next report
// says how many were suppressed. Every attempt is still counted.
func WithWarnInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			d = 0
		}
		c.warnInterval = d
	})
}

// WithMeterProvider sets the meter provider for the package's counters. The
// default is the OpenTelemetry global provider, fetched at first use.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}
