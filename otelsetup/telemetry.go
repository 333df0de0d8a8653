package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
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

// doneStopBound bounds stopping the providers when Shutdown's context was
// done before it began: their exports are cancelled, so stopping them
// waits on no network.
const doneStopBound = 250 * time.Millisecond

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

	flushers   []step
	shutdowns  []step         // run in parallel
	finals     []func() error // run after them, in order
	aborts     []abortable
	admissions []*admission
	otlpHTTP   *otlpTransports // of the OTLP/HTTP exporters
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
// [DefaultShutdownTimeout] when ctx has no deadline). Each joined error
// names its signal.
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
// counted and reported on the error output. It returns the joined errors,
// each naming its part (traces, metrics, logs, log sinks); calling it
// again returns the same result.
//
// A context already done when Shutdown is called, such as the signal
// context of main (defer tel.Shutdown(ctx) after signal.NotifyContext),
// leaves no time to flush: Shutdown then does only what needs no waiting.
// It stops the providers, cancels their exports, closes the log files
// (synchronous sinks have written every record already), and gives the
// globals back; the spans and log records not yet exported are counted
// lost (otelkit.telemetry.dropped{reason="shutdown"}) and the error and
// the report on the error output say that the context was done before
// Shutdown and how many were lost. To flush at exit, give Shutdown a
// context of its own:
//
//	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
//	defer cancel()
//	err := tel.Shutdown(ctx)
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		ctx, cancel := withDefaultDeadline(ctx)
		defer cancel()
		var errs []error
		stopCtx := ctx
		if ctx.Err() != nil {
			// Nothing can be flushed: count what is lost now, under its
			// true cause, and cancel every export. The providers still
			// have to stop (given a done context, they return at once and
			// leave their goroutines running): with their exports
			// cancelled, that takes no waiting on the network, and
			// doneStopBound bounds it.
			t.abort()
			errs = append(errs, t.doneBeforeShutdown(ctx))
			var cancel context.CancelFunc
			stopCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), doneStopBound)
			defer cancel()
		}
		stop := context.AfterFunc(ctx, t.abort)
		defer stop()
		steps := t.shutdowns
		if stopCtx != ctx {
			steps = withoutContextErrors(steps)
		}
		errs = append(errs, runParallel(stopCtx, steps))
		if t.handler != nil {
			// Drain the asynchronous log sinks and close the files within
			// the same deadline: a console or file whose Write blocks must
			// not hold Shutdown. Records still queued at the deadline are
			// counted and reported.
			errs = append(errs, named("log sinks", t.handler.CloseContext(ctx)))
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

// doneBeforeShutdown counts what is lost when Shutdown's context is done
// before it starts, and says so in one error.
func (t *Telemetry) doneBeforeShutdown(ctx context.Context) error {
	if t.reporter != nil {
		t.reporter.doneBefore.Store(true)
	}
	var lost []string
	for _, a := range t.admissions {
		if n := a.close(); n > 0 {
			lost = append(lost, fmt.Sprintf("%d %s", n, a.drops.signal))
		}
	}
	what := "nothing was queued"
	if len(lost) > 0 {
		what = strings.Join(lost, " and ") + " not exported"
	}
	return fmt.Errorf("otelsetup: Shutdown's context was already done before Shutdown (%w): nothing was flushed, %s; "+
		"give Shutdown a context of its own, such as context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)",
		context.Cause(ctx), what)
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

// step is one part of ForceFlush or Shutdown, named in its error.
type step struct {
	name string
	run  func(context.Context) error
}

// runParallel runs steps in parallel and joins their errors, each named.
func runParallel(ctx context.Context, steps []step) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = named(s.name, s.run(ctx))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// named prefixes err with the part of Telemetry it comes from.
func named(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// withoutContextErrors returns steps whose errors are left out when they
// are nothing but cancellations: once Shutdown found its context done, its
// error says so once, and the cancelled exports only repeat it.
func withoutContextErrors(steps []step) []step {
	out := make([]step, len(steps))
	for i, s := range steps {
		out[i] = step{s.name, func(ctx context.Context) error {
			if err := s.run(ctx); !onlyContextErrors(err) {
				return err
			}
			return nil
		}}
	}
	return out
}

// onlyContextErrors reports whether every error err joins or wraps is a
// context's cancellation or deadline.
func onlyContextErrors(err error) bool {
	switch e := err.(type) {
	case nil:
		return true
	case interface{ Unwrap() []error }:
		for _, sub := range e.Unwrap() {
			if !onlyContextErrors(sub) {
				return false
			}
		}
		return true
	}
	return isContextErr(err)
}
