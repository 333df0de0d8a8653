package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelkit/otelkit/otelsetup"
)

// TestFailingCollector points the SDK at a collector that fails every
// request in one way — 503, 429 with Retry-After, a reset connection — and
// checks that the service does not wait on it, that retries stay inside the
// export timeout, that what is lost is reported, and that goroutines do not
// grow with the failures.
func TestFailingCollector(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"503", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
		{"429_retry_after", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}},
		{"reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST instead of FIN
				}
				conn.Close()
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()

			errOut := new(syncBuffer)
			tel := setup(t, append(opts(protoHTTP, srv.URL, io.Discard),
				otelsetup.WithErrorOutput(errOut),
				otelsetup.WithExportTimeout(time.Second),
				otelsetup.WithSetting("logs.batch.schedule_delay", "50"),
				otelsetup.WithSetting("logs.batch.export_timeout", "1000"),
				otelsetup.WithRuntimeMetrics(false))...)
			log := tel.Logger("failing")
			before := runtime.NumGoroutine()
			start := time.Now()
			for round := range 5 {
				for i := range 200 {
					log.Info("against a failing collector", "round", round, "i", i)
				}
				time.Sleep(300 * time.Millisecond)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("logging took %v: the caller waited on the collector", d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = tel.Shutdown(ctx)
			if d := time.Since(start); d > 7*time.Second {
				t.Errorf("logging and Shutdown took %v", d)
			}
			if requests.Load() == 0 {
				t.Fatal("the failing collector got no request")
			}
			reported := 0
			for _, m := range droppedLogs.FindAllStringSubmatch(errOut.String(), -1) {
				k, _ := strconv.Atoi(m[1])
				reported += k
			}
			if reported < 1000 {
				t.Errorf("1000 records lost, %d reported:\n%s", reported, errOut)
			}
			// Goroutines: nothing grows per failed export (a little slack
			// for the HTTP client's connections while they close).
			time.Sleep(100 * time.Millisecond)
			if after := runtime.NumGoroutine(); after > before+4 {
				t.Errorf("goroutines grew from %d to %d", before, after)
			}
		})
	}
}
