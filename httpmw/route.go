package httpmw

import (
	"context"
	"net/http"
	"strings"
)

// SetRoute records the route template matched for the request served with
// ctx, such as "/orders/{id}", for routers other than http.ServeMux (whose
// pattern the middleware reads itself). The route names the span ("GET
// /orders/{id}"), labels the HTTP server metrics (http.route) and is the
// route field of request_completed, so one template stays one series
// whatever the IDs in the path. A method prefix ("GET /orders/{id}") is
// dropped. The last call wins; outside a request served through [New] it
// does nothing. See [RouteMiddleware] for chi and gorilla/mux.
func SetRoute(ctx context.Context, route string) {
	if s := stateFrom(ctx); s != nil {
		route = routeOf(route)
		s.route.Store(&route)
	}
}

// Route returns the route recorded so far for the request served with ctx:
// the one set with [SetRoute], or "" before the router has matched.
// After the handler returns, the middleware also knows http.ServeMux's
// pattern; Route does not.
func Route(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil {
		if p := s.route.Load(); p != nil {
			return *p
		}
	}
	return ""
}

// RouteMiddleware returns a router middleware that reports the route
// template that route finds in the request the router passes down, with
// [SetRoute], once the handler has returned (or panicked). Install it
// inside the router, where the router's match is visible:
//
//	// chi
//	r.Use(httpmw.RouteMiddleware(func(r *http.Request) string {
//		return chi.RouteContext(r.Context()).RoutePattern()
//	}))
//	// gorilla/mux
//	r.Use(httpmw.RouteMiddleware(func(r *http.Request) string {
//		t, _ := mux.CurrentRoute(r).GetPathTemplate()
//		return t
//	}))
//
// An empty result leaves the route unset.
func RouteMiddleware(route func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if rt := route(r); rt != "" {
					SetRoute(r.Context(), rt)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// settleRoute decides the route of a served request: the one set with
// SetRoute, else the pattern http.ServeMux left in r. It hands the route to
// otelhttp through r.Pattern, which otelhttp reads after the handler to
// name the span and label the metrics.
func (m *middleware) settleRoute(r *http.Request, st *requestState) string {
	if p := st.route.Load(); p != nil && *p != "" {
		r.Pattern = *p
		return *p
	}
	return routeOf(r.Pattern)
}

// routeOf returns the path part of a pattern, as otelhttp does for
// http.route: "GET example.com/orders/{id}" gives "/orders/{id}".
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}
