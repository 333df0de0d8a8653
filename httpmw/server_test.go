package httpmw

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

// TestServerSpanAttributes checks the server span: kind, name from the
// route, the request and response attributes of the semantic conventions,
// the trusted client address, the redacted path, and the request ID.
func TestServerSpanAttributes(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	req := httptest.NewRequest(http.MethodPost, "http://shop.example:8080/orders/42", strings.NewReader("hello"))
	req.RemoteAddr = "192.0.2.7:4711"
	req.Header.Set("User-Agent", "agent/1.0")
	req.Header.Set("X-Request-ID", "req-1")
	// A forwarding header from an untrusted peer must not set client.address.
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	serve(h.wrap(mux), req)

	spans := h.ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "POST /orders/{id}" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
	}
	want := map[string]any{
		"http.request.method":       "POST",
		"url.scheme":                "http",
		"server.address":            "shop.example",
		"server.port":               int64(8080),
		"url.path":                  "/orders/42",
		"network.peer.address":      "192.0.2.7",
		"network.peer.port":         int64(4711),
		"client.address":            "192.0.2.7",
		"user_agent.original":       "agent/1.0",
		"network.protocol.version":  "1.1",
		"request_id":                "req-1",
		"http.response.status_code": int64(201),
		"http.route":                "/orders/{id}",
		"http.request.body.size":    int64(5),
		"http.response.body.size":   int64(7),
	}
	for k, v := range want {
		got, ok := spanAttr(s, k)
		if !ok || got.AsInterface() != v {
			t.Errorf("%s = %v (%v), want %v", k, got.AsInterface(), ok, v)
		}
	}
	if _, ok := spanAttr(s, "error.type"); ok || s.Status().Code != codes.Unset {
		t.Errorf("a 201 is no error: status %v", s.Status())
	}
}

func TestServerSpanErrorAndParent(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	req := get("/x?token=abc")
	propagation.TraceContext{}.Inject(trace.ContextWithRemoteSpanContext(req.Context(), parent), propagation.HeaderCarrier(req.Header))
	// The global propagator is the no-op one unless set; the middleware
	// extracts with it, so set W3C trace context for this test.
	withPropagator(t, propagation.TraceContext{})
	serve(handler, req)

	s := h.ended()[0]
	if s.Parent().SpanID() != parent.SpanID() || s.SpanContext().TraceID() != parent.TraceID() {
		t.Errorf("parent %v trace %v", s.Parent().SpanID(), s.SpanContext().TraceID())
	}
	if s.Name() != "GET" {
		t.Errorf("name %q without a route", s.Name())
	}
	if v, _ := spanAttr(s, "error.type"); v.AsString() != "503" || s.Status().Code != codes.Error {
		t.Errorf("error.type %q status %v", v.AsString(), s.Status())
	}
}

func TestServerSpanRedactsPath(t *testing.T) {
	h := newHarness(t)
	secret := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dGhpc2lzYWZha2VzaWduYXR1cmVfX18"
	serve(h.wrap(http.NotFoundHandler()), get("/reset/"+secret))
	v, _ := spanAttr(h.ended()[0], "url.path")
	if strings.Contains(v.AsString(), secret) || !strings.HasPrefix(v.AsString(), "/reset/") {
		t.Errorf("url.path %q", v.AsString())
	}
}

