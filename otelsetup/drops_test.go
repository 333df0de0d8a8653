package otelsetup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// gate is an exporter that holds every export until opened, like a
// collector that stopped answering, and counts what it received.
type gate struct {
	open     chan struct{}
	once     sync.Once
	received atomic.Int64
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) ExportSpans(ctx context.Context, s []sdktrace.ReadOnlySpan) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	g.received.Add(int64(len(s)))
	return nil
}

func (g *gate) Export(ctx context.Context, rs []sdklog.Record) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	g.received.Add(int64(len(rs)))
	return nil
}

func (g *gate) Shutdown(context.Context) error   { return nil }
func (g *gate) ForceFlush(context.Context) error { return nil }

func droppedTotal(t *testing.T, r *sdkmetric.ManualReader, signal string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otelkit.telemetry.dropped" {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, _ := p.Attributes.Value(attribute.Key("signal")); v.AsString() == signal {
					n += p.Value
				}
			}
		}
	}
	return n
}

// TestDropsAreCountedNotSilent fills the queues while the exporter is
// stuck: what does not fit is counted exactly, reported on stderr once, and
// everything else is delivered once the exporter recovers.
func TestDropsAreCountedNotSilent(t *testing.T) {
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "10")
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5")
	t.Setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "10")
	t.Setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5")
	t.Setenv("OTELKIT_DROP_REPORT_INTERVAL", "1h")
	g := newGate()
	reader := sdkmetric.NewManualReader()
	var stderr bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}), WithErrorOutput(&stderr),
		WithSpanExporter(g), WithLogExporter(g), WithMetricReader(reader), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	tracer := tel.TracerProvider().Tracer("t")
	log := tel.Logger("app")
	start := time.Now()
	for i := range n {
		ctx, span := tracer.Start(context.Background(), "op")
		log.InfoContext(ctx, "record", "i", i)
		span.End()
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("logging with a stuck exporter took %v; it must not block", d)
	}
	spansDropped, logsDropped := droppedTotal(t, reader, "spans"), droppedTotal(t, reader, "log records")
	if spansDropped == 0 || logsDropped == 0 {
		t.Fatalf("dropped spans=%d logs=%d, want both > 0 with a queue of 10", spansDropped, logsDropped)
	}
	if got := strings.Count(stderr.String(), "otelkit: dropped"); got == 0 {
		t.Errorf("no stderr report of drops: %q", stderr.String())
	}
	if got := strings.Count(stderr.String(), "log records (export queue full"); got != 1 {
		t.Errorf("stderr reported log drops %d times within one interval, want once:\n%s", got, stderr.String())
	}
	g.release()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every span and record was either delivered or counted as dropped; the
	// start-up record is one more log record.
	if got := g.received.Load() + spansDropped + logsDropped; got != 2*n+1 {
		t.Errorf("delivered %d + dropped %d+%d = %d, want %d", g.received.Load(), spansDropped, logsDropped, got, 2*n+1)
	}
}

// TestBurstBeforeShutdownArrives logs 10,000 records right before
// Shutdown: with the default queue all of them are delivered.
func TestBurstBeforeShutdownArrives(t *testing.T) {
	g := newGate()
	g.release()
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
		WithLogExporter(g), WithTracesExporter("none"), WithMetricsExporter("none"), WithRuntimeMetrics(false), WithLogLevel(slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	log := tel.Logger("burst")
	for i := range 10000 {
		log.Info("burst", "i", i)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.received.Load(); got != 10001 { // + the start-up record
		t.Errorf("delivered %d records, want 10001", got)
	}
}

// TestShutdownBoundedWhenExportHangs: an exporter that never answers
// cannot hold Shutdown past its deadline, and its goroutines end.
func TestShutdownBoundedWhenExportHangs(t *testing.T) {
	g := newGate() // never released
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
		WithSpanExporter(g), WithLogExporter(g), WithRuntimeMetrics(false), WithErrorOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	tel.Logger("x").Info("stuck")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = tel.Shutdown(ctx)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %v with a 300ms deadline", d)
	}
}

func TestPrometheusHandler(t *testing.T) {
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
		WithPrometheus("127.0.0.1", 0), WithTracesExporter("none"), WithLogsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	c, _ := tel.MeterProvider().Meter("t").Int64Counter("orders.created")
	c.Add(context.Background(), 3)
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "orders_created_total") || !strings.Contains(body, "go_goroutine_count") {
		t.Errorf("metrics endpoint: %d\n%s", rec.Code, body)
	}
}

func TestPrometheusServer(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "prometheus")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
	port := freePort(t)
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_PORT", strconv.Itoa(port))
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}), WithTracesExporter("none"), WithLogsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// freePort returns a loopback port that was free a moment ago, taken below
// Linux's ephemeral range (32768-60999), where no outgoing connection of a
// test running in parallel can take it before Setup binds it.
func freePort(t *testing.T) int {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		return port
	}
	t.Fatal("no free loopback port")
	return 0
}

// TestExportErrorReportIsOneLine: an export error can quote a collector's
// answer, which anyone who can answer on the collector's port controls; the
// report on the error output stays one line with no raw control character.
func TestExportErrorReportIsOneLine(t *testing.T) {
	var out bytes.Buffer
	rep := newDropReporter(&out, time.Hour)
	rep.handleError(errors.New("failed to send: 400 (body: \"bad\r\notelkit: dropped 0 spans\x1b[31m\u2028\xff\")"))
	got := out.String()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("report is not one line: %q", got)
	}
	for _, raw := range []string{"\r", "\x1b", "\u2028", "\xff"} {
		if strings.Contains(got, raw) {
			t.Errorf("report holds raw %q: %q", raw, got)
		}
	}
}
