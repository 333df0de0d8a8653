package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
)

// TestFailingLogFileDoesNotStopService runs a service (Setup with the
// console, a log file and OTLP to the collector; httpmw around a mux) whose
// log file cannot be written, and checks that requests keep getting 200,
// that every record still reaches the console and the collector, and that
// the failure is reported on the error output once per report interval
// (10 s by default) and once more at shutdown, not once per record.
//
// A directory of mode 0500 does not do: these tests may run as root, which
// permissions do not stop, and otelsetup takes a path for the file sink,
// not a writer. The two cases used fail for root too:
//   - "open": the file's parent is a regular file, so creating the
//     directory fails (ENOTDIR) and the file is never opened;
//   - "disk full": /dev/full opens, and every write to it fails with
//     ENOSPC, as on a full disk. Its size stays 0, so the sink never
//     rotates (renames) it. Skipped where there is no /dev/full.
func TestFailingLogFileDoesNotStopService(t *testing.T) {
	cases := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"open", func(t *testing.T) string {
			parent := filepath.Join(t.TempDir(), "not-a-directory")
			if err := os.WriteFile(parent, []byte("a file\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(parent, "service.log")
		}},
		{"disk full", func(t *testing.T) string {
			if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				t.Skip("no /dev/full on this system")
			}
			return "/dev/full"
		}},
	}
	const (
		requests = 200
		workers  = 4
		body     = "disk order"
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			col := startCollector(t)
			console, errOut := new(syncBuffer), new(syncBuffer)
			start := time.Now()
			tel := setup(t,
				otelsetup.WithServiceName("disk"), otelsetup.WithoutEnvironment(), otelsetup.WithoutGlobals(),
				otelsetup.WithEndpoint(col.Endpoint(protoHTTP)), otelsetup.WithProtocol(protoHTTP),
				otelsetup.WithConsole(console), otelsetup.WithErrorOutput(errOut),
				otelsetup.WithLogFile(path), otelsetup.WithRuntimeMetrics(false),
				otelsetup.WithSetting("logs.batch.schedule_delay", "100"))
			logger := tel.Logger("disk")

			mux := http.NewServeMux()
			mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				logger.InfoContext(r.Context(), body, "order_id", r.PathValue("id"))
				_, _ = io.WriteString(w, `{"ok":true}`)
			})
			srv := httptest.NewServer(httpmw.New(mux, httpmw.WithLogger(tel.Logger("http")),
				httpmw.WithTracerProvider(tel.TracerProvider()), httpmw.WithMeterProvider(tel.MeterProvider())))
			defer srv.Close()
			hc := &http.Client{Timeout: 5 * time.Second}
			defer hc.CloseIdleConnections()

			var (
				mu  sync.Mutex
				bad []string
				wg  sync.WaitGroup
			)
			for w := range workers {
				wg.Go(func() {
					for i := range requests / workers {
						resp, err := hc.Get(fmt.Sprintf("%s/orders/o-%d-%d", srv.URL, w, i))
						status := 0
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							status = resp.StatusCode
						}
						if err != nil || status != http.StatusOK {
							mu.Lock()
							bad = append(bad, fmt.Sprintf("o-%d-%d: status %d, error %v", w, i, status, err))
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if len(bad) > 0 {
				t.Errorf("%d of %d requests did not get a 200, first: %s", len(bad), requests, bad[0])
			}

			// The other sinks got every record while the file failed:
			// the console at once, the collector on the next export.
			if got := len(console.linesContaining(body)); got != requests {
				t.Errorf("%d console lines with %q, want %d", got, body, requests)
			}
			if got := len(waitBody(t, col, body, requests)); got != requests {
				t.Errorf("the collector received %d records with body %q, want %d", got, body, requests)
			}

			// Before Shutdown: the failure is reported, once per
			// interval elapsed (the first failure reports at once).
			sink := "log sink file:" + path
			elapsed := time.Since(start)
			before := linesContaining(errOut.String(), sink)
			allowed := 1 + int(elapsed/(10*time.Second))
			t.Logf("error output before Shutdown (%v after Setup):\n%s", elapsed.Round(time.Millisecond), errOut)
			switch {
			case len(before) == 0:
				t.Errorf("the failing file %s was not reported on the error output:\n%s", path, errOut)
			case len(before) > allowed:
				t.Errorf("the failing file was reported %d times in %v, want at most %d (once per 10 s interval):\n%s",
					len(before), elapsed, allowed, errOut)
			}

			shutdown(t, tel)
			// Shutdown adds one summary of what failed since; the
			// running total counts every record the file missed.
			all := linesContaining(errOut.String(), sink)
			if len(all) > len(before)+1 {
				t.Errorf("Shutdown reported the failing file %d more times, want at most once:\n%s", len(all)-len(before), errOut)
			}
			if total := failedInAll(all); total < requests {
				t.Errorf("the error output counts %d records the file failed to write, want at least %d:\n%s", total, requests, errOut)
			}
		})
	}
}

func linesContaining(s, sub string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return out
}

var failedWrites = regexp.MustCompile(`failed to write \d+ records \((\d+) in all\)`)

// failedInAll returns the largest running total of failed writes in lines.
func failedInAll(lines []string) int {
	total := 0
	for _, l := range lines {
		if m := failedWrites.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			total = max(total, n)
		}
	}
	return total
}
