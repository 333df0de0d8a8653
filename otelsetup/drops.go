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

	"github.com/otelkit/otelkit/internal/escape"
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
	reasonRejected     = "rejected" // refused for what it holds: split out of its batch, or named in a partial success
	reasonShutdown     = "shutdown" // still queued or exporting when Shutdown's deadline passed, or when it began with its context done
)

var reasons = [...]string{reasonQueueFull, reasonExportFailed, reasonRejected, reasonShutdown}

// dropCounter counts what one signal lost, by reason.
type dropCounter struct {
	signal   string
	counts   [len(reasons)]atomic.Int64 // by index in reasons
	reported [len(reasons)]atomic.Int64 // totals already reported on stderr
	last     atomic.Int64               // unix nanoseconds of the signal's last report
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
	// doneBefore: Shutdown's context was done before it began, so what
	// it counts lost was never given a chance to be flushed.
	doneBefore atomic.Bool
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
			text := reasonText[reason]
			if reason == reasonShutdown && r.doneBefore.Load() {
				text = "not flushed: Shutdown's context was already done before Shutdown"
			}
			fmt.Fprintf(r.w, "otelkit: dropped %d %s (%s; %d in all)\n", d, c.signal, text, total)
		}
	}
}

// reportErrors writes the export errors since the last report; r.mu is held.
func (r *dropReporter) reportErrors() {
	if n := r.errs.Swap(0); n > 0 {
		// The error may quote a collector's answer: escaped, so it cannot
		// forge or split a line of the error output.
		last, _ := r.lastErr.Load().(string)
		fmt.Fprintf(r.w, "otelkit: %d telemetry export error(s), last: %s\n", n, escape.AppendTextMessage(nil, last))
	}
}

var reasonText = map[string]string{
	reasonQueueFull:    "export queue full",
	reasonExportFailed: "export failed",
	reasonRejected:     "refused by the exporter or collector as invalid",
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

// export runs one export of n items, through f, and counts what it lost.
func (a *admission) export(n int, f func() exportResult) error {
	a.inflight.Add(-int64(n))
	a.exporting.Add(int64(n))
	res := f()
	a.exporting.Add(-int64(n))
	if !a.closed.Load() {
		a.rep.drop(a.drops, reasonRejected, res.rejected)
		a.rep.drop(a.drops, reasonExportFailed, res.failed)
	}
	return res.err
}

// close counts the items still queued or being exported as lost, and
// returns their number; failures of exports still running are not counted
// again. Calls after the first count nothing.
func (a *admission) close() int64 {
	if a.closed.Swap(true) {
		return 0
	}
	n := a.inflight.Load() + a.exporting.Load()
	a.rep.drop(a.drops, reasonShutdown, n)
	return n
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
	return e.adm.export(len(spans), func() exportResult {
		return exportSplitting(ctx, spans, countItems, e.SpanExporter.ExportSpans)
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
	return e.adm.export(len(records), func() exportResult {
		return exportSplitting(ctx, records, countItems, e.Exporter.Export)
	})
}

// countingMetricExporter counts failed metric exports, in data points.
type countingMetricExporter struct {
	sdkmetric.Exporter
	drops *dropCounter
	rep   *dropReporter
	abort abortable
}

// Export exports rm, split by metric when it is refused for what it holds.
//
// The periodic reader's Shutdown cancels the context of an export still
// running, then collects and exports once more. The export does not follow
// that cancellation: it runs to its end, bounded by the reader's export
// timeout and by Telemetry.Shutdown's deadline (which aborts it). With
// cumulative temporality the final export would have carried its points
// again; with delta temporality they would be lost. Either way a cancelled
// export was a loss reported that Shutdown need not cause.
func (e *countingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	ctx, cancel := withoutCancelKeepDeadline(ctx)
	defer cancel()
	ctx, done := e.abort.wrap(ctx)
	defer done()
	units := metricUnits(rm)
	if len(units) == 0 {
		// Nothing was recorded: no request. (A Setup that fails after
		// building metrics shuts them down, and that final export would
		// otherwise wait on an endpoint that may not answer.)
		return nil
	}
	res := exportSplitting(ctx, units, countPoints, func(ctx context.Context, part []metricUnit) error {
		if len(part) == len(units) {
			return e.Exporter.Export(ctx, rm)
		}
		return e.Exporter.Export(ctx, resourceMetricsOf(rm, part))
	})
	e.rep.drop(e.drops, reasonRejected, res.rejected)
	e.rep.drop(e.drops, reasonExportFailed, res.failed)
	return res.err
}

// withoutCancelKeepDeadline returns a context that ctx's cancellation does
// not end, with ctx's deadline and values.
func withoutCancelKeepDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	ctx = context.WithoutCancel(ctx)
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline)
}

// maxResends is how many times retry sends one request again after a
// failure that may have come after the collector took it: the connection
// broke while the request was written or its answer awaited (a reset, an
// EOF). The collector may have accepted the batch, so each resend may be a
// copy; one resend bounds the copies of any item at two, yet still mends a
// connection that broke once.
const maxResends = 1

// retry calls export until it succeeds, fails with an error a retry cannot
// mend, or ctx ends (the export timeout, or Shutdown's deadline), with
// exponential backoff and jitter. The OTLP exporters retry throttling and
// 502/503/504 answers themselves, and gRPC an unavailable server; over
// HTTP they give up at once on a refused or reset connection, which is
// exactly what a collector that restarts looks like. Those are retried
// here: a connection that could not be made (nothing was sent) until ctx
// ends, one that broke after it was made at most maxResends times.
func retry(ctx context.Context, export func() error) error {
	backoff := 100 * time.Millisecond
	resends := 0
	for {
		err := export()
		switch {
		case err == nil:
			return nil
		case notSent(err):
		case mayHaveArrived(err) && resends < maxResends:
			resends++
		default:
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

// notSent reports whether err says the connection to the collector could
// not be made, so nothing of the request reached it.
func notSent(err error) bool {
	if isContextErr(err) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// mayHaveArrived reports whether err is a connection failure after the
// connection was made, which a later attempt may not meet but which may
// have come after the collector took the request.
func mayHaveArrived(err error) bool {
	if isContextErr(err) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
