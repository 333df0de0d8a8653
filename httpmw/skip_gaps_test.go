package httpmw

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestSkippedPathStillTracedAndMetered: WithSkipPaths keeps a path's
// request_completed record off INFO (console and OTLP), but its requests
// still get a server span and metric points, as the option documents.
func TestSkippedPathStillTracedAndMetered(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("order")) })
	handler := h.wrap(mux, WithSkipPaths("/healthz"))
	serve(handler, get("/healthz"))
	serve(handler, get("/healthz"))
	serve(handler, get("/orders/1")) // not skipped: shows the records are written at all

	// Logs: only the request that is not skipped.
	recs := h.events(EventRequestCompleted)
	if len(recs) != 1 || recs[0]["path"] != "/orders/1" {
		t.Errorf("console request_completed records = %v, want only /orders/1", recs)
	}
	otlpPaths := map[string]int{}
	for _, r := range h.otlp.records() {
		var event, path string
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			switch string(kv.Key) {
			case FieldEvent:
				event = kv.Value.AsString()
			case FieldPath:
				path = kv.Value.AsString()
			}
			return true
		})
		if event == EventRequestCompleted {
			otlpPaths[path]++
		}
	}
	if len(otlpPaths) != 1 || otlpPaths["/orders/1"] != 1 {
		t.Errorf("OTLP request_completed records by path = %v, want only /orders/1", otlpPaths)
	}

	// Traces: a server span per request, skipped ones included.
	spansByRoute := map[string]int{}
	for _, s := range h.ended() {
		route, _ := spanAttr(s, "http.route")
		status, _ := spanAttr(s, "http.response.status_code")
		if status.AsInt64() != http.StatusOK {
			t.Errorf("span %q status %v", s.Name(), status.String())
		}
		spansByRoute[route.AsString()]++
		if route.AsString() == "/healthz" && s.Name() != "GET /healthz" {
			t.Errorf("skipped path's span named %q", s.Name())
		}
	}
	if spansByRoute["/healthz"] != 2 || spansByRoute["/orders/{id}"] != 1 {
		t.Errorf("spans by http.route = %v, want /healthz: 2, /orders/{id}: 1", spansByRoute)
	}

	// Metrics: the skipped requests are counted in the duration histogram
	// and the response size, under their route.
	rm := h.metrics()
	for _, name := range []string{MetricServerDuration, MetricServerResponseSize} {
		m := findMetric(rm, name)
		if m == nil {
			t.Errorf("no %s", name)
			continue
		}
		counts := map[string]uint64{}
		switch d := m.Data.(type) {
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				route, _ := p.Attributes.Value("http.route")
				counts[route.AsString()] += p.Count
			}
		case metricdata.Histogram[int64]:
			for _, p := range d.DataPoints {
				route, _ := p.Attributes.Value("http.route")
				counts[route.AsString()] += p.Count
			}
		default:
			t.Fatalf("%s: unexpected data %T", name, m.Data)
		}
		if counts["/healthz"] != 2 || counts["/orders/{id}"] != 1 {
			t.Errorf("%s counts by http.route = %v, want /healthz: 2, /orders/{id}: 1", name, counts)
		}
	}
}

// TestSkippedPathRecordAtDebug: the skipped record is demoted to DEBUG,
// not dropped: a DEBUG logger still gets it.
func TestSkippedPathRecordAtDebug(t *testing.T) {
	h := newHarness(t, logbridge.WithLevel(slog.LevelDebug))
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), WithSkipPaths("/healthz"))
	serve(handler, get("/healthz"))
	if rec := h.one(EventRequestCompleted); rec["level"] != "DEBUG" || rec["path"] != "/healthz" {
		t.Errorf("record = %v, want request_completed for /healthz at DEBUG", rec)
	}
}
