package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Reasons telemetry is dropped.
const (
	reasonQueueFull    = "queue_full"
	reasonExportFailed = "export_failed"
	reasonShutdown     = "shutdown" // still queued or exporting when Shutdown's deadline passed
)

var reasons = []string{reasonQueueFull, reasonExportFailed, reasonShutdown}

// dropCounter counts what one signal lost, by reason.
type dropCounter struct {
	signal   string
	counts   [3]atomic.Int64 // by index in reasons
	reported [3]atomic.Int64 // totals already reported on stderr
	last     atomic.Int64    // unix nanoseconds of the signal's last report
}

func reasonIndex(reason string) int {
	for i, r := range reasons {
		if r == reason {
			return i
		}
	}
	return 0
}

// dropReporter owns the drop counters of the three signals. It reports on
// stderr at most once per interval for each signal (and once for export
// errors), from the goroutine that dropped something (no goroutine of its
// own), plus once at shutdown, and exposes the totals as the
// otelkit.telemetry.dropped metric.
type dropReporter struct {
	w        io.Writer
	interval time.Duration
	last     atomic.Int64 // unix nanoseconds of the last export-error report
	mu       sync.Mutex   // serialises reports
	signals  []*dropCounter
	errs     atomic.Int64 // export errors reported through otel.Handle
	lastErr  atomic.Value // string
}

func newDropReporter(w io.Writer, interval time.Duration) *dropReporter {
	return &dropReporter{w: w, interval: interval}
}

func (r *dropReporter) counter(signal string) *dropCounter {
	c := &dropCounter{signal: signal}
	r.signals = append(r.signals, c)
	return c
}

func (r *dropReporter) drop(c *dropCounter, reason string, n int64) {
	if n <= 0 {
		return
	}
	c.counts[reasonIndex(reason)].Add(n)
	if due(&c.last, r.interval) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.reportSignal(c)
	}
}

// due reports whether an interval has passed since *last, and if so claims
// the report by moving *last to now.
func due(last *atomic.Int64, interval time.Duration) bool {
	now := time.Now().UnixNano()
	l := last.Load()
	return now-l >= int64(interval) && last.CompareAndSwap(l, now)
}

// handleError is the OpenTelemetry error handler while Setup owns the
// globals: export errors are counted and reported with the drops instead of
// one stderr line each.
func (r *dropReporter) handleError(err error) {
	r.errs.Add(1)
	r.lastErr.Store(err.Error())
	if due(&r.last, r.interval) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.reportErrors()
	}
}

// report writes what was lost since the last report, if anything: all
// signals, as at shutdown.
func (r *dropReporter) report() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.signals {
		r.reportSignal(c)
	}
	r.reportErrors()
}

// reportSignal writes what c lost since its last report; r.mu is held.
func (r *dropReporter) reportSignal(c *dropCounter) {
	for i, reason := range reasons {
		total := c.counts[i].Load()
		if d := total - c.reported[i].Swap(total); d > 0 {
			fmt.Fprintf(r.w, "otelkit: dropped %d %s (%s; %d in all)\n", d, c.signal, reasonText[reason], total)
		}
	}
}

// reportErrors writes the export errors since the last report; r.mu is held.
func (r *dropReporter) reportErrors() {
	if n := r.errs.Swap(0); n > 0 {
		last, _ := r.lastErr.Load().(string)
		fmt.Fprintf(r.w, "otelkit: %d telemetry export error(s), last: %s\n", n, last)
	}
}

var reasonText = map[string]string{
	reasonQueueFull:    "export queue full",
	reasonExportFailed: "export failed",
	reasonShutdown:     "not exported when shutdown's deadline passed",
}

// register exposes the totals as an observable counter.
func (r *dropReporter) register(mp metric.MeterProvider) error {
	m := mp.Meter("github.com/otelkit/otelkit/otelsetup")
	_, err := m.Int64ObservableCounter("otelkit.telemetry.dropped",
		metric.WithDescription("Telemetry items dropped before reaching the exporter's destination, by signal and reason."),
		metric.WithUnit("{item}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, c := range r.signals {
				for i, reason := range reasons {
					o.Observe(c.counts[i].Load(), metric.WithAttributes(attribute.String("signal", c.signal), attribute.String("reason", reason)))
				}
			}
			return nil
		}))
	return err
}

