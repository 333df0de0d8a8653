package logbridge

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a FileOptions.Now that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fileSeqs returns the "seq" fields of the JSON lines of path, in order.
func fileSeqs(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Seq *int `json:"seq"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Seq == nil {
			t.Fatalf("%s: line %q is not a record with seq: %v", path, line, err)
		}
		out = append(out, *rec.Seq)
	}
	return out
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFileRecreatedWhenRemoved: the log file, or its whole directory,
// removed while the service runs is made again at the next record (0750
// directory, 0600 file), and that record and the later ones are in it:
// none lost, none counted as failed.
func TestFileRecreatedWhenRemoved(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(dir, path string) error
	}{
		{"directory removed", func(dir, _ string) error { return os.RemoveAll(dir) }},
		{"file removed", func(_, path string) error { return os.Remove(path) }},
		{"another file renamed over it", func(dir, path string) error {
			other := filepath.Join(dir, "other")
			if err := os.WriteFile(other, nil, 0o600); err != nil {
				return err
			}
			return os.Rename(other, path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, async := range []bool{false, true} {
				dir := filepath.Join(t.TempDir(), "logs")
				path := filepath.Join(dir, "app.log")
				var opts []SinkOption
				if async {
					opts = append(opts, SinkAsync(1024))
				}
				var stderr syncBuffer
				h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, time.Hour), WithFile(path, FileOptions{}, opts...))
				log := slog.New(h)
				for i := range 100 {
					log.Info("before", "seq", i)
				}
				if async {
					waitFor(t, func() bool {
						b, _ := os.ReadFile(path)
						return strings.Count(string(b), "\n") == 100
					})
				}
				if err := tc.remove(dir, path); err != nil {
					t.Fatal(err)
				}
				for i := 100; i < 200; i++ {
					log.Info("after", "seq", i)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				if got := fileSeqs(t, path); !equalInts(got, seqRange(100, 200)) {
					t.Errorf("async=%v: the file holds %v, want the 100 records after the removal", async, got)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("async=%v: file mode %v (%v), want 0600", async, fi.Mode(), err)
				}
				if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o750 {
					t.Errorf("async=%v: directory mode %v (%v), want 0750", async, fi.Mode(), err)
				}
				if n := sinkLosses(h); n != 0 {
					t.Errorf("async=%v: %d records counted lost; stderr %q", async, n, stderr.Bytes())
				}
			}
		})
	}
}

// TestFileRecreatedWhenRenamedAway: a log file moved away (logrotate
// without copytruncate) keeps the records until the next check of the
// path, at most a second later; from then on a new file at the path gets
// them. Between the two files, every record is there once.
func TestFileRecreatedWhenRenamedAway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	clock := &fakeClock{t: time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC)}
	h := NewHandler(WithoutConsole(), WithErrorOutput(&syncBuffer{}, time.Hour), WithFile(path, FileOptions{Now: clock.now}))
	log := slog.New(h)
	for i := range 50 {
		log.Info("before", "seq", i)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	for i := 50; i < 60; i++ {
		log.Info("in the window", "seq", i)
	}
	clock.advance(pathCheckInterval)
	for i := 60; i < 100; i++ {
		log.Info("after", "seq", i)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSeqs(t, path+".1"); !equalInts(got, seqRange(0, 60)) {
		t.Errorf("the moved file holds %v, want 0..59", got)
	}
	if got := fileSeqs(t, path); !equalInts(got, seqRange(60, 100)) {
		t.Errorf("the new file holds %v, want 60..99", got)
	}
}

// TestFileThatCannotBeRecreatedIsCounted: when the directory is replaced by
// a regular file, no record can be written; every one is counted and
// reported, and writing resumes once the path is usable again.
func TestFileThatCannotBeRecreatedIsCounted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "app.log")
	var stderr syncBuffer
	h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, time.Hour), WithFile(path, FileOptions{}))
	log := slog.New(h)
	log.Info("first", "seq", 0)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		log.Info("lost", "seq", i)
	}
	if got := h.core.sinks[0].health.failed.Load(); got != 50 {
		t.Errorf("failed = %d, want 50 (one per record)", got)
	}
	if out := string(stderr.Bytes()); !strings.Contains(out, "failed to write 1 records") || !strings.Contains(out, "cannot be made again") {
		t.Errorf("stderr %q: want a report naming the removed file", out)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	log.Info("back", "seq", 51)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSeqs(t, path); !equalInts(got, []int{51}) {
		t.Errorf("file holds %v, want [51]", got)
	}
	if out := string(stderr.Bytes()); !strings.Contains(out, "failed to write 49 records (50 in all)") {
		t.Errorf("stderr %q: want every failed record reported by Close", out)
	}
}

// BenchmarkFileSink is one record through a synchronous file sink, the
// cost the check for a removed or replaced file adds to.
func BenchmarkFileSink(b *testing.B) {
	h := NewHandler(WithoutConsole(), WithFile(filepath.Join(b.TempDir(), "logs", "app.log"), FileOptions{}))
	defer h.Close()
	log := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		log.Info("request completed", "status", 200, "path", "/orders/42")
	}
}

// BenchmarkFileWrite is the rotating file's Write alone.
func BenchmarkFileWrite(b *testing.B) {
	f := newRotatingFile(filepath.Join(b.TempDir(), "logs", "app.log"), FileOptions{})
	defer f.Close()
	line := []byte(`{"time":"2026-02-23T10:15:42.123456Z","level":"INFO","msg":"request completed","status":200,"path":"/orders/42"}` + "\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Write(line); err != nil {
			b.Fatal(err)
		}
	}
}
