package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelkit/otelkit/otelsetup"
)

// Export contexts in TestFailingCollector: every export (logs.batch.export_timeout,
// WithExportTimeout for metrics) ends after failingExportTimeout, and Shutdown's
// deadline, failingShutdown, cancels whatever still runs then.
const (
	failingExportTimeout = time.Second
	failingShutdown      = 2 * time.Second
)

// otlpFirstRetryAtLeast is the shortest wait of the OTLP exporters' own retry
// (502, 503, 504, 429 over HTTP; Unavailable over gRPC) before its first retry:
// their default first interval of 5 s with a randomization factor of 0.5
// (go.opentelemetry.io/otel/exporters/otlp/.../internal/retry, DefaultConfig).
// It waits max(that backoff, Retry-After).
const otlpFirstRetryAtLeast = 2500 * time.Millisecond

// requestLog records, for each distinct request (path and body: a retry of a
// batch sends the same bytes again), when the server received it.
type requestLog struct {
	mu     sync.Mutex
	byBody map[[sha256.Size]byte][]time.Time
	paths  map[[sha256.Size]byte]string
	total  int
}

func (l *requestLog) add(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	key := sha256.Sum256(append([]byte(r.URL.Path+"\x00"), body...))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byBody == nil {
		l.byBody, l.paths = make(map[[sha256.Size]byte][]time.Time), make(map[[sha256.Size]byte]string)
	}
	l.byBody[key] = append(l.byBody[key], time.Now())
	l.paths[key] = r.URL.Path
	l.total++
}

// stats returns the number of requests, of distinct batches, the most
// requests any one batch got (and its path), and the shortest gap between two
// requests of the same batch (0 if no batch was sent twice).
func (l *requestLog) stats() (total, batches, most int, mostPath string, shortestGap time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, times := range l.byBody {
		if len(times) > most {
			most, mostPath = len(times), l.paths[key]
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); shortestGap == 0 || gap < shortestGap {
				shortestGap = gap
			}
		}
	}
	return l.total, len(l.byBody), most, mostPath, shortestGap
}

// countBefore returns the requests received on path before t.
func (l *requestLog) countBefore(path string, t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for key, times := range l.byBody {
		if l.paths[key] != path {
			continue
		}
		for _, at := range times {
			if at.Before(t) {
				n++
			}
		}
	}
	return n
}