// abortable lets Shutdown cancel exports still in flight once its deadline
// has passed, so no exporter goroutine outlives Shutdown by long.
type abortable struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newAbortable() abortable {
	ctx, cancel := context.WithCancel(context.Background())
	return abortable{ctx: ctx, cancel: cancel}
}

func (a abortable) wrap(ctx context.Context) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.ctx, cancel)
	return ctx, func() bool { cancel(); return stop() }
}

// admission bounds the items handed to a batch processor and not yet taken
// by its exporter. Keeping that count at or below the processor's own queue
// size means the processor never drops silently: every drop happens here,
// where it is counted. It also knows, at shutdown, how many items were
// never confirmed exported.
type admission struct {
	limit     int64
	inflight  atomic.Int64 // admitted, not yet taken by the exporter
	exporting atomic.Int64 // taken by the exporter, export not finished
	closed    atomic.Bool  // lost items already counted at shutdown
	drops     *dropCounter
	rep       *dropReporter
}

func (a *admission) admit() bool {
	if a.closed.Load() {
		a.rep.drop(a.drops, reasonShutdown, 1)
		return false
	}
	if a.inflight.Add(1) > a.limit {
		a.inflight.Add(-1)
		a.rep.drop(a.drops, reasonQueueFull, 1)
		return false
	}
	return true
}

// export runs one export of n items and counts a failure.
func (a *admission) export(n int, f func() error) error {
	a.inflight.Add(-int64(n))
	a.exporting.Add(int64(n))
	err := f()
	a.exporting.Add(-int64(n))
	if err != nil && !a.closed.Load() {
		a.rep.drop(a.drops, reasonExportFailed, int64(n))
	}
	return err
}

// close counts the items still queued or being exported as lost; failures
// of exports still running are not counted again.
func (a *admission) close() {
	if a.closed.Swap(true) {
		return
	}
	a.rep.drop(a.drops, reasonShutdown, a.inflight.Load()+a.exporting.Load())
}

// guardedSpanProcessor counts the spans its batch processor would drop.
type guardedSpanProcessor struct {
	sdktrace.SpanProcessor
	adm *admission
}

func (p *guardedSpanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() || !p.adm.admit() {
		return
	}
	p.SpanProcessor.OnEnd(s)
}

// countingSpanExporter releases admission and counts failed exports; its
// exports end when Shutdown aborts them.
type countingSpanExporter struct {
	sdktrace.SpanExporter
	adm   *admission
	abort abortable
}

func (e *countingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, done := e.abort.wrap(ctx)
	defer done()
	return e.adm.export(len(spans), func() error {
		return retry(ctx, func() error { return e.SpanExporter.ExportSpans(ctx, spans) })
	})
}

// countingLogExporter releases admission and the log queue's ring, and
// counts failed exports.
type countingLogExporter struct {
	sdklog.Exporter
	adm   *admission
	queue *logQueue
	abort abortable
}

func (e *countingLogExporter) Export(ctx context.Context, records []sdklog.Record) error {
	if len(records) == 0 {
		return nil
	}
	e.queue.taken(len(records))
	ctx, done := e.abort.wrap(ctx)
	defer done()
	return e.adm.export(len(records), func() error {
		return retry(ctx, func() error { return e.Exporter.Export(ctx, records) })
	})
}

// countingMetricExporter counts failed metric exports (in data points).
type countingMetricExporter struct {
	sdkmetric.Exporter
	drops *dropCounter
	rep   *dropReporter
	abort abortable
}

func (e *countingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	ctx, done := e.abort.wrap(ctx)
	defer done()
	err := retry(ctx, func() error { return e.Exporter.Export(ctx, rm) })
	if err != nil {
		n := 0
		for _, sm := range rm.ScopeMetrics {
			n += len(sm.Metrics)
		}
		e.rep.drop(e.drops, reasonExportFailed, int64(n))
	}
	return err
}

// retry calls export until it succeeds, fails with an error a retry cannot
// mend, or ctx ends (the export timeout, or Shutdown's deadline), with
// exponential backoff and jitter. The OTLP exporters retry throttling and
// 502/503/504 answers themselves, and gRPC an unavailable server; over
// HTTP they give up at once on a refused or reset connection, which is
// exactly what a collector that restarts looks like. Those are retried here.
func retry(ctx context.Context, export func() error) error {
	backoff := 100 * time.Millisecond
	for {
		err := export()
		if err == nil || !retryable(err) {
			return err
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// retryable reports whether err is a connection failure that a later
// attempt may not meet.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}
