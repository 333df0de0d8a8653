package logbridge

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readLines reads every line of every file in dir, gunzipping rotated ones.
func readLines(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(e.Name(), ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	return lines
}

func TestSlogtestFileSink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	h := NewHandler(WithoutConsole(), WithFile(path, FileOptions{}), WithLevel(slog.LevelDebug))
	defer h.Close()
	err := slogtest.TestHandler(h, func() []map[string]any {
		b, _ := os.ReadFile(path)
		return parseLines(t, b)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSlogtestAsyncSink(t *testing.T) {
	var buf syncBuffer
	h := NewHandler(WithConsole(&buf, SinkAsync(1024)), WithLevel(slog.LevelDebug))
	err := slogtest.TestHandler(h, func() []map[string]any {
		h.Close() // drain, then read
		return parseLines(t, buf.Bytes())
	})
	if err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// slowWriter blocks every write until released.
type slowWriter struct {
	release chan struct{}
	lines   atomic.Int64
}

func (w *slowWriter) Write(p []byte) (int, error) {
	<-w.release
	w.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	return len(p), nil
}

func TestAsyncDropsAreCountedAndCloseDrains(t *testing.T) {
	w := &slowWriter{release: make(chan struct{})}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	var stderr syncBuffer
	h := NewHandler(WithWriter("slow", w, SinkAsync(16)), WithMeterProvider(mp), WithErrorOutput(&stderr, time.Hour))
	log := slog.New(h)
	const n = 1000
	start := time.Now()
	for i := range n {
		log.Info("record", "i", i)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("logging into a stuck async sink took %v; it must never block", d)
	}
	// Every drop happened at enqueue; read the counter before Close
	// unregisters it.
	dropped := sinkDropped(t, reader, "slow")
	close(w.release)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if written := w.lines.Load(); written+dropped != n || dropped == 0 {
		t.Errorf("written %d + dropped %d != %d (or nothing dropped)", written, dropped, n)
	}
	if !strings.Contains(string(stderr.Bytes()), "log sink slow dropped") {
		t.Errorf("no stderr report: %q", stderr.Bytes())
	}
}

func sinkDropped(t *testing.T, r *sdkmetric.ManualReader, sink string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otelkit.log.dropped" {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				s, _ := p.Attributes.Value("sink")
				if s.AsString() == sink {
					total += p.Value
				}
			}
		}
	}
	return total
}

func TestCloseLosesNothingQueued(t *testing.T) {
	var buf syncBuffer
	h := NewHandler(WithConsole(&buf, SinkAsync(20000)))
	for i := range 10000 {
		slog.New(h).Info("queued", "i", i)
	}
	h.Close()
	if got := bytes.Count(buf.Bytes(), []byte("\n")); got != 10000 {
		t.Errorf("after Close %d lines written, want 10000", got)
	}
}

func TestRecordCounter(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	h := NewHandler(WithConsole(io.Discard), WithMeterProvider(mp))
	defer h.Close()
	h.Logger("db").Error("e1")
	h.Logger("db").Error("e2")
	h.Logger("db").Info("i")
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "otelkit.log.records" {
				for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
					sev, _ := p.Attributes.Value("severity")
					lg, _ := p.Attributes.Value("logger")
					got[lg.AsString()+"/"+sev.AsString()] = p.Value
				}
			}
		}
	}
	if got["db/ERROR"] != 2 || got["db/INFO"] != 1 {
		t.Errorf("records counter = %v", got)
	}
}

type failingWriter struct{ calls atomic.Int64 }

func (w *failingWriter) Write([]byte) (int, error) {
	w.calls.Add(1)
	return 0, errors.New("no space left on device")
}

// TestFailingSinkDoesNotStopOthers: a sink that cannot write is reported
// once per interval and the other sinks go on.
func TestFailingSinkDoesNotStopOthers(t *testing.T) {
	var good, stderr syncBuffer
	bad := &failingWriter{}
	h := NewHandler(WithWriter("disk", bad), WithConsole(&good), WithErrorOutput(&stderr, time.Hour))
	for i := range 100 {
		slog.New(h).Info("still here", "i", i)
	}
	h.Close()
	if got := bytes.Count(good.Bytes(), []byte("\n")); got != 100 {
		t.Errorf("good sink got %d lines, want 100", got)
	}
	// One report at the first failure, one summary at Close.
	if got := strings.Count(string(stderr.Bytes()), "log sink disk failed"); got != 2 {
		t.Errorf("failure reported %d times, want 2:\n%s", got, stderr.Bytes())
	}
}

