package deps

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/internal/httpconv"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/otelkit/otelkit/deps"

// Metric names.
const (
	// MetricHTTPDuration is the semantic-convention histogram of HTTP
	// client requests, in seconds, one point per attempt.
	MetricHTTPDuration = "http.client.request.duration"
	// MetricCallDuration is the histogram of [Call] durations, in seconds.
	MetricCallDuration = "otelkit.dependency.duration"
)

// instruments are the tracer and histograms of one configuration.
type instruments struct {
	tracer  trace.Tracer
	httpDur metric.Float64Histogram
	callDur metric.Float64Histogram
}

func newInstruments(tp trace.TracerProvider, mp metric.MeterProvider) *instruments {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	in := &instruments{tracer: tp.Tracer(ScopeName)}
	m := mp.Meter(ScopeName)
	var err error
	in.httpDur, err = m.Float64Histogram(MetricHTTPDuration,
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(httpconv.DurationBuckets()...))
	if err != nil {
		otel.Handle(fmt.Errorf("deps: %s: %w", MetricHTTPDuration, err))
		in.httpDur = noop.Float64Histogram{}
	}
	in.callDur, err = m.Float64Histogram(MetricCallDuration,
		metric.WithDescription("Duration of calls to dependencies made through deps.Call."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(httpconv.DurationBuckets()...))
	if err != nil {
		otel.Handle(fmt.Errorf("deps: %s: %w", MetricCallDuration, err))
		in.callDur = noop.Float64Histogram{}
	}
	return in
}

// globalInstruments follow the global providers, which delegate to the
// providers set later, so they are made once.
var globalInstruments = sync.OnceValue(func() *instruments { return newInstruments(nil, nil) })

// instruments returns the instruments of c. The global ones are shared;
// others are made per call of Step and Call (the SDKs cache them).
func (c *config) instruments() *instruments {
	if c.tp == nil && c.mp == nil {
		return globalInstruments()
	}
	return newInstruments(c.tp, c.mp)
}

func (c *config) propagator() propagation.TextMapPropagator {
	if c.prop != nil {
		return c.prop
	}
	return otel.GetTextMapPropagator()
}

// namedDefault remembers the default logger named LoggerName, for as long
// as slog.Default() keeps the same logbridge handler.
type namedDefault struct {
	base slog.Handler
	l    *slog.Logger
}

var lastDefault atomic.Pointer[namedDefault]

// defaultPolicy redacts when neither WithRedaction nor slog's default
// handler names a policy. A Policy is immutable, so sharing one is safe.
var defaultPolicy = redact.New()

// policy returns the redaction policy: WithRedaction's, else that of the
// logbridge handler behind slog.Default() (so the policy Setup built from
// its configuration applies without wiring), else the default policy.
// Redaction of URLs and errors never turns off.
func (c *config) policy() *redact.Policy {
	if c.redact != nil {
		return c.redact
	}
	if h, ok := slog.Default().Handler().(*logbridge.Handler); ok {
		if p := h.Redaction(); p != nil {
			return p
		}
	}
	return defaultPolicy
}

// log returns the logger of records.
func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	l := slog.Default()
	h, ok := l.Handler().(*logbridge.Handler)
	if !ok || h.Name() != "" {
		return l
	}
	if nd := lastDefault.Load(); nd != nil && nd.base == slog.Handler(h) {
		return nd.l
	}
	nd := &namedDefault{base: h, l: slog.New(h.Named(LoggerName))}
	lastDefault.Store(nd)
	return nd.l
}

// handle writes one record to h, which has said it is enabled.
func handle(ctx context.Context, h slog.Handler, level slog.Level, msg string, attrs []slog.Attr) {
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

// handleRedacted writes one record at t whose values the caller redacted
// itself (URLs and error texts through the policy) or that cannot carry
// secrets, skipping logbridge's second redaction pass over them.
func handleRedacted(ctx context.Context, h slog.Handler, t time.Time, level slog.Level, msg string, attrs []slog.Attr) {
	rec := slog.NewRecord(t, level, msg, 0)
	rec.AddAttrs(attrs...)
	_ = logbridge.HandleRedacted(ctx, h, rec)
}

// guard reports a panic of the instrumentation path through otel.Handle
// instead of letting it reach the caller. Use it deferred.
func guard(what string) {
	if r := recover(); r != nil {
		otel.Handle(fmt.Errorf("deps: panic in %s: %v", what, r))
	}
}

// millis returns d in milliseconds, rounded to the microsecond, as the
// duration_ms field of every otelkit record.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
