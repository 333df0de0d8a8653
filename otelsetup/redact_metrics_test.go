package otelsetup

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Fake secrets of the metric tests: a key rule, a URL's userinfo and a
// value pattern.
const (
	metricSecretKey   = "FAKE-api-key-0123"
	metricSecretPW    = "FAKEpw"
	metricSecretToken = "ghp_FAKEabcdefghijklmnopqrstuvwxyz012345"
)

func secretMetricAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("api_key", metricSecretKey),
		attribute.String("url", "https://user:"+metricSecretPW+"@h.example/x"),
		attribute.String("note", metricSecretToken),
		attribute.String("route", "/orders"),
	}
}

func metricSecrets() []string { return []string{metricSecretKey, metricSecretPW, metricSecretToken} }

// allMetricAggregations builds one metric of each aggregation the SDK
// makes, each with a point of attrs whose exemplar has filtered attrs too
// (summaries have no exemplars), and a point with clean attributes.
func allMetricAggregations(attrs []attribute.KeyValue) *metricdata.ResourceMetrics {
	set, clean := attribute.NewSet(attrs...), attribute.NewSet(attribute.String("route", "/ok"))
	exI := []metricdata.Exemplar[int64]{{FilteredAttributes: attrs, Value: 1}}
	exF := []metricdata.Exemplar[float64]{{FilteredAttributes: attrs, Value: 1}}
	pI := []metricdata.DataPoint[int64]{{Attributes: set, Value: 1, Exemplars: exI}, {Attributes: clean, Value: 2}}
	pF := []metricdata.DataPoint[float64]{{Attributes: set, Value: 1, Exemplars: exF}, {Attributes: clean, Value: 2}}
	hI := []metricdata.HistogramDataPoint[int64]{{Attributes: set, Count: 1, Exemplars: exI}, {Attributes: clean, Count: 2}}
	hF := []metricdata.HistogramDataPoint[float64]{{Attributes: set, Count: 1, Exemplars: exF}, {Attributes: clean, Count: 2}}
	eI := []metricdata.ExponentialHistogramDataPoint[int64]{{Attributes: set, Count: 1, Exemplars: exI}, {Attributes: clean, Count: 2}}
	eF := []metricdata.ExponentialHistogramDataPoint[float64]{{Attributes: set, Count: 1, Exemplars: exF}, {Attributes: clean, Count: 2}}
	sm := []metricdata.SummaryDataPoint{{Attributes: set, Count: 1}, {Attributes: clean, Count: 2}}
	return &metricdata.ResourceMetrics{Resource: resource.Empty(), ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		{Name: "gauge.int", Data: metricdata.Gauge[int64]{DataPoints: pI}},
		{Name: "gauge.float", Data: metricdata.Gauge[float64]{DataPoints: pF}},
		{Name: "sum.int", Data: metricdata.Sum[int64]{DataPoints: pI}},
		{Name: "sum.float", Data: metricdata.Sum[float64]{DataPoints: pF}},
		{Name: "hist.int", Data: metricdata.Histogram[int64]{DataPoints: hI}},
		{Name: "hist.float", Data: metricdata.Histogram[float64]{DataPoints: hF}},
		{Name: "exp.int", Data: metricdata.ExponentialHistogram[int64]{DataPoints: eI}},
		{Name: "exp.float", Data: metricdata.ExponentialHistogram[float64]{DataPoints: eF}},
		{Name: "summary", Data: metricdata.Summary{DataPoints: sm}},
	}}}}
}

// pointAttributes lists the point attribute sets and the exemplars'
// filtered attributes of every aggregation, each type named explicitly
// (not through the code under test).
func pointAttributes(t *testing.T, a metricdata.Aggregation) ([]attribute.Set, [][]attribute.KeyValue) {
	t.Helper()
	var sets []attribute.Set
	var filtered [][]attribute.KeyValue
	switch d := a.(type) {
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.ExponentialHistogram[int64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.ExponentialHistogram[float64]:
		for _, p := range d.DataPoints {
			sets, filtered = append(sets, p.Attributes), append(filtered, exemplarAttrs(p.Exemplars)...)
		}
	case metricdata.Summary:
		for _, p := range d.DataPoints {
			sets = append(sets, p.Attributes)
		}
	default:
		t.Fatalf("aggregation %T not listed", a)
	}
	return sets, filtered
}

func kvText(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s,", kv.Key, kv.Value.Emit())
	}
	return b.String()
}