func TestSizeRotationConcurrentNoTornLines(t *testing.T) {
	dir := t.TempDir()
	h := NewHandler(WithoutConsole(), WithFile(filepath.Join(dir, "app.log"), FileOptions{MaxSizeMB: 1, Compress: false}))
	const goroutines, per = 8, 10000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := slog.New(h).With("g", g)
			for i := range per {
				l.Info("concurrent record with some padding to fill files faster", "i", i, "pad", strings.Repeat("x", 40))
			}
		}()
	}
	wg.Wait()
	h.Close()
	lines := readLines(t, dir)
	if len(lines) != goroutines*per {
		t.Fatalf("got %d lines, want %d", len(lines), goroutines*per)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		m := map[string]any{}
		if err := jsonUnmarshal(l, &m); err != nil {
			t.Fatalf("torn line %q: %v", l, err)
		}
		seen[fmt.Sprint(m["g"], "/", m["i"])] = true
	}
	if len(seen) != goroutines*per {
		t.Errorf("%d distinct records, want %d", len(seen), goroutines*per)
	}
	files, _ := os.ReadDir(dir)
	if len(files) < 5 {
		t.Errorf("want several rotated files for ~%d MB, got %d", goroutines*per*150>>20, len(files))
	}
}

func TestTimeRotationAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 2, 23, 23, 59, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	h := NewHandler(WithoutConsole(), WithFile(filepath.Join(dir, "app.log"),
		FileOptions{Rotate: RotateDaily, Now: clock, MaxBackups: 2, Compress: true}))
	log := slog.New(h)
	for day := range 4 {
		log.Info("day", "n", day)
		advance(24 * time.Hour)
	}
	log.Info("last")
	h.Close()
	// Backups are kept by count (2) and gzipped; Close waited for the
	// pass that compresses and prunes them.
	deadline := time.Now().Add(5 * time.Second)
	var names []string
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		names = names[:0]
		gz := 0
		for _, e := range entries {
			names = append(names, e.Name())
			if strings.HasSuffix(e.Name(), ".gz") {
				gz++
			}
		}
		if len(entries) == 3 && gz == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(names) != 3 {
		t.Errorf("files = %v, want the current file and 2 gzipped backups", names)
	}
}

func TestBoundary(t *testing.T) {
	at := time.Date(2026, 2, 23, 10, 15, 42, 0, time.UTC)
	if got := boundary(at, RotateHourly); !got.Equal(time.Date(2026, 2, 23, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("hourly boundary = %v", got)
	}
	if got := boundary(at, RotateDaily); !got.Equal(time.Date(2026, 2, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("daily boundary = %v", got)
	}
}

func TestRoutingNamedLoggers(t *testing.T) {
	var root, audit bytes.Buffer
	h := NewHandler(WithConsole(&root), WithWriter("audit", &audit, SinkLoggers("audit")), WithIsolatedLoggers("audit"))
	h.Logger("audit.login").Info("user logged in")
	h.Logger("app").Info("app record")
	if !strings.Contains(audit.String(), "user logged in") || strings.Contains(audit.String(), "app record") {
		t.Errorf("audit sink: %q", audit.String())
	}
	if strings.Contains(root.String(), "user logged in") || !strings.Contains(root.String(), "app record") {
		t.Errorf("root sink: %q", root.String())
	}
	// Without isolation the audit records reach the root sinks too.
	root.Reset()
	h2 := NewHandler(WithConsole(&root), WithWriter("audit", io.Discard, SinkLoggers("audit")))
	h2.Logger("audit").Info("propagated")
	if !strings.Contains(root.String(), "propagated") {
		t.Error("records of a routed logger should propagate to root sinks unless isolated")
	}
}

func TestExceptionAndStackOption(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf))
	Exception(context.Background(), slog.New(h), "charge failed", fmt.Errorf("wrap: %w", os.ErrDeadlineExceeded), "order_id", "o-1")
	lines := parseLines(t, buf.Bytes())
	if len(lines) != 1 {
		t.Fatalf("got %d lines", len(lines))
	}
	rec := lines[0]
	errObj, _ := rec["error"].(map[string]any)
	if rec["level"] != "ERROR" || errObj["message"] != "wrap: i/o timeout" || errObj["type"] != "*poll.DeadlineExceededError" {
		t.Errorf("record = %v", rec)
	}
	if st, _ := rec["stack"].(string); !strings.Contains(st, "TestExceptionAndStackOption") {
		t.Errorf("stack = %q", st)
	}
	if src, _ := rec["source"].(string); src != "" {
		t.Errorf("source %q without WithSource", src)
	}

	buf.Reset()
	h = NewHandler(WithConsole(&buf), WithStackTraces(slog.LevelError))
	slog.New(h).Warn("no stack")
	slog.New(h).Error("with stack")
	lines = parseLines(t, buf.Bytes())
	if _, ok := lines[0]["stack"]; ok {
		t.Error("WARN record has a stack")
	}
	if st, _ := lines[1]["stack"].(string); !strings.Contains(st, "TestExceptionAndStackOption") {
		t.Errorf("ERROR stack = %q", st)
	}
}