// TestServerMetricsMatchOTelHTTP serves the same requests through the
// middleware and through otelhttp and compares the metric names, units and
// attribute keys: dashboards built for otelhttp keep working. server.address
// and server.port are left out on purpose (opt-in, and client-controlled).
func TestServerMetricsMatchOTelHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })

	ours, theirs := newHarness(t), newHarness(t)
	handlers := []http.Handler{
		ours.wrap(mux),
		otelhttp.NewHandler(mux, "server", otelhttp.WithTracerProvider(theirs.tp), otelhttp.WithMeterProvider(theirs.mp)),
	}
	for _, hd := range handlers {
		for _, p := range []string{"/items/1", "/items/2", "/fail"} {
			serve(hd, get("http://example.com"+p))
		}
	}
	keys := func(rm metricdata.ResourceMetrics, name string) (unit string, series map[string]bool) {
		m := findMetric(rm, name)
		if m == nil {
			t.Fatalf("no %s", name)
		}
		series = map[string]bool{}
		for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			var ks []string
			for _, kv := range dp.Attributes.ToSlice() {
				if kv.Key != "server.address" && kv.Key != "server.port" && kv.Key != "error.type" {
					ks = append(ks, string(kv.Key)+"="+kv.Value.String())
				}
			}
			series[strings.Join(ks, ",")+" n="+strconv.FormatUint(dp.Count, 10)] = true
		}
		return m.Unit, series
	}
	u1, s1 := keys(ours.metrics(), MetricServerDuration)
	u2, s2 := keys(theirs.metrics(), MetricServerDuration)
	if u1 != u2 || len(s1) != len(s2) {
		t.Fatalf("unit %q vs %q; series\n%v\nvs\n%v", u1, u2, s1, s2)
	}
	for k := range s2 {
		if !s1[k] {
			t.Errorf("otelhttp series %q missing; ours: %v", k, s1)
		}
	}
	// error.type is on the 5xx series only.
	m := findMetric(ours.metrics(), MetricServerDuration)
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		status, _ := dp.Attributes.Value("http.response.status_code")
		et, ok := dp.Attributes.Value("error.type")
		if (status.AsInt64() >= 500) != ok || (ok && et.AsString() != "500") {
			t.Errorf("status %d error.type %q", status.AsInt64(), et.AsString())
		}
	}
	if findMetric(ours.metrics(), MetricServerResponseSize) == nil {
		t.Error("no response size metric")
	}
}

// TestSeriesCacheBounded serves more distinct routes than the cache keeps:
// every request is still measured, with its own route.
func TestSeriesCacheBounded(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r.Context(), r.URL.Path)
	}))
	n := maxSeries + 50
	for i := range n {
		serve(handler, get("/r/"+strconv.Itoa(i)))
	}
	m := findMetric(h.metrics(), MetricServerDuration)
	if got := len(m.Data.(metricdata.Histogram[float64]).DataPoints); got != n {
		t.Errorf("%d series, want %d", got, n)
	}
	tel := handler.(*middleware).tel
	if got := tel.series.Len(); got != maxSeries {
		t.Errorf("cache holds %d, want %d", got, maxSeries)
	}
}

func TestSplitHostPort(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"":                  {"", -1},
		"example.com":       {"example.com", -1},
		"example.com:8080":  {"example.com", 8080},
		"example.com:":      {"example.com", -1},
		"example.com:http":  {"example.com", -1},
		"example.com:99999": {"example.com", -1},
		"example.com:0":     {"example.com", -1},
		"192.0.2.1:443":     {"192.0.2.1", 443},
		"[::1]:80":          {"::1", 80},
		"[::1]":             {"::1", -1},
		"::1":               {"::1", -1},
		"[::1":              {"", -1},
	} {
		h, p := splitHostPort(in)
		if h != want.host || p != want.port {
			t.Errorf("splitHostPort(%q) = %q, %d; want %q, %d", in, h, p, want.host, want.port)
		}
	}
}

func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"", "a:1", "[::1]:2", "::1", "[", "]:", "a:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, p := splitHostPort(s)
		if p != -1 && (p < 1 || p > 65535) {
			t.Fatalf("port %d", p)
		}
		if !strings.Contains(s, h) {
			t.Fatalf("host %q not in %q", h, s)
		}
	})
}

func TestErrorType(t *testing.T) {
	for status, want := range map[int]string{200: "", 404: "", 500: "500", 599: "599", 600: "_OTHER", 42: "_OTHER"} {
		if got := errorType(status); got != want {
			t.Errorf("errorType(%d) = %q, want %q", status, got, want)
		}
	}
}

// withPropagator sets the global propagator for the test.
func withPropagator(t *testing.T, p propagation.TextMapPropagator) {
	old := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(p)
	t.Cleanup(func() { otel.SetTextMapPropagator(old) })
}