// TestFailingCollector points the SDK at a collector that fails every
// request in one way — 503, 429 with Retry-After, a reset connection — and
// checks that the service does not wait on it, that retries back off and stay
// inside the export timeout (a ceiling on requests per batch and per time
// window, derived from the retry schedules), that what is lost is reported,
// and that goroutines do not grow with the failures.
func TestFailingCollector(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		// maxPerBatch is the most requests one batch may get: the retry
		// schedule that applies, over the longest export context of the test.
		maxPerBatch int
		// endsEarly: a failed export ends before its export timeout (its
		// requests are spent), so the next one may start at once; no
		// ceiling per time window applies, only maxPerBatch.
		endsEarly bool
	}{
		// The OTLP exporter retries 503 and 429 itself; its first retry comes
		// after otlpFirstRetryAtLeast, past every export context here.
		{"503", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, 1, false},
		{"429_retry_after", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 1, false},
		// A connection reset after the request was read is sent again by
		// otelsetup's retry, at most resendsAfterBrokenConnection times:
		// the collector may have taken it.
		{"reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST instead of FIN
				}
				conn.Close()
			}
		}, 1 + resendsAfterBrokenConnection, true},
	}
	if otlpFirstRetryAtLeast <= failingShutdown {
		t.Fatal("the OTLP exporter's first retry would fall inside an export: raise maxPerBatch of 503 and 429")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var requests requestLog
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.add(r)
				tc.handler(w, r)
			}))
			defer srv.Close()

			errOut := new(syncBuffer)
			tel := setup(t, append(opts(protoHTTP, srv.URL, io.Discard),
				otelsetup.WithErrorOutput(errOut),
				otelsetup.WithExportTimeout(failingExportTimeout),
				otelsetup.WithSetting("logs.batch.schedule_delay", "50"),
				otelsetup.WithSetting("logs.batch.export_timeout", strconv.Itoa(int(failingExportTimeout/time.Millisecond))),
				otelsetup.WithRuntimeMetrics(false))...)
			log := tel.Logger("failing")
			before := runtime.NumGoroutine()
			start := time.Now()
			const rounds = 5
			var afterFirst, afterLast int
			for round := range rounds {
				for i := range 200 {
					log.Info("against a failing collector", "round", round, "i", i)
				}
				time.Sleep(300 * time.Millisecond)
				// Sample goroutines while the exports fail, not only after
				// Shutdown: failed exports must not leave any behind.
				switch round {
				case 0:
					afterFirst = runtime.NumGoroutine()
				case rounds - 1:
					afterLast = runtime.NumGoroutine()
				}
			}
			shutdownAt := time.Now()
			if d := shutdownAt.Sub(start); d > 5*time.Second {
				t.Errorf("logging took %v: the caller waited on the collector", d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), failingShutdown)
			defer cancel()
			_ = tel.Shutdown(ctx)
			if d := time.Since(start); d > 7*time.Second {
				t.Errorf("logging and Shutdown took %v", d)
			}
			total, batches, most, mostPath, _ := requests.stats()
			t.Logf("%d requests for %d batches, at most %d for one (%s); goroutines %d at start, %d after round 1, %d after round %d",
				total, batches, most, mostPath, before, afterFirst, afterLast, rounds)
			if total == 0 {
				t.Fatal("the failing collector got no request")
			}
			// Backoff, per batch: no batch is retried more often than the
			// schedule allows.
			if most > tc.maxPerBatch {
				t.Errorf("one batch (%s) was sent %d times, the retry schedule allows at most %d: retries do not back off",
					mostPath, most, tc.maxPerBatch)
			}
			// Backoff, per time window: log exports run one at a time, and a
			// failed one (unless it ends early) lasts until its export
			// timeout, so while logging ran at most window/timeout+1 exports
			// started, each with at most maxPerBatch requests.
			ceiling := tc.maxPerBatch * (int(shutdownAt.Sub(start)/failingExportTimeout) + 1)
			if n := requests.countBefore("/v1/logs", shutdownAt); !tc.endsEarly && n > ceiling {
				t.Errorf("%d log export requests in %v of logging, the retry schedule allows at most %d",
					n, shutdownAt.Sub(start).Round(time.Millisecond), ceiling)
			}
			if afterLast > afterFirst+4 {
				t.Errorf("goroutines grew from %d after round 1 to %d after round %d, while exports failed",
					afterFirst, afterLast, rounds)
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

// TestRetryAfterHonoured answers a log batch's first request with 429 and a
// Retry-After longer than the OTLP exporter's own first backoff can be
// (otlpFirstRetryAtLeast to 7.5 s), and its retry with 200: the retry must
// come no sooner than Retry-After says, and within the export timeout, so the
// batch is delivered and nothing is reported lost. A shorter Retry-After (1 s)
// could not tell honouring it from the backoff, which always waits longer.
func TestRetryAfterHonoured(t *testing.T) {
	const retryAfter = 8 * time.Second
	var requests requestLog
	var (
		mu   sync.Mutex
		seen = make(map[[sha256.Size]byte]bool)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		requests.add(r)
		key := sha256.Sum256(body)
		mu.Lock()
		first := !seen[key]
		seen[key] = true
		mu.Unlock()
		if r.URL.Path == "/v1/logs" && first {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	errOut := new(syncBuffer)
	tel := setup(t, append(opts(protoHTTP, srv.URL, io.Discard),
		otelsetup.WithErrorOutput(errOut),
		otelsetup.WithExportTimeout(5*time.Second), // one request; the client's timeout
		otelsetup.WithSetting("logs.batch.schedule_delay", "50"),
		otelsetup.WithSetting("logs.batch.export_timeout", "20000"), // the batch, retries included
		otelsetup.WithRuntimeMetrics(false))...)
	log := tel.Logger("throttled")
	start := time.Now()
	for i := range 10 {
		log.Info("throttled", "i", i)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("logging 10 records took %v", d)
	}
	// The retry is due after retryAfter; wait for it up to 20 s in all.
	deadline := time.Now().Add(20 * time.Second)
	var most int
	var gap time.Duration
	for time.Now().Before(deadline) {
		if _, _, most, _, gap = requests.stats(); most >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	total, batches, _, _, _ := requests.stats()
	t.Logf("%d requests for %d batches; shortest gap between a batch's requests: %v", total, batches, gap)
	switch {
	case most < 2:
		t.Fatalf("no batch was retried within 20 s of a 429 with Retry-After: %v (%d requests)", retryAfter, total)
	case gap < retryAfter:
		t.Errorf("a batch was retried %v after a 429 with Retry-After: %v", gap.Round(time.Millisecond), retryAfter)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if m := droppedLogs.FindString(errOut.String()); m != "" {
		t.Errorf("records were reported lost after the retry succeeded:\n%s", errOut)
	}
}

// TestSlowCollector points the SDK at a collector that answers every request,
// correctly, only after 2 s: logging does not wait on it (no log call takes
// half that delay), and with an export timeout above the delay every record
// arrives, before Shutdown.
func TestSlowCollector(t *testing.T) {
	const (
		delay    = 2 * time.Second
		rounds   = 3
		perRound = 100
	)
	sink := new(consumertest.LogsSink)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
		if r.URL.Path == "/v1/logs" && err == nil {
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_ = sink.ConsumeLogs(context.Background(), req.Logs())
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	tel := setup(t, append(opts(protoHTTP, srv.URL, io.Discard),
		otelsetup.WithErrorOutput(io.Discard),
		otelsetup.WithExportTimeout(3*delay),
		otelsetup.WithSetting("logs.batch.schedule_delay", "100"),
		otelsetup.WithSetting("logs.batch.export_timeout", "10000"),
		otelsetup.WithRuntimeMetrics(false))...)
	log := tel.Logger("slow")
	var slowest time.Duration
	for round := range rounds {
		for i := range perRound {
			t0 := time.Now()
			log.Info("to a slow collector", "round", round, "i", i)
			slowest = max(slowest, time.Since(t0))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if slowest > delay/2 {
		t.Errorf("a log call took %v with the collector answering after %v: logging waits on export", slowest, delay)
	}
	// Exports run one at a time, 2 s each: the records need two or three.
	const n = rounds * perRound
	arrived := func() int { return len(logsWithBody(flattenLogs(sink.AllLogs()), "to a slow collector")) }
	deadline := time.Now().Add(30 * time.Second)
	for arrived() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := arrived(); got != n {
		t.Errorf("%d of %d records arrived at the slow collector within 30 s", got, n)
	}
	t.Logf("slowest log call %v", slowest)
	// Shut down while the collector still answers (slowly): the final exports
	// must not meet a closed port.
	shutdown(t, tel)
}
