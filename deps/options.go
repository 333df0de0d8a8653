package deps

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Defaults used when an option is not given.
const (
	// DefaultRequestIDHeader is the header the current request's ID is
	// forwarded in.
	DefaultRequestIDHeader = "X-Request-ID"
	// DefaultSlowThreshold is the duration above which a call or step is
	// slow: logged at the Degraded level (WARN) at least, with slow=true.
	DefaultSlowThreshold = time.Second
	// LoggerName is the name the default logger gets when slog.Default()
	// is an otelkit logbridge logger, so LOG_LEVELS=deps=debug applies.
	LoggerName = "deps"
)

// Option configures a transport made by [NewTransport] or [NewClient],
// a [Step] or a [Call]. Options that do not concern the callee are ignored
// (WithRetry by Step and Call, for one).
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Outcome classifies how a call or step ended; each outcome has a level
// (see [WithLevel]).
type Outcome int

const (
	// Success is a response below 400, not retried, not slow; or a step
	// or Call that returned nil. Default level INFO.
	Success Outcome = iota
	// Degraded is a 4xx or 5xx response, a call that needed retries,
	// a slow call, or a step that returned an error. Default level WARN.
	Degraded
	// Failed is no response (a connection, DNS, TLS or timeout error),
	// a retryable status still there after retrying, or a Call whose
	// function returned an error or panicked. Default level ERROR.
	Failed
	// Canceled is a call whose caller canceled its context: the caller's
	// decision, not a failure of the dependency. Default level INFO.
	Canceled

	numOutcomes
)

// String returns the outcome's name in lower case.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Degraded:
		return "degraded"
	case Failed:
		return "failed"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// RetryPolicy configures retries (see [WithRetry]). Zero fields take the
// defaults shown.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included
	// (default 3). 1 turns retrying off.
	MaxAttempts int
	// Backoff is the wait before the first retry (default 100ms); it
	// doubles at each retry, with jitter: the actual wait is drawn
	// uniformly from [d/2, d).
	Backoff time.Duration
	// MaxBackoff caps the computed wait (default 5s). It also bounds
	// Retry-After: a response asking for a longer wait is returned
	// as it is, not retried.
	MaxBackoff time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.Backoff <= 0 {
		p.Backoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Second
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = p.Backoff
	}
	return p
}

// config is the resolved configuration. It is never modified after
// newConfig.
type config struct {
	logger     *slog.Logger // nil: slog.Default() at each record
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	prop       propagation.TextMapPropagator // nil: the global one at each call
	redact     *redact.Policy                // nil behaves like redact.New()
	slow       time.Duration
	levels     [numOutcomes]slog.Leveler
	idHeader   string // "" turns forwarding off
	requestID  func(context.Context) string
	retry      *RetryPolicy
	endAtClose bool
}

var defaultLevels = [numOutcomes]slog.Leveler{
	Success:  slog.LevelInfo,
	Degraded: slog.LevelWarn,
	Failed:   slog.LevelError,
	Canceled: slog.LevelInfo,
}

func newConfig(opts []Option) *config {
	c := &config{
		slow:     DefaultSlowThreshold,
		levels:   defaultLevels,
		idHeader: DefaultRequestIDHeader,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// defaultConfig is the configuration of Step and Call without options,
// built once.
var defaultConfig = sync.OnceValue(func() *config { return newConfig(nil) })

func configFor(opts []Option) *config {
	if len(opts) == 0 {
		return defaultConfig()
	}
	return newConfig(opts)
}

// level returns the level of outcome o.
func (c *config) level(o Outcome) slog.Level {
	if l := c.levels[o]; l != nil {
		return l.Level()
	}
	return defaultLevels[o].Level()
}

// WithLogger sets the logger of dependency_call and step_timing records.
// The default, nil, means slog.Default() at the time of each record, named
// [LoggerName] when its handler is an otelkit logbridge handler.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithTracerProvider sets the TracerProvider of the spans. The default is
// the global provider, whose tracers follow a provider set later.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithMeterProvider sets the MeterProvider of http.client.request.duration
// and otelkit.dependency.duration. The default is the global provider,
// whose instruments follow a provider set later.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithPropagators sets the propagators that inject the trace context into
// outgoing requests. The default, nil, means the global propagator
// (otel.GetTextMapPropagator) at each call.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.prop = p })
}

// WithRedaction sets the redaction policy applied to URLs and error
// messages in records and on spans. nil, the default, means the policy of
// the logbridge handler behind slog.Default() (the one otelsetup.Setup
// built from its configuration), else redact.New().
// Give the same policy as the rest of the process (otelsetup does).
func WithRedaction(p *redact.Policy) Option {
	return optionFunc(func(c *config) { c.redact = p })
}

// WithSlowThreshold sets the duration above which a call or step is logged
// at the Degraded level (WARN) at least, with slow=true (default
// [DefaultSlowThreshold]). Zero or less turns the slow rule off.
func WithSlowThreshold(d time.Duration) Option {
	return optionFunc(func(c *config) { c.slow = d })
}

// WithLevel sets the level of records for outcome o. Pass a *slog.LevelVar
// to change it at run time. A nil l restores the default.
func WithLevel(o Outcome, l slog.Leveler) Option {
	return optionFunc(func(c *config) {
		if o >= 0 && o < numOutcomes {
			c.levels[o] = l
		}
	})
}

// WithRequestIDHeader sets the header the current request's ID is
// forwarded in (default [DefaultRequestIDHeader]). An empty name turns
// forwarding off. A header the caller set on the request is left alone.
func WithRequestIDHeader(name string) Option {
	name = strings.TrimSpace(name)
	if name != "" {
		name = http.CanonicalHeaderKey(name)
	}
	return optionFunc(func(c *config) { c.idHeader = name })
}

// WithRequestID sets how the current request's ID is found in a context.
// The default takes the request_id field that httpmw puts in the context
// with logbridge.WithFields. IDs that are empty, longer than 128 bytes or
// hold characters outside A-Z a-z 0-9 and -_.:/+=@;,~ are not forwarded.
func WithRequestID(f func(ctx context.Context) string) Option {
	return optionFunc(func(c *config) { c.requestID = f })
}

// WithRetry turns on retries of idempotent requests (see the package
// documentation, section Retries). Without it a transport never retries.
func WithRetry(p RetryPolicy) Option {
	p = p.withDefaults()
	return optionFunc(func(c *config) { c.retry = &p })
}

// WithEndAtBodyClose makes an HTTP call end when the caller closes the
// response body, or reads it to the end, rather than when the response
// headers arrive: the record, the span and the metric then cover the
// transfer of the body, and a read error fails the call. A body that is
// never closed or read to the end then never ends its call.
func WithEndAtBodyClose() Option {
	return optionFunc(func(c *config) { c.endAtClose = true })
}
