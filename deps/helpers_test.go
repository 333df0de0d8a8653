package deps

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/logbridge/logtest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// harness collects what deps writes: records (through a real logbridge
// handler with its own redaction off, so only deps redacts), spans and
// metric points.
type harness struct {
	t      *testing.T
	rec    *logtest.Recorder
	exp    *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		rec:    logtest.New(t, logbridge.WithoutRedaction()),
		exp:    tracetest.NewInMemoryExporter(),
		reader: sdkmetric.NewManualReader(),
	}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.exp))
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = h.mp.Shutdown(context.Background())
	})
	return h
}

// opts are the options that send everything to the harness, then extra.
func (h *harness) opts(extra ...Option) []Option {
	return append([]Option{
		WithLogger(h.rec.Logger(LoggerName)),
		WithTracerProvider(h.tp),
		WithMeterProvider(h.mp),
		WithPropagators(propagation.TraceContext{}),
	}, extra...)
}

// client returns a deps client over base (nil: a transport of its own,
// closed at cleanup).
func (h *harness) client(name string, base http.RoundTripper, extra ...Option) *http.Client {
	h.t.Helper()
	if base == nil {
		tr := &http.Transport{}
		h.t.Cleanup(tr.CloseIdleConnections)
		base = tr
	}
	return NewClient(name, &http.Client{Transport: base}, h.opts(extra...)...)
}

// records returns the records of event.
func (h *harness) records(event string) []logtest.Entry {
	var out []logtest.Entry
	for _, e := range h.rec.Entries() {
		if e.Attrs[FieldEvent] == event {
			out = append(out, e)
		}
	}
	return out
}

// record returns the only record of event.
func (h *harness) record(event string) logtest.Entry {
	h.t.Helper()
	rs := h.records(event)
	if len(rs) != 1 {
		h.t.Fatalf("%d %s records, want 1:\n%s", len(rs), event, h.rec.Output())
	}
	return rs[0]
}

func (h *harness) spans() tracetest.SpanStubs { return h.exp.GetSpans() }

// span returns the only span.
func (h *harness) span() tracetest.SpanStub {
	h.t.Helper()
	s := h.spans()
	if len(s) != 1 {
		h.t.Fatalf("%d spans, want 1: %v", len(s), spanNames(s))
	}
	return s[0]
}

func spanNames(s tracetest.SpanStubs) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Name)
	}
	return out
}

// collect returns the metrics collected now.
func (h *harness) collect() metricdata.ResourceMetrics {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	return rm
}

// points returns the histogram points of the metric name.
func (h *harness) points(name string) []metricdata.HistogramDataPoint[float64] {
	h.t.Helper()
	rm := h.collect()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				h.t.Fatalf("%s is %T, want a float64 histogram", name, m.Data)
			}
			return hist.DataPoints
		}
	}
	return nil
}

// point returns the only histogram point of name.
func (h *harness) point(name string) metricdata.HistogramDataPoint[float64] {
	h.t.Helper()
	p := h.points(name)
	if len(p) != 1 {
		h.t.Fatalf("%d points of %s, want 1: %v", len(p), name, p)
	}
	return p[0]
}

// everything returns all that left deps as text: the log output, every
// span's name, attributes, status, events and links, and every metric
// point's attributes.
func (h *harness) everything() string {
	var b strings.Builder
	b.WriteString(h.rec.Output())
	for _, s := range h.spans() {
		fmt.Fprintf(&b, "\n%s %v %v %v %v", s.Name, attrMap(s.Attributes), s.Status, s.Events, s.Links)
	}
	rm := h.collect()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if hist, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, p := range hist.DataPoints {
					fmt.Fprintf(&b, "\n%s %v", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()))
				}
			}
		}
	}
	return b.String()
}

// attrMap returns attributes as a map of their emitted values.
func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func setMap(s attribute.Set) map[string]any { return attrMap(s.ToSlice()) }

// checkMap compares got and want exactly.
func checkMap(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if !maps.EqualFunc(got, want, func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Errorf("%s:\n got  %v\n want %v", what, sorted(got), sorted(want))
	}
}

func sorted(m map[string]any) string {
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v(%T) ", k, m[k], m[k])
	}
	return b.String()
}

// without returns a copy of m without keys.
func without(m map[string]any, keys ...string) map[string]any {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// wantMillis is duration_ms for the span's duration.
func wantMillis(s tracetest.SpanStub) float64 {
	return math.Round(float64(s.EndTime.Sub(s.StartTime))/1e3) / 1e3
}

// serve starts a 127.0.0.1 test server whose own errors are discarded.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// freePort returns an address on 127.0.0.1 that nothing listens at.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// hostPortOf splits a test server's URL.
func hostPortOf(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hostPort(req)
}

// get sends a GET with ctx through c and closes the body.
func get(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, nil
}

// staticRT is an in-memory RoundTripper.
type staticRT struct {
	status int
	err    error
}

func (s staticRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	if s.err != nil {
		return nil, s.err
	}
	return &http.Response{
		Status:     http.StatusText(s.status),
		StatusCode: s.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Content-Type": {"text/plain"}},
		Body:       http.NoBody,
		Request:    r,
	}, nil
}

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// logbridgeFields returns ctx with the request_id field httpmw sets.
func logbridgeFields(ctx context.Context, id string) context.Context {
	return logbridge.WithFields(ctx, slog.String("request_id", id))
}
