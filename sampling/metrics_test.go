package sampling_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/sampling"
)

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	p := mustNew(t,
		sampling.WithMeterProvider(mp),
		sampling.WithLogger(discardLogger()),
		sampling.WithTailBuffer(2, 0),
		sampling.WithNoisyEvery(2),
	)
	p.Start(newRequest("203.0.113.9:1", http.Header{"X-Debug-Log": {"1"}}))
	for range 4 {
		p.KeepNoisy(context.Background(), "k", slog.LevelInfo)
	}
	for _, status := range []int{200, 500} {
		ctx, req := p.StartContext(context.Background())
		for range 3 {
			req.Hold(ctx, slog.NewRecord(time.Now(), slog.LevelDebug, "m", 0), &capture{})
		}
		_ = req.Finish(status, 0, false)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s: %T", m.Name, m.Data)
			}
			for _, dp := range sum.DataPoints {
				key := m.Name
				for _, kv := range dp.Attributes.ToSlice() {
					key += " " + string(kv.Key) + "=" + kv.Value.String()
				}
				got[key] += dp.Value
			}
		}
	}
	want := map[string]int64{
		"otelkit.sampling.debug.requests reason=untrusted_peer trusted=false": 1,
		"otelkit.sampling.noisy.dropped":                                      2,
		"otelkit.sampling.tail.records outcome=discarded":                     2,
		"otelkit.sampling.tail.records outcome=emitted":                       2,
		"otelkit.sampling.tail.records outcome=dropped":                       2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}
