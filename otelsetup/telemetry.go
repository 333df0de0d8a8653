package otelsetup

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

// DefaultShutdownTimeout bounds [Telemetry.Shutdown] and
// [Telemetry.ForceFlush] when their context has no deadline.
const DefaultShutdownTimeout = 5 * time.Second

// Telemetry is what [Setup] built: the three providers, the slog handler and
// everything that must be flushed and stopped at exit. Its methods are safe
// for concurrent use.
type Telemetry struct {
	tp       trace.TracerProvider
	mp       metric.MeterProvider
	lp       log.LoggerProvider
	uniqueLP *sdklog.LoggerProvider // lp's twin for records with unique keys (logbridge.SinkUniqueKeys)
	handler  *logbridge.Handler
	logger   *slog.Logger
	metrics  http.Handler
	sampling *sampling.Policy
	redact   *redact.Policy
	cfg      *config

	flushers   []func(context.Context) error
	shutdowns  []func(context.Context) error // run in parallel
	finals     []func() error                // run after them, in order
	aborts     []abortable
	admissions []*admission
	httpClient *http.Client // of the OTLP/HTTP exporters
	reporter   *dropReporter

	once        sync.Once
	shutdownErr error
}

// TracerProvider returns the tracer provider (a no-op one when the SDK is
// disabled or traces are off).
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// MeterProvider returns the meter provider.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.mp }

// LoggerProvider returns the OpenTelemetry logger provider behind the
// OTLP sink of the slog handler.
func (t *Telemetry) LoggerProvider() log.LoggerProvider { return t.lp }

// Handler returns the slog handler that Setup built (and installed as
// slog's default unless [WithoutGlobals]).
func (t *Telemetry) Handler() *logbridge.Handler { return t.handler }

// Logger returns a logger named name; see [logbridge.Handler.Logger].
func (t *Telemetry) Logger(name string) *slog.Logger { return t.handler.Logger(name) }

// MetricsHandler serves metrics in Prometheus' text format when the
// metrics exporter is "prometheus", and answers 404 otherwise. Mount it
// where the scraper expects it, such as /metrics.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.metrics == nil {
		return http.NotFoundHandler()
	}
	return t.metrics
}

// Sampling returns the per-request sampling policy (trusted debug header,
// ratio sampling, tail buffers) that the log handler and the trace sampler
// use; give the same policy to httpmw. It is nil when the SDK is disabled.
func (t *Telemetry) Sampling() *sampling.Policy { return t.sampling }

// Redaction returns the redaction policy applied to logs and spans; give
// the same policy to httpmw and deps. It is nil when redaction is disabled
// (OTELKIT_REDACT_DISABLED) or the SDK is.
func (t *Telemetry) Redaction() *redact.Policy { return t.redact }

// Setting is one resolved configuration value and where it came from.
type Setting struct {
	Key    string // key in the configuration file, such as "exporter.endpoint"
	Env    string // environment variable, such as "OTEL_EXPORTER_OTLP_ENDPOINT"
	Value  string // the value, with secrets masked
	Source Source
}

// Settings returns the effective configuration, as the start-up record
// shows it.
func (t *Telemetry) Settings() []Setting {
	out := make([]Setting, 0, len(settings))
	for _, s := range settings {
		out = append(out, Setting{Key: s.key, Env: s.env, Value: s.show(t.cfg), Source: t.cfg.sourceOf(s.key)})
	}
	return out
}

// ForceFlush exports everything buffered so far, bounded by ctx (or by
// [DefaultShutdownTimeout] when ctx has no deadline).
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	ctx, cancel := withDefaultDeadline(ctx)
	defer cancel()
	return runParallel(ctx, t.flushers)
}

// Shutdown flushes and stops the three signals in parallel, bounded by ctx
// (or by [DefaultShutdownTimeout] when ctx has no deadline), drains the
// asynchronous log sinks and closes the log files within the same
// deadline, and gives the globals back. Exports still running when the
// deadline passes are cancelled; records still queued in an asynchronous
// sink (LOG_ASYNC_QUEUE) whose writer has not taken them are dropped,
// counted and reported on the error output. It returns the joined errors;
// calling it again returns the same result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		ctx, cancel := withDefaultDeadline(ctx)
		defer cancel()
		stop := context.AfterFunc(ctx, t.abort)
		defer stop()
		errs := []error{runParallel(ctx, t.shutdowns)}
		if t.handler != nil {
			// Drain the asynchronous log sinks and close the files within
			// the same deadline: a console or file whose Write blocks must
			// not hold Shutdown. Records still queued at the deadline are
			// counted and reported.
			errs = append(errs, t.handler.CloseContext(ctx))
		}
		for _, f := range t.finals {
			errs = append(errs, f())
		}
		t.abort()
		for _, a := range t.admissions {
			a.close()
		}
		if t.reporter != nil {
			t.reporter.report()
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}

func (t *Telemetry) abort() {
	for _, a := range t.aborts {
		a.cancel()
	}
}

func withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultShutdownTimeout)
}

func runParallel(ctx context.Context, fs []func(context.Context) error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