func TestMetricRedactorEveryAggregation(t *testing.T) {
	in := allMetricAggregations(secretMetricAttrs())
	snapshot := allMetricAggregations(secretMetricAttrs())
	r := newMetricRedactor(redact.New())
	out := r.rewrite(in)
	if !reflect.DeepEqual(in, snapshot) {
		t.Fatal("the input was modified")
	}
	for _, m := range out.ScopeMetrics[0].Metrics {
		sets, filtered := pointAttributes(t, m.Data)
		if len(sets) != 2 {
			t.Fatalf("%s: %d points", m.Name, len(sets))
		}
		if want := 1; m.Name != "summary" && len(filtered) != want {
			t.Fatalf("%s: %d exemplars", m.Name, len(filtered))
		}
		got := kvText(sets[0].ToSlice())
		for _, f := range filtered {
			got += " exemplar:" + kvText(f)
		}
		for _, s := range metricSecrets() {
			if strings.Contains(got, s) {
				t.Errorf("%s: secret %q exported: %s", m.Name, s, got)
			}
		}
		if !strings.Contains(got, "api_key=[REDACTED]") || !strings.Contains(got, "route=/orders") {
			t.Errorf("%s: not redacted as spans are: %s", m.Name, got)
		}
		if c := sets[1]; kvText(c.ToSlice()) != "route=/ok," {
			t.Errorf("%s: clean point changed: %s", m.Name, kvText(c.ToSlice()))
		}
	}
}

func TestMetricRedactorCleanNotCopied(t *testing.T) {
	in := allMetricAggregations([]attribute.KeyValue{attribute.String("route", "/a"), attribute.Int("status", 200)})
	r := newMetricRedactor(redact.New())
	for range 2 { // the second export finds every series in the cache
		if out := r.rewrite(in); out != in {
			t.Fatal("clean metrics were copied")
		}
	}
	if n := r.series.Len(); n != 2 {
		t.Errorf("%d sets kept, want 2", n)
	}
	// A clean export of kept series allocates only its pass.
	if a := testing.AllocsPerRun(100, func() { r.rewrite(in) }); a > 1 {
		t.Errorf("a clean export allocates %v times", a)
	}
}

// TestMetricRedactorCacheBounded exports more series than the cache
// keeps: the cache stops at its bound, and the series past it are still
// redacted.
func TestMetricRedactorCacheBounded(t *testing.T) {
	n := maxRedactedSeries + 100
	points := make([]metricdata.DataPoint[int64], n)
	for i := range points {
		points[i].Attributes = attribute.NewSet(attribute.String("api_key", metricSecretKey), attribute.Int("i", i))
	}
	in := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		{Name: "c", Data: metricdata.Sum[int64]{DataPoints: points}}}}}}
	r := newMetricRedactor(redact.New())
	for range 2 {
		out := r.rewrite(in)
		for i, p := range out.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64]).DataPoints {
			if v, _ := p.Attributes.Value("api_key"); v.AsString() != redact.Mask {
				t.Fatalf("point %d: api_key=%s", i, v.Emit())
			}
		}
	}
	if got := r.series.Len(); got != maxRedactedSeries {
		t.Errorf("%d sets kept, want the bound %d", got, maxRedactedSeries)
	}
}

// TestMetricRedactionCounted counts a series' redactions once while the
// series is kept, however often it is exported.
func TestMetricRedactionCounted(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	r := newMetricRedactor(redact.New(redact.WithMeterProvider(mp)))
	in := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		{Name: "c", Data: metricdata.Sum[int64]{DataPoints: []metricdata.DataPoint[int64]{
			{Attributes: attribute.NewSet(attribute.String("api_key", metricSecretKey))}}}}}}}}
	for range 3 {
		r.rewrite(in)
	}
	if got := redactCount(t, reader, "key"); got != 1 {
		t.Errorf("rule=key counted %d times, want 1", got)
	}
}

