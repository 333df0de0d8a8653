package httpmw

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestAuthFailed(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.Handle("GET /admin/{page}", HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return Forbidden("admins only")
	}))
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	handler := h.wrap(mux)
	for range 3 {
		serve(handler, httpReq("POST", "/login"))
	}
	serve(handler, get("/admin/users"))
	serve(handler, get("/missing"))
	serve(handler, get("/"))

	events := h.events(EventAuthFailed)
	if len(events) != 4 {
		t.Fatalf("auth_failed records: %d", len(events))
	}
	for _, e := range events {
		if e["level"] != "WARN" || e["client_address"] != "192.0.2.1" || e["request_id"] == nil || e["route"] == "" {
			t.Errorf("record %v", e)
		}
	}
	m := findMetric(h.metrics(), MetricAuthFailures)
	if m == nil {
		t.Fatal("no counter")
	}
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		route, _ := dp.Attributes.Value("http.route")
		status, _ := dp.Attributes.Value("http.response.status_code")
		got[route.AsString()+" "+status.String()] = dp.Value
	}
	if len(got) != 2 || got["/login 401"] != 3 || got["/admin/{page} 403"] != 1 {
		t.Errorf("counter %v", got)
	}
}
