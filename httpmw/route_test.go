package httpmw

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// routeValues returns the http.route values of the request duration
// metric's data points.
func routeValues(t *testing.T, h *harness) map[string]bool {
	t.Helper()
	m := findMetric(h.metrics(), "http.server.request.duration")
	if m == nil {
		t.Fatal("no http.server.request.duration")
	}
	out := make(map[string]bool)
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		v, _ := dp.Attributes.Value("http.route")
		out[v.AsString()] = true
	}
	return out
}

func TestRouteFromServeMux(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	api := http.NewServeMux()
	api.HandleFunc("GET /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/api/", api)
	handler := h.wrap(mux)

	for _, p := range []string{"/orders/1", "/orders/2", "/orders/abc-999", "/api/items/7", "/nope/1", "/nope/2"} {
		serve(handler, get(p))
	}

	names := map[string]int{}
	routes := map[string]int{}
	for _, s := range h.ended() {
		names[s.Name()]++
		if v, ok := spanAttr(s, "http.route"); ok {
			routes[v.AsString()]++
		}
	}
	wantNames := map[string]int{"GET /orders/{id}": 3, "GET /api/items/{id}": 1, "GET": 2}
	for n, c := range wantNames {
		if names[n] != c {
			t.Errorf("span name %q: %d, want %d (all: %v)", n, names[n], c, names)
		}
	}
	if len(routes) != 2 || routes["/orders/{id}"] != 3 || routes["/api/items/{id}"] != 1 {
		t.Errorf("span http.route values %v", routes)
	}
	got := routeValues(t, h)
	want := map[string]bool{"/orders/{id}": true, "/api/items/{id}": true, "": true}
	if len(got) != len(want) {
		t.Errorf("metric http.route values %v, want %v", got, want)
	}
	for r := range want {
		if !got[r] {
			t.Errorf("metric http.route %q missing (got %v)", r, got)
		}
	}
	for _, rec := range h.events(EventRequestCompleted) {
		if rec["path"] != "/nope/1" && rec["path"] != "/nope/2" && rec["route"] == "" {
			t.Errorf("request_completed without route: %v", rec)
		}
	}
}

// fakeRouter stands for chi or gorilla/mux: it matches on its own, serves
// a copy of the request with its own context, and reports the template
// through RouteMiddleware.
type fakeRouter struct{ routes map[string]string } // path -> template

type tplKey struct{}

func (f fakeRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tpl, ok := f.routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), tplKey{}, tpl))
	RouteMiddleware(func(r *http.Request) string {
		s, _ := r.Context().Value(tplKey{}).(string)
		return s
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, r)
}

func TestRouteFromOtherRouter(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(fakeRouter{routes: map[string]string{"/users/1": "/users/{id}", "/users/2": "/users/{id}"}})
	serve(handler, get("/users/1"))
	serve(handler, get("/users/2"))
	serve(handler, get("/other"))
	names := map[string]int{}
	for _, s := range h.ended() {
		names[s.Name()]++
	}
	if names["GET /users/{id}"] != 2 || names["GET"] != 1 {
		t.Errorf("span names %v", names)
	}
	got := routeValues(t, h)
	if !got["/users/{id}"] || len(got) != 2 {
		t.Errorf("metric routes %v", got)
	}
}

func TestSetRoute(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r.Context(), "POST /carts/{cart}/items")
		if got := Route(r.Context()); got != "/carts/{cart}/items" {
			t.Errorf("Route = %q", got)
		}
	}))
	serve(handler, httpReq("POST", "/carts/9/items"))
	s := h.ended()[0]
	if s.Name() != "POST /carts/{cart}/items" {
		t.Errorf("span name %q", s.Name())
	}
	if rec := h.one(EventRequestCompleted); rec["route"] != "/carts/{cart}/items" {
		t.Errorf("route %v", rec["route"])
	}
	// Outside the middleware it does nothing.
	SetRoute(context.Background(), "/x")
	if Route(context.Background()) != "" {
		t.Error("Route outside a request")
	}
}

func httpReq(method, target string) *http.Request {
	r := get(target)
	r.Method = method
	return r
}
