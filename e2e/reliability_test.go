package e2e

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/otelkit/otelkit/otelsetup"
)

// TestCollectorComesUpLater starts the service while nothing listens at the
// endpoint, logs, then starts the collector there: the records logged during
// the outage (still queued or being retried) and those logged after it
// arrive, and no exporter stays broken.
func TestCollectorComesUpLater(t *testing.T) {
	const n = 50
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
			endpoint := "http://" + httpAddr
			if protocol == protoGRPC {
				endpoint = "http://" + grpcAddr
			}
			tel := setup(t, append(opts(protocol, endpoint, io.Discard),
				otelsetup.WithSetting("logs.batch.schedule_delay", "100"),
				otelsetup.WithErrorOutput(io.Discard))...)
			log := tel.Logger("e2e")
			for i := range n {
				log.Info("during outage", "i", i)
			}
			time.Sleep(500 * time.Millisecond) // the first exports fail and are retried

			col, err := startCollectorOn(grpcAddr, httpAddr)
			if err != nil {
				t.Fatalf("start collector on the service's endpoint: %v", err)
			}
			t.Cleanup(func() { col.Stop(t) })
			for i := range n {
				log.Info("after recovery", "i", i)
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
		})
	}
}
