package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelmetric "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/otelsetup"
)

// Fake secrets of the metric and trace state canaries: a sensitive key's
// value, a URL's password, a token-shaped value (in a label, in the
// resource from OTEL_RESOURCE_ATTRIBUTES, in a trace state member) and a
// token used as an attribute key.
const (
	redactMetricAPIKey   = "FAKE-metric-api-key-0123"
	redactMetricPassword = "FAKEmetricpw"
	redactMetricToken    = "ghp_FAKEmetricFAKEmetricFAKEmetric0123"
	redactMetricResToken = "ghp_FAKEresourceFAKEresourceFAKEres0123"
	redactMetricKeyToken = "ghp_FAKEkeyFAKEkeyFAKEkeyFAKEkeyFAKE01"
	redactTraceStateTok  = "ghp_FAKEtracestateFAKEtracestateFAKE0"
)

func redactMetricSecrets() []string {
	return []string{redactMetricAPIKey, redactMetricPassword, redactMetricToken, redactMetricResToken}
}

func redactMetricAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("route", "/orders"),
		attribute.String("api_key", redactMetricAPIKey),
		attribute.String("url", "https://user:"+redactMetricPassword+"@db.example/x"),
		attribute.String("note", redactMetricToken),
		attribute.String(redactMetricKeyToken, "value-of-a-secret-key"),
	}
}

// redactAllowKeys is an instrument option with the SDK's (experimental,
// duck-typed) advisory attribute keys: measurements keep only these keys
// on the point, and the rest become the exemplars' filtered attributes, as
// with a View's AttributeFilter.
type redactAllowKeys struct {
	otelmetric.InstrumentOption
	keys []attribute.Key
}

func (o redactAllowKeys) AllowedKeys() []attribute.Key { return o.keys }

// TestRedactMetricsReachCollector records secret attributes on a counter
// and, inside a sampled span, on a histogram whose advisory keys move all
// but "route" to its exemplar's filtered attributes; the resource holds a
// token from OTEL_RESOURCE_ATTRIBUTES. What the Collector's receiver gets
// holds none of them.
func TestRedactMetricsReachCollector(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deploy.token="+redactMetricResToken)
			col := startCollector(t)
			tel := setup(t, append(opts(protocol, col.Endpoint(protocol), io.Discard),
				otelsetup.WithMetricInterval(100*time.Millisecond), otelsetup.WithLogsExporter("none"))...)
			m := tel.MeterProvider().Meter("e2e")
			c, err := m.Int64Counter("e2e.redact.orders")
			if err != nil {
				t.Fatal(err)
			}
			h, err := m.Float64Histogram("e2e.redact.latency", redactAllowKeys{otelmetric.WithUnit("s"), []attribute.Key{"route"}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, sp := tel.TracerProvider().Tracer("e2e").Start(context.Background(), "record")
			c.Add(ctx, 1, otelmetric.WithAttributes(redactMetricAttrs()...))
			h.Record(ctx, 0.25, otelmetric.WithAttributes(redactMetricAttrs()...))
			sp.End()
			col.waitMetrics(t, "e2e.redact.orders", "e2e.redact.latency")

			var all strings.Builder
			var exemplar map[string]any
			for _, md := range col.Metrics.AllMetrics() {
				b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
				if err != nil {
					t.Fatal(err)
				}
				all.Write(b)
				if e := redactExemplarAttrs(md, "e2e.redact.latency"); e != nil {
					exemplar = e
				}
			}
			got := all.String()
			for _, s := range redactMetricSecrets() {
				if strings.Contains(got, s) {
					t.Errorf("secret %q reached the collector", s)
				}
			}
			if !strings.Contains(got, `"[REDACTED]"`) {
				t.Error("no redacted value reached the collector")
			}
			if exemplar == nil {
				t.Fatal("the histogram's exemplar with filtered attributes did not arrive")
			}
			if exemplar["api_key"] != "[REDACTED]" || exemplar["note"] != "[REDACTED]" || exemplar["route"] != nil {
				t.Errorf("exemplar filtered attributes %v", exemplar)
			}
			if strings.Contains(got, redactMetricKeyToken) {
				t.Error("a token used as an attribute key reached the collector")
			}
			if exemplar["[REDACTED_KEY]"] != "[REDACTED]" {
				t.Errorf("exemplar filtered attributes %v, want the secret key as [REDACTED_KEY]", exemplar)
			}
		})
	}
}

// redactExemplarAttrs returns the filtered attributes of the first
// exemplar of the histogram named name in md, or nil.
func redactExemplarAttrs(md pmetric.Metrics, name string) map[string]any {
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				if m.Name() != name || m.Type() != pmetric.MetricTypeHistogram {
					continue
				}
				for _, p := range m.Histogram().DataPoints().All() {
					if p.Exemplars().Len() > 0 {
						return p.Exemplars().At(0).FilteredAttributes().AsRaw()
					}
				}
			}
		}
	}
	return nil
}

// TestRedactTraceStateReachesCollector sends a request whose tracestate
// header holds a token through httpmw: the server span reaches the
// collector with that member's value redacted and the others as sent,
// while the handler (and what it propagates downstream) still sees the
// trace state as it came.
func TestRedactTraceStateReachesCollector(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
	col := startCollector(t)
	tel := setup(t, append(opts(protoHTTP, col.Endpoint(protoHTTP), io.Discard), otelsetup.WithLogsExporter("none"))...)
	seen := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		seen <- trace.SpanContextFromContext(r.Context()).TraceState().String()
		_, _ = io.WriteString(w, "ok")
	})
	srv := startMiddlewareServer(t, tel, mux)
	t.Cleanup(srv.Close)

	sent := "vendor=" + redactTraceStateTok + ",dd=s:1;o:rum"
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/orders", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("tracestate", sent)
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := <-seen; got != sent {
		t.Errorf("the handler saw trace state %q, want it as sent, %q", got, sent)
	}
	flush(t, tel)
	col.waitSpans(t, 1)
	var states []string
	for _, td := range col.Traces.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					if s.Kind() == ptrace.SpanKindServer {
						states = append(states, s.TraceState().AsRaw())
					}
				}
			}
		}
	}
	if len(states) != 1 {
		t.Fatalf("%d server spans arrived", len(states))
	}
	if want := "vendor=[REDACTED],dd=s:1;o:rum"; states[0] != want {
		t.Errorf("server span trace state %q, want %q", states[0], want)
	}
}
