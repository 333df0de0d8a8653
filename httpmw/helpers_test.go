package httpmw

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lockedBuffer is a console sink the server goroutines write to while the
// test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// memLogs is an in-memory OTLP log exporter.
type memLogs struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (e *memLogs) Export(_ context.Context, rs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		e.recs = append(e.recs, r.Clone())
	}
	return nil
}
func (e *memLogs) Shutdown(context.Context) error   { return nil }
func (e *memLogs) ForceFlush(context.Context) error { return nil }

func (e *memLogs) records() []sdklog.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdklog.Record(nil), e.recs...)
}

// harness is a middleware wired to in-memory telemetry: spans, metrics, and
// logs through logbridge to a JSON console buffer and an OTLP exporter.
type harness struct {
	t       testing.TB
	spans   *tracetest.SpanRecorder
	tp      *sdktrace.TracerProvider
	reader  *sdkmetric.ManualReader
	mp      *sdkmetric.MeterProvider
	console *lockedBuffer
	otlp    *memLogs
	handler *logbridge.Handler
	logger  *slog.Logger
}

func newHarness(t testing.TB, opts ...logbridge.Option) *harness {
	t.Helper()
	h := &harness{t: t, spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(),
		console: &lockedBuffer{}, otlp: &memLogs{}}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(logbridge.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(h.otlp)))
	opts = append([]logbridge.Option{
		logbridge.WithConsole(h.console), logbridge.WithOTLP(lp),
		logbridge.WithMeterProvider(h.mp),
	}, opts...)
	h.handler = logbridge.NewHandler(opts...)
	h.logger = slog.New(h.handler)
	t.Cleanup(func() {
		_ = h.handler.Close()
		_ = lp.Shutdown(context.Background())
		_ = h.tp.Shutdown(context.Background())
		_ = h.mp.Shutdown(context.Background())
	})
	return h
}

// wrap returns next in the middleware, with the harness's telemetry.
func (h *harness) wrap(next http.Handler, opts ...Option) http.Handler {
	return New(next, append([]Option{
		WithLogger(h.logger), WithTracerProvider(h.tp), WithMeterProvider(h.mp),
	}, opts...)...)
}

// lines returns the console records as maps.
func (h *harness) lines() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(h.console.String()))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.t.Fatalf("console line is not JSON: %v: %q", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// events returns the console records whose event field is name.
func (h *harness) events(name string) []map[string]any {
	var out []map[string]any
	for _, l := range h.lines() {
		if l["event"] == name {
			out = append(out, l)
		}
	}
	return out
}

// one returns the single record of event name, failing otherwise.
func (h *harness) one(name string) map[string]any {
	h.t.Helper()
	ev := h.events(name)
	if len(ev) != 1 {
		h.t.Fatalf("want one %s record, got %d:\n%s", name, len(ev), h.console.String())
	}
	return ev[0]
}

func (h *harness) ended() []sdktrace.ReadOnlySpan { return h.spans.Ended() }

// metrics collects the metrics.
func (h *harness) metrics() metricdata.ResourceMetrics {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	return rm
}

// metric returns the named metric, or nil.
func findMetric(rm metricdata.ResourceMetrics, name string) *metricdata.Metrics {
	for _, sm := range rm.ScopeMetrics {
		for i := range sm.Metrics {
			if sm.Metrics[i].Name == name {
				return &sm.Metrics[i]
			}
		}
	}
	return nil
}

// spanAttr returns the value of key on s.
func spanAttr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	var v attribute.Value
	var found bool
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			v, found = kv.Value, true // the last one wins, as in export
		}
	}
	return v, found
}

// serve runs req through h in process.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(target string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	return req
}

func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
