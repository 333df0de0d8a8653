package routers

import (
	"io"
	"net/http"
	"testing"

	"github.com/gorilla/mux"
	"github.com/otelkit/otelkit/httpmw"
)

// gorillaRoute reports gorilla/mux's matched path template to httpmw.
var gorillaRoute = httpmw.RouteMiddleware(func(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		t, _ := route.GetPathTemplate()
		return t
	}
	return ""
})

func TestGorillaMux(t *testing.T) {
	r := mux.NewRouter()
	r.Use(gorillaRoute)
	r.HandleFunc("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, mux.Vars(r)["id"])
	}).Methods(http.MethodGet)
	api := r.PathPrefix("/api").Subrouter()
	api.HandleFunc("/users/{user:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {}).Methods(http.MethodGet)
	r.HandleFunc("/panic/{id}", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := newHarness(t, r)

	for _, p := range []string{"/orders/1", "/orders/2", "/orders/3"} {
		if rec := h.get(p); rec.Code != 200 || rec.Body.String() != p[len("/orders/"):] {
			t.Fatalf("%s: %d %q", p, rec.Code, rec.Body.String())
		}
	}
	h.get("/api/users/9")
	h.get("/api/users/8")
	if rec := h.get("/panic/1"); rec.Code != 500 {
		t.Errorf("panic: %d", rec.Code)
	}
	if rec := h.get("/missing/1"); rec.Code != 404 {
		t.Errorf("missing: %d", rec.Code)
	}
	h.check(
		map[string]int{"GET /orders/{id}": 3, "GET /api/users/{user:[0-9]+}": 2, "GET /panic/{id}": 1, "GET": 1},
		map[string]int{"/orders/{id}": 3, "/api/users/{user:[0-9]+}": 2, "/panic/{id}": 1, "": 1},
	)
}
