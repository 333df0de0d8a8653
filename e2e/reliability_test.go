package e2e

import (
	"context"
	"io"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelkit/otelkit/otelsetup"
)

// TestCollectorComesUpLater starts the service while nothing listens at the
// endpoint, logs, traces and counts, then starts the collector there: the
// records and spans recorded during the outage (still queued or being
// retried) and those recorded after it arrive, the periodic metric export
// delivers again without Shutdown's help and its total includes the count
// made during the outage, and no exporter stays broken.
func TestCollectorComesUpLater(t *testing.T) {
	const n = 50
	const counterName = "e2e.outage.calls"
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
			endpoint := "http://" + httpAddr
			if protocol == protoGRPC {
				endpoint = "http://" + grpcAddr
			}
			tel := setup(t, append(opts(protocol, endpoint, io.Discard),
				otelsetup.WithSetting("logs.batch.schedule_delay", "100"),
				otelsetup.WithMetricInterval(200*time.Millisecond),
				otelsetup.WithRuntimeMetrics(false),
				otelsetup.WithErrorOutput(io.Discard))...)
			log := tel.Logger("e2e")
			tracer := tel.TracerProvider().Tracer("e2e")
			counter, err := tel.MeterProvider().Meter("e2e").Int64Counter(counterName)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				log.Info("during outage", "i", i)
			}
			_, sp := tracer.Start(context.Background(), "during outage")
			sp.End()
			counter.Add(context.Background(), 1)
			time.Sleep(500 * time.Millisecond) // the first exports fail and are retried

			col, err := startCollectorOn(grpcAddr, httpAddr)
			if err != nil {
				t.Fatalf("start collector on the service's endpoint: %v", err)
			}
			t.Cleanup(func() { col.Stop(t) })
			for i := range n {
				log.Info("after recovery", "i", i)
			}
			_, sp = tracer.Start(context.Background(), "after recovery")
			sp.End()
			counter.Add(context.Background(), 1)

			// The periodic reader delivers by itself once the collector is up.
			// An export that began during the outage may first wait out the
			// exporter's own retry (up to 7.5 s over gRPC), so allow 20 s.
			deadline := time.Now().Add(20 * time.Second)
			for counterTotal(col, counterName) < 2 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if got := counterTotal(col, counterName); got < 2 {
				t.Errorf("%s: the collector's total is %d 20 s after it came up, want 2 (1 counted during the outage, 1 after), before Shutdown",
					counterName, got)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := tel.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			recs := flattenLogs(col.Logs.AllLogs())
			during, after := len(logsWithBody(recs, "during outage")), len(logsWithBody(recs, "after recovery"))
			if during != n || after != n {
				t.Errorf("arrived: %d of %d logged during the outage, %d of %d after", during, n, after, n)
			}
			spans := flattenSpans(col.Traces.AllTraces())
			for _, name := range []string{"during outage", "after recovery"} {
				if _, ok := spanNamed(spans, name); !ok {
					t.Errorf("span %q did not arrive (spans: %d)", name, len(spans))
				}
			}
			if got := counterTotal(col, counterName); got != 2 {
				t.Errorf("%s: the collector's total is %d after Shutdown, want 2", counterName, got)
			}
		})
	}
}

// counterTotal returns the total the collector received for the int sum
// named name: the latest point of a cumulative sum, the sum of a delta one.
func counterTotal(col *collector, name string) int64 {
	var total int64
	for _, md := range col.Metrics.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Name() != name || m.Type() != pmetric.MetricTypeSum {
						continue
					}
					sum := m.Sum()
					for _, dp := range sum.DataPoints().All() {
						if sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta {
							total += dp.IntValue()
						} else {
							total = max(total, dp.IntValue())
						}
					}
				}
			}
		}
	}
	return total
}