// redactCount reads otelkit.redact.count{rule} from reader.
func redactCount(t *testing.T, reader *sdkmetric.ManualReader, rule string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != redact.CounterName {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, _ := p.Attributes.Value("rule"); v.AsString() == rule {
					return p.Value
				}
			}
		}
	}
	return 0
}

// TestLateMeterProviderKeepsEarlyCounts counts before the provider is set
// (the resource's redactions at build) and after.
func TestLateMeterProviderKeepsEarlyCounts(t *testing.T) {
	late := &lateMeterProvider{}
	p := redact.New(redact.WithMeterProvider(late))
	p.KeyValue(attribute.String("password", "FAKEpw1"))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	late.set(mp)
	p.KeyValue(attribute.String("password", "FAKEpw2"))
	if got := redactCount(t, reader, "key"); got != 2 {
		t.Errorf("rule=key counted %d, want 2 (one before the provider was set)", got)
	}
}

// TestSetupRedactsMetricsConsole records secret attributes through Setup's
// console metric exporter; a secret in OTEL_RESOURCE_ATTRIBUTES is
// redacted too, and both are counted.
func TestSetupRedactsMetricsConsole(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deploy.token="+metricSecretToken)
	var console bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&console),
		WithTracesExporter("none"), WithLogsExporter("none"), WithMetricsExporter("console"), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tel.MeterProvider().Meter("app").Int64Counter("orders.created")
	c.Add(context.Background(), 1, metric.WithAttributes(secretMetricAttrs()...))
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := console.String()
	if !strings.Contains(out, "orders.created") {
		t.Fatalf("the metric was not printed:\n%s", out)
	}
	for _, s := range metricSecrets() {
		if strings.Contains(out, s) {
			t.Errorf("secret %q printed:\n%s", s, out)
		}
	}
	if !strings.Contains(out, redact.Mask) {
		t.Errorf("no %s printed:\n%s", redact.Mask, out)
	}
	if !strings.Contains(out, redact.CounterName) {
		t.Errorf("the redactions were not counted:\n%s", out)
	}
}

// TestSetupRedactsPrometheusScrape scrapes series with secret labels and a
// secret resource attribute (target_info) through OTEL_METRICS_EXPORTER=prometheus.
func TestSetupRedactsPrometheusScrape(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "prometheus")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "0")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deploy.token="+metricSecretToken)
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}),
		WithTracesExporter("none"), WithLogsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	m := tel.MeterProvider().Meter("app")
	c, _ := m.Int64Counter("orders.created")
	h, _ := m.Float64Histogram("orders.size")
	for i := range 3 {
		c.Add(context.Background(), 1, metric.WithAttributes(secretMetricAttrs()...))
		h.Record(context.Background(), float64(i), metric.WithAttributes(secretMetricAttrs()...))
	}
	for range 2 { // the second scrape comes from the cache
		rec := httptest.NewRecorder()
		tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.Contains(body, "orders_created") {
			t.Fatalf("scrape: %d\n%s", rec.Code, body)
		}
		for _, s := range metricSecrets() {
			if strings.Contains(body, s) {
				t.Errorf("secret %q in the scrape:\n%s", s, body)
			}
		}
		for _, want := range []string{`api_key="[REDACTED]"`, `note="[REDACTED]"`, `deploy_token="[REDACTED]"`, `route="/orders"`} {
			if !strings.Contains(body, want) {
				t.Errorf("scrape lacks %s:\n%s", want, body)
			}
		}
	}
}

// BenchmarkRedactedMetricExport is BenchmarkValidMetricExporter's export
// (100 clean points of 5 attributes) through redaction and the UTF-8
// pass, as Setup builds it (redactingMetricExporter instead of
// validMetricExporter), once the series are cached.
func BenchmarkRedactedMetricExport(b *testing.B) {
	rm := benchMetrics(b)
	exp := redactingMetricExporter{metricExporterFunc(func(*metricdata.ResourceMetrics) {}), newMetricRedactor(redact.New())}
	ctx := context.Background()
	_ = exp.Export(ctx, rm)
	b.ReportAllocs()
	for b.Loop() {
		_ = exp.Export(ctx, rm)
	}
}
