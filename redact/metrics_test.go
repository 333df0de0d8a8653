package redact

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func counts(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != CounterName {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is %T", m.Name, m.Data)
			}
			for _, dp := range sum.DataPoints {
				rule, _ := dp.Attributes.Value(attribute.Key("rule"))
				out[rule.AsString()] += dp.Value
			}
		}
	}
	return out
}

func TestCounter(t *testing.T) {
	r := sdkmetric.NewManualReader()
	p := New(WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))))
	p.String("password=a token=b " + fakeGitHub)
	p.URLString("https://u:p@h/?sig=x")
	p.String("nothing here")
	got := counts(t, r)
	want := map[string]int64{"key_value": 2, "github_token": 1, "url_userinfo": 1, "url_query": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("count[%s] = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// TestCounterGlobalLate checks that a policy built before the global
// MeterProvider is set still reports to it.
func TestCounterGlobalLate(t *testing.T) {
	p := New()
	r := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(r)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	p.String("password=a")
	if got := counts(t, r)["key_value"]; got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
}
