package routers

import (
	"io"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/otelkit/otelkit/httpmw"
)

// chiRoute reports chi's matched route template to httpmw.
var chiRoute = httpmw.RouteMiddleware(func(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		return rctx.RoutePattern()
	}
	return ""
})

func TestChi(t *testing.T) {
	r := chi.NewRouter()
	r.Use(chiRoute)
	r.Get("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, chi.URLParam(r, "id"))
	})
	r.Route("/api", func(r chi.Router) {
		r.Get("/users/{user}/carts/{cart}", func(w http.ResponseWriter, r *http.Request) {})
	})
	r.Get("/panic/{id}", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := newHarness(t, r)

	for _, p := range []string{"/orders/1", "/orders/2", "/orders/3"} {
		if rec := h.get(p); rec.Code != 200 || rec.Body.String() != p[len("/orders/"):] {
			t.Fatalf("%s: %d %q", p, rec.Code, rec.Body.String())
		}
	}
	h.get("/api/users/9/carts/4")
	h.get("/api/users/8/carts/5")
	if rec := h.get("/panic/1"); rec.Code != 500 {
		t.Errorf("panic: %d", rec.Code)
	}
	if rec := h.get("/missing/1"); rec.Code != 404 {
		t.Errorf("missing: %d", rec.Code)
	}
	h.check(
		map[string]int{"GET /orders/{id}": 3, "GET /api/users/{user}/carts/{cart}": 2, "GET /panic/{id}": 1, "GET": 1},
		map[string]int{"/orders/{id}": 3, "/api/users/{user}/carts/{cart}": 2, "/panic/{id}": 1, "": 1},
	)
}
