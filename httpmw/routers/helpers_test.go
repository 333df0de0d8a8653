package routers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/logbridge"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// harness wraps a router in httpmw with in-memory telemetry.
type harness struct {
	t       *testing.T
	spans   *tracetest.SpanRecorder
	reader  *sdkmetric.ManualReader
	console *lockedBuffer
	handler http.Handler
}

func newHarness(t *testing.T, router http.Handler) *harness {
	h := &harness{t: t, spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), console: &lockedBuffer{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	lh := logbridge.NewHandler(logbridge.WithConsole(h.console), logbridge.WithMeterProvider(mp))
	t.Cleanup(func() {
		_ = lh.Close()
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	h.handler = httpmw.New(router, httpmw.WithTracerProvider(tp), httpmw.WithMeterProvider(mp),
		httpmw.WithLogger(slog.New(lh)))
	return h
}

func (h *harness) get(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// spanNames counts the ended spans by name.
func (h *harness) spanNames() map[string]int {
	out := map[string]int{}
	for _, s := range h.spans.Ended() {
		out[s.Name()]++
	}
	return out
}

// spanRoutes counts the http.route attributes of the ended spans.
func (h *harness) spanRoutes() map[string]int {
	out := map[string]int{}
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "http.route" {
				out[kv.Value.AsString()]++
			}
		}
	}
	return out
}

// metricRoutes returns the http.route values of http.server.request.duration.
func (h *harness) metricRoutes() map[string]uint64 {
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				v, _ := dp.Attributes.Value("http.route")
				out[v.AsString()] += dp.Count
			}
		}
	}
	return out
}

// completed returns the route fields of request_completed records.
func (h *harness) completed() map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(h.console.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.t.Fatal(err)
		}
		if m["event"] == httpmw.EventRequestCompleted {
			r, _ := m["route"].(string)
			out[r]++
		}
	}
	return out
}

// check asserts one series per route template.
func (h *harness) check(wantNames map[string]int, wantRoutes map[string]int) {
	h.t.Helper()
	if got := h.spanNames(); !equal(got, wantNames) {
		h.t.Errorf("span names %v, want %v", got, wantNames)
	}
	spanWant := map[string]int{}
	for r, n := range wantRoutes {
		if r != "" {
			spanWant[r] = n
		}
	}
	if got := h.spanRoutes(); !equal(got, spanWant) {
		h.t.Errorf("span http.route %v, want %v", got, spanWant)
	}
	metricWant := map[string]uint64{}
	for r, n := range wantRoutes {
		metricWant[r] = uint64(n)
	}
	if got := h.metricRoutes(); !equal(got, metricWant) {
		h.t.Errorf("metric http.route %v, want %v", got, metricWant)
	}
	if got := h.completed(); !equal(got, wantRoutes) {
		h.t.Errorf("request_completed routes %v, want %v", got, wantRoutes)
	}
}

func equal[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
