package otelsetup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// refuseMarked exports ints, refusing (gRPC InvalidArgument) any batch that
// holds a negative one, and records what it accepted and how many requests
// it got.
type refuseMarked struct {
	mu       sync.Mutex
	accepted []int
	requests int
}

func (r *refuseMarked) export(_ context.Context, items []int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if slices.ContainsFunc(items, func(i int) bool { return i < 0 }) {
		return status.Error(codes.InvalidArgument, "bad item")
	}
	r.accepted = append(r.accepted, items...)
	return nil
}

func TestExportSplittingLosesOnlyTheRefused(t *testing.T) {
	for _, tc := range []struct {
		name         string
		n            int
		bad          []int
		wantRequests int // at most
	}{
		{"one bad of 16", 16, []int{5}, 2*4 + 1},
		{"one bad of 512", 512, []int{300}, 2*9 + 1},
		{"two bad of 100", 100, []int{0, 99}, 4*7 + 1},
		{"all bad of 16", 16, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 2*16 - 1},
		{"all bad of 512", 512, nil, 2*512 - 1},
		{"none bad", 64, []int{}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := make([]int, tc.n)
			for i := range items {
				items[i] = i + 1
			}
			bad := tc.bad
			if bad == nil { // all
				bad = make([]int, tc.n)
				for i := range bad {
					bad[i] = i
				}
			}
			for _, b := range bad {
				items[b] = -items[b]
			}
			var r refuseMarked
			res := exportSplitting(context.Background(), items, countItems, r.export)
			if res.rejected != int64(len(bad)) || res.failed != 0 {
				t.Errorf("rejected %d, failed %d; want %d rejected", res.rejected, res.failed, len(bad))
			}
			if got, want := len(r.accepted), tc.n-len(bad); got != want {
				t.Errorf("%d items accepted, want %d", got, want)
			}
			if r.requests > tc.wantRequests {
				t.Errorf("%d requests, the bound is %d", r.requests, tc.wantRequests)
			}
			if (len(bad) > 0) != (res.err != nil) {
				t.Errorf("error %v with %d refused", res.err, len(bad))
			}
		})
	}
}

// TestExportSplittingDoesNotSplitOtherFailures: a failure that splitting
// cannot mend (authentication, throttling, the collector down) costs one
// request and is counted failed, not rejected.
func TestExportSplittingDoesNotSplitOtherFailures(t *testing.T) {
	for _, err := range []error{
		status.Error(codes.Unauthenticated, "no"),
		status.Error(codes.PermissionDenied, "no"),
		errors.New("failed to send to http://127.0.0.1:4318/v1/traces: 401 Unauthorized (body: no)"),
		errors.New("failed to send logs to http://127.0.0.1:4318/v1/logs: 404 Not Found (body: (empty))"),
		context.DeadlineExceeded,
	} {
		calls := 0
		res := exportSplitting(context.Background(), make([]int, 8), countItems, func(context.Context, []int) error {
			calls++
			return err
		})
		if calls != 1 || res.failed != 8 || res.rejected != 0 {
			t.Errorf("%v: %d calls, failed %d, rejected %d; want 1 call, 8 failed", err, calls, res.failed, res.rejected)
		}
	}
}

