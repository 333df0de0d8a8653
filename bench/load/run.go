package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// childConfig is what one measured run of one mode needs. The parent
// hands it to a child process as JSON in the OTELKIT_LOAD_CHILD variable.
type childConfig struct {
	Mode   string `json:"mode"`
	Round  int    `json:"round"`
	N      int    `json:"n"`
	C      int    `json:"c"`
	Warmup int    `json:"warmup"`
	// Deadline is when the child stops sending requests, whatever is left.
	Deadline time.Time `json:"deadline"`
	// CPUProfile, if set, is the file the measured phase's CPU profile is
	// written to.
	CPUProfile string `json:"cpuprofile,omitempty"`
}

// Result is one mode's measured run. Latencies are in microseconds.
type Result struct {
	Mode  string `json:"mode"`
	Round int    `json:"round"`
	// Addr is the server's listening address (always 127.0.0.1:port).
	Addr       string `json:"addr"`
	GOMAXPROCS int    `json:"gomaxprocs"`

	Requests     int     `json:"requests"` // measured requests answered 200
	Errors       int     `json:"errors"`   // measured: transport errors and non-200
	WarmupErrors int     `json:"warmup_errors"`
	FirstError   string  `json:"first_error,omitempty"`
	Incomplete   bool    `json:"incomplete,omitempty"` // the deadline stopped it before n requests
	ElapsedSec   float64 `json:"elapsed_s"`
	RPS          float64 `json:"rps"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	MaxUs        float64 `json:"max_us"`

	CPUusPerReq  float64 `json:"cpu_us_per_req"` // user+sys CPU of the process, measured phase
	AllocsPerReq float64 `json:"allocs_per_req"`
	BytesPerReq  float64 `json:"bytes_per_req"`

	// PeakRSSKiB is the child's maximum resident set size from getrusage
	// (filled in by the parent), else VmHWMKiB.
	PeakRSSKiB int64 `json:"peak_rss_kib"`
	// VmHWMKiB is VmHWM from /proc/self/status at the child's end.
	VmHWMKiB int64 `json:"vmhwm_kib"`
	// HeapInuseKiB and GoSysKiB are the Go runtime's in-use heap and the
	// memory it got from the OS, at the end of the measured phase.
	HeapInuseKiB int64 `json:"heap_inuse_kib"`
	GoSysKiB     int64 `json:"go_sys_kib"`

	// Sent is every request sent, warm-up included; Spans and Logs are
	// what reached the discarding exporters after the final flush.
	Sent          int   `json:"sent"`
	Spans         int64 `json:"spans"`
	Logs          int64 `json:"logs"`
	MetricExports int64 `json:"metric_exports"`
	// Events counts the log records by their "event" attribute, in tests
	// only (see countEvents).
	Events map[string]int `json:"events,omitempty"`
	// TelemetryReports is what otelkit reported on its error output
	// (dropped telemetry, export errors); empty when all went well.
	TelemetryReports string `json:"telemetry_reports,omitempty"`
	ShutdownError    string `json:"shutdown_error,omitempty"`
}

// runMode runs one mode in this process: server on 127.0.0.1, warm-up,
// measured load, shutdown. It returns an error only when the run could not
// take place; request errors are counted in the result.
func runMode(ctx context.Context, cfg childConfig) (Result, error) {
	if cfg.N < 1 || cfg.C < 1 || cfg.Warmup < 0 {
		return Result{}, fmt.Errorf("load: bad config n=%d c=%d warmup=%d", cfg.N, cfg.C, cfg.Warmup)
	}
	if !cfg.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, cfg.Deadline)
		defer cancel()
	}
	res := Result{Mode: cfg.Mode, Round: cfg.Round, GOMAXPROCS: runtime.GOMAXPROCS(0)}

	sink := &sink{}
	if countEvents {
		sink.byEvent = map[string]int{}
	}
	errOut := &lockedBuffer{}
	base := newTransport(cfg.C)
	st, err := newStack(ctx, cfg.Mode, newMux(), base, sink, errOut)
	if err != nil {
		return res, err
	}
	shutdownTelemetry := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return st.shutdown(sctx)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = shutdownTelemetry()
		return res, err
	}
	res.Addr = ln.Addr().String()
	srv := &http.Server{Handler: st.handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	urls := make([]string, 100)
	for i := range urls {
		urls[i] = "http://" + res.Addr + "/items/i-" + strconv.Itoa(i)
	}

	warm := drive(ctx, st.client, urls, cfg.Warmup, cfg.C)
	res.WarmupErrors = warm.errors
	if warm.firstErr != "" {
		res.FirstError = "warm-up: " + warm.firstErr
	}

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	stopProfile, err := startProfile(cfg.CPUProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: cpu profile:", err)
	}
	load := drive(ctx, st.client, urls, cfg.N, cfg.C)
	stopProfile()
	cpu1 := cpuTime()
	runtime.ReadMemStats(&m1)

	// Teardown, bounded: client connections, server, then telemetry, whose
	// final flush makes the exporter counts complete.
	base.CloseIdleConnections()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "load: serve:", err)
	}
	if err := shutdownTelemetry(); err != nil {
		res.ShutdownError = err.Error()
	}

	res.Requests = len(load.latencies)
	res.Errors = load.errors
	if res.FirstError == "" {
		res.FirstError = load.firstErr
	}
	res.Incomplete = res.Requests+res.Errors < cfg.N
	res.ElapsedSec = load.elapsed.Seconds()
	if res.ElapsedSec > 0 {
		res.RPS = float64(res.Requests) / res.ElapsedSec
	}
	res.P50us = micros(percentile(load.latencies, 50))
	res.P99us = micros(percentile(load.latencies, 99))
	if n := len(load.latencies); n > 0 {
		res.MaxUs = micros(load.latencies[n-1])
	}
	if res.Requests > 0 {
		done := float64(res.Requests + res.Errors)
		res.CPUusPerReq = micros(cpu1-cpu0) / done
		res.AllocsPerReq = float64(m1.Mallocs-m0.Mallocs) / done
		res.BytesPerReq = float64(m1.TotalAlloc-m0.TotalAlloc) / done
	}
	res.Sent = warm.sent + load.sent
	res.HeapInuseKiB, res.GoSysKiB = int64(m1.HeapInuse>>10), int64(m1.Sys>>10)
	if sink.byEvent != nil {
		sink.mu.Lock()
		res.Events = maps.Clone(sink.byEvent)
		sink.mu.Unlock()
	}
	res.Spans = sink.spans.Load()
	res.Logs = sink.logs.Load()
	res.MetricExports = sink.metricExports.Load()
	res.TelemetryReports = errOut.String()
	res.VmHWMKiB = vmHWM()
	res.PeakRSSKiB = res.VmHWMKiB
	return res, nil
}

// loadStats is what one phase of load observed.
type loadStats struct {
	sent      int             // requests attempted (not counting those cut by ctx)
	errors    int             // transport errors and non-200 answers
	firstErr  string          // the first error seen, for the report
	elapsed   time.Duration   // wall time of the phase
	latencies []time.Duration // of the successful requests, sorted
}

// drive sends n GET requests from c workers, each taking the next request
// number until n are taken or ctx is done, and times each one.
func drive(ctx context.Context, client *http.Client, urls []string, n, c int) loadStats {
	var (
		next atomic.Int64
		mu   sync.Mutex
		st   loadStats
		wg   sync.WaitGroup
	)
	per := make([][]time.Duration, c)
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			lat := make([]time.Duration, 0, n/c+1)
			var sent, errs int
			var first string
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					break
				}
				sent++
				t0 := time.Now()
				err := get(ctx, client, urls[int(i)%len(urls)])
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					// Cut by the time limit: the run is incomplete, but
					// this is not the server's error.
					sent--
					break
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, d)
			}
			per[w] = lat
			mu.Lock()
			st.sent += sent
			st.errors += errs
			if st.firstErr == "" {
				st.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	st.latencies = slices.Concat(per...)
	slices.Sort(st.latencies)
	return st
}

// get sends one request and reads the whole body, so the connection goes
// back to the pool. Anything but a 200 with a body is an error.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case err != nil:
		return fmt.Errorf("reading body: %w", err)
	case n == 0:
		return errors.New("empty body")
	}
	return nil
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is this process's peak resident set size in KiB from
// /proc/self/status, or 0 where there is none.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseVmHWM(string(b))
}

// parseVmHWM finds the "VmHWM:   1234 kB" line of a /proc status file.
func parseVmHWM(status string) int64 {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		var kb int64
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
			return kb
		}
	}
	return 0
}

// startProfile starts a CPU profile to path (nothing when path is empty)
// and returns the function that stops it.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return func() {}, err
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "load: cpu profile:", err)
		}
	}, nil
}
