package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
)

// Bounds of TestServingWhileCollectorDown.
const (
	outageQueue      = 4096 // logs.batch.max_queue_size: past the SDK's 2,048-record ring, so the spill list fills too
	outageSpanQueue  = 512  // traces.batch.max_queue_size: spans are bounded as well, so they do not blur the heap
	outageLinesPerRq = 12   // records the handler logs per request, besides httpmw's and deps' own
	outageWarmup     = 500  // requests before the first heap sample: 6,000+ records, the queue is full
	outageRequests   = 2000 // requests in all
	outageWorkers    = 8
	// outageHeapMargin is how much heap in use may grow between the samples.
	// The 1,500 requests between them log 18,000+ records; kept, they would
	// take more than 10 MiB (about 600 bytes a queued record). The queue was
	// already full at the first sample, so only noise may add to it.
	outageHeapMargin = 4 << 20
	// outageP99 bounds the 99th percentile of request latency, far below the
	// 10 s OTLP request timeout a request would wait if logging waited on
	// export (and below the retry waits of a refused connection).
	outageP99 = 500 * time.Millisecond
)

// TestServingWhileCollectorDown starts a service built like the example
// (Setup with OTLP, httpmw around a mux, a deps client to a local backend)
// while the collector is down (connections refused) or hung (accepted,
// never answered), and serves 2,000 requests from 8 workers, each logging
// 12 records: many more than the log queue holds. Every response is a 200,
// the 99th percentile of latency stays far below the export timeout, heap
// in use does not grow between a sample taken once the queue is full and
// one at the end, the lost records are counted and reported on the error
// output, and Shutdown returns within its deadline.
func TestServingWhileCollectorDown(t *testing.T) {
	for _, dc := range downCases {
		t.Run(dc.name, func(t *testing.T) {
			errOut := new(syncBuffer)
			// A manual reader beside the OTLP one reads
			// otelkit.telemetry.dropped while the collector is down.
			reader := sdkmetric.NewManualReader()
			tel, err := otelsetup.Setup(context.Background(),
				otelsetup.WithServiceName("outage"), otelsetup.WithoutEnvironment(),
				otelsetup.WithEndpoint(dc.endpoint(t)), otelsetup.WithProtocol(protoHTTP),
				otelsetup.WithConsole(io.Discard), otelsetup.WithErrorOutput(errOut),
				otelsetup.WithRuntimeMetrics(false), otelsetup.WithMetricReader(reader),
				otelsetup.WithSetting("logs.batch.max_queue_size", strconv.Itoa(outageQueue)),
				otelsetup.WithSetting("traces.batch.max_queue_size", strconv.Itoa(outageSpanQueue)))
			if err != nil {
				t.Fatal(err)
			}
			shutDown := false
			t.Cleanup(func() {
				if !shutDown {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					_ = tel.Shutdown(ctx)
				}
			})

			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, `{"available":3}`)
			}))
			defer backend.Close()
			client := deps.NewClient("inventory", nil)
			defer client.CloseIdleConnections()

			var logged atomic.Int64 // records the handler logged
			mux := http.NewServeMux()
			mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				resp, err := client.Get(backend.URL + "/stock/" + r.PathValue("id"))
				if err != nil {
					http.Error(w, "inventory unreachable", http.StatusBadGateway)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				for i := range outageLinesPerRq {
					slog.InfoContext(ctx, "order line", "order_id", r.PathValue("id"), "line", i, "sku", "sku-0001")
				}
				logged.Add(outageLinesPerRq)
				_, _ = io.WriteString(w, `{"ok":true}`)
			})
			srv := httptest.NewServer(httpmw.New(mux))
			defer srv.Close()
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: outageWorkers}}
			defer hc.CloseIdleConnections()

			var (
				mu        sync.Mutex
				latencies []time.Duration
				bad       []string
			)
			// serve sends n requests from the workers and waits for them all.
			serve := func(phase string, n int) {
				var next atomic.Int64
				var wg sync.WaitGroup
				for range outageWorkers {
					wg.Go(func() {
						for {
							i := next.Add(1)
							if i > int64(n) {
								return
							}
							start := time.Now()
							resp, err := hc.Get(fmt.Sprintf("%s/orders/%s-%d", srv.URL, phase, i))
							var status int
							if err == nil {
								_, _ = io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								status = resp.StatusCode
							}
							d := time.Since(start)
							mu.Lock()
							latencies = append(latencies, d)
							if err != nil || status != http.StatusOK {
								bad = append(bad, fmt.Sprintf("%s %d: status %d, error %v", phase, i, status, err))
							}
							mu.Unlock()
						}
					})
				}
				wg.Wait()
			}
			heapInuse := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapInuse
			}

			serve("warmup", outageWarmup)
			loggedFirst := logged.Load()
			heapFirst := heapInuse()
			serve("load", outageRequests-outageWarmup)
			heapEnd := heapInuse()
			loggedEnd := logged.Load()

			slices.Sort(latencies)
			p99 := latencies[len(latencies)*99/100]
			t.Logf("%d requests; latency p50 %v, p99 %v, max %v; heap in use %d KiB after %d records, %d KiB after %d",
				len(latencies), latencies[len(latencies)/2], p99, latencies[len(latencies)-1],
				heapFirst>>10, loggedFirst, heapEnd>>10, loggedEnd)
			if len(bad) > 0 {
				t.Errorf("%d of %d requests did not get a 200, first: %s", len(bad), len(latencies), bad[0])
			}
			if len(latencies) != outageRequests {
				t.Errorf("%d requests answered, want %d", len(latencies), outageRequests)
			}
			if p99 > outageP99 {
				t.Errorf("p99 latency %v with the collector %s, want under %v: requests wait on export", p99, dc.name, outageP99)
			}
			if heapEnd > heapFirst+outageHeapMargin {
				t.Errorf("heap in use grew from %d KiB to %d KiB while %d more records were logged past a %d-record queue: the queue is not bounded",
					heapFirst>>10, heapEnd>>10, loggedEnd-loggedFirst, outageQueue)
			}

			// Drops are counted as they happen, not only at shutdown: the
			// metric says so while the service runs, and the first drop
			// was reported on the error output at once.
			queueFull := droppedMetric(t, reader, "log records", "queue_full")
			if min := loggedEnd - outageQueue - 1024; queueFull < min {
				t.Errorf("otelkit.telemetry.dropped{signal=log records,reason=queue_full} is %d before Shutdown, want at least %d (%d logged by the handler, queue %d)",
					queueFull, min, loggedEnd, outageQueue)
			}
			if maxInAll(errOut.String(), "export queue full") == 0 {
				t.Errorf("no drop of log records reported on the error output before Shutdown:\n%s", errOut)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			err = tel.Shutdown(ctx)
			shutDown = true
			d := time.Since(start)
			t.Logf("Shutdown took %v, returned: %v", d.Round(time.Millisecond), err)
			if d > 3*time.Second {
				t.Errorf("Shutdown with a 2 s deadline took %v, want at most 3 s", d)
			}
			// Nothing reached a collector: every record is lost, and
			// counted under one reason or another by the time Shutdown
			// returns.
			out := errOut.String()
			var lost int64
			for _, reason := range []string{"export queue full", "export failed", "not exported when shutdown's deadline passed"} {
				lost += maxInAll(out, reason)
			}
			if lost < loggedEnd {
				t.Errorf("%d log records reported lost, want at least the %d the handler logged; error output:\n%s", lost, loggedEnd, out)
			}
		})
	}
}

var droppedLogsInAll = regexp.MustCompile(`otelkit: dropped \d+ log records \(([^;]+); (\d+) in all\)`)

// maxInAll returns the running total the error output last reported for log
// records dropped for reason ("export queue full", ...): the largest
// "N in all" of its lines.
func maxInAll(out, reason string) int64 {
	var total int64
	for _, m := range droppedLogsInAll.FindAllStringSubmatch(out, -1) {
		if m[1] != reason {
			continue
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		total = max(total, n)
	}
	return total
}

// droppedMetric returns otelkit.telemetry.dropped for signal and reason as
// reader collects it now.
func droppedMetric(t *testing.T, reader *sdkmetric.ManualReader, signal, reason string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != "otelkit.telemetry.dropped" || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				s, _ := dp.Attributes.Value("signal")
				r, _ := dp.Attributes.Value("reason")
				if s.AsString() == signal && r.AsString() == reason {
					return dp.Value
				}
			}
		}
	}
	t.Fatalf("no otelkit.telemetry.dropped{signal=%q,reason=%q} among the metrics", signal, reason)
	return 0
}
