package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain makes the test binary a child when the parent (TestCommand)
// re-executes it, as the command does with its own binary; otherwise it
// runs the tests and checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(envChild); ok {
		os.Exit(childMain(spec, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

const (
	tinyN      = 200
	tinyC      = 4
	tinyWarmup = 20
)

// checkResult checks what every mode's tiny run must show.
func checkResult(t *testing.T, res Result) {
	t.Helper()
	if res.Errors != 0 || res.WarmupErrors != 0 || res.Incomplete {
		t.Fatalf("%s: errors=%d warmup_errors=%d incomplete=%v first=%q", res.Mode, res.Errors, res.WarmupErrors, res.Incomplete, res.FirstError)
	}
	if res.Requests != tinyN {
		t.Errorf("%s: %d requests answered, want %d", res.Mode, res.Requests, tinyN)
	}
	if res.Sent != tinyN+tinyWarmup {
		t.Errorf("%s: %d requests sent, want %d", res.Mode, res.Sent, tinyN+tinyWarmup)
	}
	if !strings.HasPrefix(res.Addr, "127.0.0.1:") {
		t.Errorf("%s: server address %q, want 127.0.0.1", res.Mode, res.Addr)
	}
	if !(res.RPS > 0) || !(res.P50us > 0) || res.P50us > res.P99us || res.P99us > res.MaxUs {
		t.Errorf("%s: rps=%v p50=%v p99=%v max=%v: want rps > 0 and 0 < p50 <= p99 <= max", res.Mode, res.RPS, res.P50us, res.P99us, res.MaxUs)
	}
	if !(res.CPUusPerReq > 0) || !(res.AllocsPerReq > 0) || res.PeakRSSKiB <= 0 {
		t.Errorf("%s: cpu/req=%v allocs/req=%v peak RSS=%d KiB: want all > 0", res.Mode, res.CPUusPerReq, res.AllocsPerReq, res.PeakRSSKiB)
	}
	if strings.TrimSpace(res.TelemetryReports) != "" || res.ShutdownError != "" {
		t.Errorf("%s: telemetry reports %q, shutdown error %q", res.Mode, res.TelemetryReports, res.ShutdownError)
	}
	// Spans and records reach the exporters: one client and one server
	// span per request, and otelkit's two records (request_completed,
	// dependency_call), plus its start-up record.
	sent := int64(res.Sent)
	switch res.Mode {
	case modeBare:
		if res.Spans != 0 || res.Logs != 0 {
			t.Errorf("bare: %d spans, %d logs, want none", res.Spans, res.Logs)
		}
	case modeOTelHTTP:
		if res.Spans != 2*sent || res.Logs != 0 {
			t.Errorf("otelhttp: %d spans, %d logs, want %d and 0", res.Spans, res.Logs, 2*sent)
		}
	case modeOTelHTTPSlog:
		if res.Spans != 2*sent || res.Logs != 2*sent {
			t.Errorf("otelhttp_slog: %d spans, %d logs, want %d and %d", res.Spans, res.Logs, 2*sent, 2*sent)
		}
	case modeOtelkit:
		if res.Spans != 2*sent || res.Logs < 2*sent {
			t.Errorf("otelkit: %d spans, %d logs, want %d and at least %d", res.Spans, res.Logs, 2*sent, 2*sent)
		}
	}
}

// TestModesInProcess runs each mode with a tiny load in this process, and
// checks which records otelkit exported.
func TestModesInProcess(t *testing.T) {
	countEvents = true
	defer func() { countEvents = false }()
	for _, mode := range allModes {
		t.Run(mode, func(t *testing.T) {
			res, err := runMode(t.Context(), childConfig{Mode: mode, Round: 1, N: tinyN, C: tinyC, Warmup: tinyWarmup,
				Deadline: time.Now().Add(30 * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res)
			if mode != modeOtelkit && mode != modeOTelHTTPSlog {
				return
			}
			sent := tinyN + tinyWarmup
			if got := res.Events["request_completed"]; got != sent {
				t.Errorf("%s: %d request_completed records, want %d (events %v)", mode, got, sent, res.Events)
			}
			if got := res.Events["dependency_call"]; got != sent {
				t.Errorf("%s: %d dependency_call records, want %d (events %v)", mode, got, sent, res.Events)
			}
		})
	}
}

// TestCommand runs the command's parent path: every mode in a child
// process (this test binary, re-executed), then the table and the JSON.
func TestCommand(t *testing.T) {
	opts, err := parseFlags([]string{"-n", "200", "-c", "4", "-warmup", "20", "-rounds", "1", "-timeout", "50s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	rep, err := run(t.Context(), opts, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != len(allModes) {
		t.Fatalf("%d results, want %d; progress:\n%s", len(rep.Rounds), len(allModes), progress.String())
	}
	for _, res := range rep.Rounds {
		checkResult(t, res)
	}
	if !rep.OK {
		t.Errorf("report not OK; progress:\n%s", progress.String())
	}
	if len(rep.Summary) != len(allModes) || len(rep.Ratios) != 4 {
		t.Fatalf("%d summaries and %d ratios, want %d and 4", len(rep.Summary), len(rep.Ratios), len(allModes))
	}
	for _, x := range rep.Ratios {
		if !(x.RPS > 0) || !(x.P50 > 0) || !(x.PeakRSS > 0) {
			t.Errorf("ratio %+v: want positive", x)
		}
	}
	if rep.Env.GOMAXPROCS < 1 {
		t.Errorf("GOMAXPROCS %d not reported", rep.Env.GOMAXPROCS)
	}

	var table bytes.Buffer
	if err := writeTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| bare |", "| otelhttp |", "| otelkit |", "| otelkit | otelhttp |", "GOMAXPROCS=", "127.0.0.1", "OK:"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := writeJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.OK || len(back.Summary) != len(allModes) || back.Summary[0].Mode != modeBare {
		t.Errorf("JSON round trip: %+v", back.Summary)
	}
}

// TestLoopbackOnly checks that the client cannot dial anything but
// 127.0.0.1.
func TestLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true,
		"127.0.0.2:8080": false,
		"localhost:8080": false,
		"[::1]:8080":     false,
		"192.0.2.1:80":   false,
		"example.com:80": false,
		"127.0.0.1":      false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
	tr := newTransport(1)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := tr.DialContext(ctx, "tcp", "192.0.2.1:80"); !errors.Is(err, errNotLoopback) {
		t.Errorf("dial 192.0.2.1: %v, want errNotLoopback", err)
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 0.1: 1} {
		if got := percentile(s, p); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(s[:3], 50); got != 2 {
		t.Errorf("percentile(1..3, 50) = %v, want 2", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tload\nVmPeak:\t  99999 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1000 kB\n"
	if got := parseVmHWM(status); got != 12345 {
		t.Errorf("parseVmHWM = %d, want 12345", got)
	}
	if got := parseVmHWM("Name:\tx\n"); got != 0 {
		t.Errorf("parseVmHWM without the line = %d", got)
	}
}

func TestParseFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"}, {"-c", "0"}, {"-rounds", "0"}, {"-timeout", "1s"}, {"-modes", "bare,nope"}, {"-modes", ","}, {"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.N != 20000 || o.C != 16 || o.Rounds != 3 || o.Timeout != 2*time.Minute || len(o.Modes) != len(allModes) {
		t.Errorf("defaults: %+v", o)
	}
	if got := profilePath("/tmp/cpu.pprof", "otelkit", 2); got != "/tmp/cpu.otelkit.r2.pprof" {
		t.Errorf("profilePath = %q", got)
	}
}