func TestRefusedForContent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("traces export: failed to send to http://127.0.0.1:1/v1/traces: 400 Bad Request (body: bad)"), true},
		{errors.New("failed to send metrics to http://127.0.0.1:1/v1/metrics: 413 Request Entity Too Large (body: x)"), true},
		{errors.New("failed to send logs to http://127.0.0.1:1/v1/logs: 403 Forbidden (body: x)"), false},
		{errors.New("failed to send logs to http://127.0.0.1:1/v1/logs: 415 Unsupported Media Type (body: x)"), false},
		{status.Error(codes.InvalidArgument, "x"), true},
		{fmt.Errorf("traces export: %w", status.Error(codes.Internal, "grpc: error while marshaling: string field contains invalid UTF-8")), true},
		{status.Error(codes.Internal, "boom"), false},
		{status.Error(codes.Unavailable, "x"), false},
		{errors.New("request body too large: exceeded 10 bytes"), true},
		{io.EOF, false},
	} {
		if got := refusedForContent(tc.err); got != tc.want {
			t.Errorf("refusedForContent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRetryResendsAfterABrokenConnectionOnce: a connection that broke after
// it was made (the request may have arrived) is sent again once; one that
// could not be made is retried until the context ends.
func TestRetryResendsAfterABrokenConnectionOnce(t *testing.T) {
	for _, err := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET,
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}} {
		calls := 0
		_ = retry(context.Background(), func() error { calls++; return err })
		if calls != 1+maxResends {
			t.Errorf("%v: %d attempts, want %d", err, calls, 1+maxResends)
		}
	}
	for _, err := range []error{syscall.ECONNREFUSED, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route")}} {
		ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
		calls := 0
		_ = retry(ctx, func() error { calls++; return err })
		cancel()
		// Waits of at least 50, 100, 200 and 400 ms: at most 5 attempts.
		if calls <= 1+maxResends || calls > 5 {
			t.Errorf("%v: %d attempts in 800 ms; a connection never made must be retried, with backoff, until the context ends", err, calls)
		}
	}
}

// countingExporters refuses, like a collector answering 400, every span and
// log batch that holds an item named "bad".
type refusingExporter struct {
	spans, records atomic.Int64
}

var errBadRequest = errors.New("failed to send to http://127.0.0.1:1/v1/traces: 400 Bad Request (body: bad item)")

func (e *refusingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if slices.ContainsFunc(spans, func(s sdktrace.ReadOnlySpan) bool { return s.Name() == "bad" }) {
		return errBadRequest
	}
	e.spans.Add(int64(len(spans)))
	return nil
}

func (e *refusingExporter) Export(_ context.Context, rs []sdklog.Record) error {
	if slices.ContainsFunc(rs, func(r sdklog.Record) bool { return r.Body().AsString() == "bad" }) {
		return errBadRequest
	}
	e.records.Add(int64(len(rs)))
	return nil
}

func (e *refusingExporter) Shutdown(context.Context) error   { return nil }
func (e *refusingExporter) ForceFlush(context.Context) error { return nil }

// TestRefusedItemCountedThroughSetup: through Setup, one refused span and
// one refused record in batches of 100 cost themselves only, counted
// rejected in otelkit.telemetry.dropped and on stderr.
func TestRefusedItemCountedThroughSetup(t *testing.T) {
	exp := &refusingExporter{}
	reader := sdkmetric.NewManualReader()
	var stderr closeTestBuffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithErrorOutput(&stderr), WithSpanExporter(exp), WithLogExporter(exp), WithMetricReader(reader),
		WithRuntimeMetrics(false), WithSetting("traces.batch.schedule_delay", "60000"), WithSetting("logs.batch.schedule_delay", "60000"))
	if err != nil {
		t.Fatal(err)
	}
	tracer, log := tel.TracerProvider().Tracer("t"), tel.Logger("app")
	for i := range 100 {
		name := "good"
		if i == 42 {
			name = "bad"
		}
		_, span := tracer.Start(context.Background(), name)
		span.End()
		log.Info(name)
	}
	err = tel.ForceFlush(context.Background())
	for _, want := range []string{"traces: otelsetup: 1 of a batch of 100 refused, the rest exported: ", "logs: otelsetup: 1 of a batch of 101 refused"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ForceFlush: %v; want it to say %q", err, want)
		}
	}
	if got := droppedBy(t, reader, "spans", reasonRejected); got != 1 {
		t.Errorf("spans counted rejected: %d, want 1", got)
	}
	if got := droppedBy(t, reader, "log records", reasonRejected); got != 1 {
		t.Errorf("log records counted rejected: %d, want 1", got)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exp.spans.Load() != 99 || exp.records.Load() != 100 { // 99 + the start-up record
		t.Errorf("delivered %d spans and %d records, want 99 and 100", exp.spans.Load(), exp.records.Load())
	}
	for _, want := range []string{"dropped 1 spans (refused by the exporter or collector as invalid", "dropped 1 log records (refused"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func droppedBy(t *testing.T, r *sdkmetric.ManualReader, signal, reason string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otelkit.telemetry.dropped" {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				s, _ := p.Attributes.Value("signal")
				r, _ := p.Attributes.Value("reason")
				if s.AsString() == signal && r.AsString() == reason {
					return p.Value
				}
			}
		}
	}
	return 0
}

// TestShutdownWithDoneContext: the natural defer tel.Shutdown(ctx) with a
// signal context already cancelled says so plainly, once, with what it
// lost, names each part in its errors once, and still closes the log file.
func TestShutdownWithDoneContext(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for name, ctx := range map[string]context.Context{"cancelled": cancelled, "deadline passed": expired} {
		t.Run(name, func(t *testing.T) { testShutdownWithDoneContext(t, ctx) })
	}
}

func testShutdownWithDoneContext(t *testing.T, ctx context.Context) {
	g := newGate() // the exporter never answers: records stay queued
	defer g.release()
	var stderr closeTestBuffer
	logFile := filepath.Join(t.TempDir(), "app.log")
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithErrorOutput(&stderr), WithSpanExporter(g), WithLogExporter(g), WithLogFile(logFile),
		WithMetricsExporter("console"), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		tel.Logger("app").Info("queued")
	}
	start := time.Now()
	err = tel.Shutdown(ctx)
	d := time.Since(start)
	t.Logf("Shutdown took %v", d)
	if d > time.Second {
		t.Errorf("Shutdown with a done context took %v", d)
	}
	if err == nil {
		t.Fatal("Shutdown with a done context lost records and returned nil")
	}
	msg := err.Error()
	t.Logf("error: %v\nstderr: %s", err, stderr.String())
	if !strings.Contains(msg, "context was already done before Shutdown") || !strings.Contains(msg, "11 log records") {
		t.Errorf("the error does not say the context was done before Shutdown and 11 records were lost: %v", err)
	}
	if n := strings.Count(msg, ctx.Err().Error()); n != 1 {
		t.Errorf("the error says %q %d times, want once: %v", ctx.Err(), n, err)
	}
	if again := tel.Shutdown(context.Background()); again != err {
		t.Errorf("a second Shutdown returned %v, want the first result", again)
	}
	for _, part := range []string{"traces", "metrics", "logs", "log sinks"} {
		if n := strings.Count(msg, "\n"+part+": "); n > 1 {
			t.Errorf("%q named %d times: %v", part, n, err)
		}
	}
	out := stderr.String()
	if !strings.Contains(out, "dropped 11 log records (not flushed: Shutdown's context was already done before Shutdown") {
		t.Errorf("stderr does not say why the records were lost:\n%s", out)
	}
	if strings.Contains(out, "deadline passed") {
		t.Errorf("stderr blames a deadline for a context done before Shutdown:\n%s", out)
	}
	// The file sink is synchronous: its records were written and the file
	// closed (removing and reading it works; the handle is gone).
	b, err := os.ReadFile(logFile)
	if err != nil || bytes.Count(b, []byte("queued")) != 10 {
		t.Errorf("log file: %d records, %v; want 10", bytes.Count(b, []byte("queued")), err)
	}
}

// TestShutdownErrorsNameTheirSignal: with a deadline that passes, each
// part's error names it once.
func TestShutdownErrorsNameTheirSignal(t *testing.T) {
	g := newGate()
	defer g.release()
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithErrorOutput(io.Discard), WithSpanExporter(g), WithLogExporter(g), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "op")
	span.End()
	tel.Logger("app").Info("queued")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = tel.Shutdown(ctx)
	if err == nil {
		t.Fatal("no error with hung exporters")
	}
	for _, part := range []string{"traces: ", "logs: "} {
		if n := strings.Count(err.Error(), part); n != 1 {
			t.Errorf("%q appears %d times in %v", part, n, err)
		}
	}
}

// slowMetricsServer answers OTLP/HTTP metric requests after release is
// closed (or the request is cancelled), and counts them.
type slowMetricsServer struct {
	entered   chan struct{}
	release   chan struct{}
	once      sync.Once
	completed atomic.Int64
	cancelled atomic.Int64
}

func (s *slowMetricsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		s.completed.Add(1)
		w.WriteHeader(http.StatusOK)
	case <-r.Context().Done():
		s.cancelled.Add(1)
	}
}

// TestShutdownDoesNotCancelInFlightMetricExport: Shutdown while a periodic
// metric export is in flight must neither cancel it nor report its points
// lost (the periodic reader's Shutdown cancelled it, then exported again:
// "dropped N metric points (export failed)" with "context canceled" at a
// clean Shutdown).
func TestShutdownDoesNotCancelInFlightMetricExport(t *testing.T) {
	srv := &slowMetricsServer{entered: make(chan struct{}), release: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var stderr closeTestBuffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithErrorOutput(&stderr), WithEndpoint(ts.URL), WithTracesExporter("none"), WithLogsExporter("none"),
		WithMetricsExporter("otlp"), WithMetricInterval(50*time.Millisecond), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tel.MeterProvider().Meter("t").Int64Counter("orders")
	c.Add(context.Background(), 1)
	select {
	case <-srv.entered: // a periodic export is in flight
	case <-time.After(10 * time.Second):
		t.Fatal("no periodic export within 10 s")
	}
	go func() {
		time.Sleep(200 * time.Millisecond) // Shutdown has begun
		close(srv.release)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if out := stderr.String(); strings.Contains(out, "dropped") || strings.Contains(out, "error") {
		t.Errorf("a clean Shutdown reported a loss:\n%s", out)
	}
	if n := srv.cancelled.Load(); n != 0 {
		t.Errorf("%d metric exports cancelled by Shutdown", n)
	}
	if n := srv.completed.Load(); n < 2 {
		t.Errorf("%d metric exports completed, want the in-flight one and the final one", n)
	}
}

// refusingMetricExporter refuses any export holding a metric named "bad",
// and records the metrics (scope/name) it took.
type refusingMetricExporter struct {
	sdkmetric.Exporter // nil: only Export is called
	took               []string
	requests           int
}

func (e *refusingMetricExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	e.requests++
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "bad" {
				return status.Error(codes.InvalidArgument, "bad metric")
			}
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			e.took = append(e.took, sm.Scope.Name+"/"+m.Name)
		}
	}
	return nil
}

// TestRefusedMetricCostsOnlyItself: a metric export refused for one metric
// is split by metric; the others arrive under their own scopes, and the
// refused metric's data points are counted rejected.
func TestRefusedMetricCostsOnlyItself(t *testing.T) {
	points := func(n int) metricdata.Sum[int64] {
		return metricdata.Sum[int64]{DataPoints: make([]metricdata.DataPoint[int64], n)}
	}
	rm := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{
		{Scope: instrumentation.Scope{Name: "a"}, Metrics: []metricdata.Metrics{{Name: "m1", Data: points(2)}, {Name: "bad", Data: points(3)}}},
		{Scope: instrumentation.Scope{Name: "b"}, Metrics: []metricdata.Metrics{{Name: "m2", Data: points(1)}, {Name: "m3", Data: points(4)}}},
	}}
	exp := &refusingMetricExporter{}
	rep := newDropReporter(io.Discard, time.Hour)
	drops := rep.counter("metric points")
	e := &countingMetricExporter{Exporter: exp, drops: drops, rep: rep, abort: newAbortable()}
	if err := e.Export(context.Background(), rm); err == nil || !strings.Contains(err.Error(), "3 of a batch of 10 refused") {
		t.Errorf("Export: %v; want it to say 3 of 10 points were refused", err)
	}
	slices.Sort(exp.took)
	if want := []string{"a/m1", "b/m2", "b/m3"}; !slices.Equal(exp.took, want) {
		t.Errorf("took %v, want %v", exp.took, want)
	}
	if got := drops.counts[reasonIndex(reasonRejected)].Load(); got != 3 {
		t.Errorf("%d points counted rejected, want 3", got)
	}
	if got := drops.counts[reasonIndex(reasonExportFailed)].Load(); got != 0 {
		t.Errorf("%d points counted export_failed, want 0", got)
	}
}
