package logbridge

import (
	"encoding/json"
	"errors"
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

var fileT0 = time.Date(2026, 2, 23, 10, 0, 0, 0, time.UTC)

// checked logs seq and moves the clock past the check interval first, so
// the file is checked after that record and forgets what came before.
func checked(log *slog.Logger, clock *fakeClock, seq int) {
	clock.advance(fileCheckInterval)
	log.Info("checked", "seq", seq)
}

// clockedFile is a handler with one file sink at dir/app.log on a fake
// clock, having logged seq 0 and then seq 1, after which the file was
// checked.
type clockedFile struct {
	h         *Handler
	log       *slog.Logger
	clock     *fakeClock
	stderr    *syncBuffer
	dir, path string
}

func newClockedFile(t *testing.T, start time.Time, fo FileOptions) *clockedFile {
	dir := filepath.Join(t.TempDir(), "logs")
	c := &clockedFile{clock: &fakeClock{t: start}, stderr: &syncBuffer{}, dir: dir, path: filepath.Join(dir, "app.log")}
	fo.Now = c.clock.now
	c.h = NewHandler(WithoutConsole(), WithErrorOutput(c.stderr, time.Hour), WithFile(c.path, fo))
	c.log = slog.New(c.h)
	c.log.Info("before", "seq", 0)
	checked(c.log, c.clock, 1)
	return c
}

// TestFileRecreatedWhenRemoved: the log file, or its whole directory,
// removed while the service runs, with no check of the file until Close,
// is made again by Close (0750 directory, 0600 file), and every record
// logged after the removal is in it: none lost, none counted as failed.
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
				clock := &fakeClock{t: fileT0}
				h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, time.Hour), WithFile(path, FileOptions{Now: clock.now}, opts...))
				log := slog.New(h)
				for i := range 100 {
					log.Info("before", "seq", i)
				}
				lines := func(n int) {
					if async {
						waitFor(t, func() bool {
							b, _ := os.ReadFile(path)
							return strings.Count(string(b), "\n") == n
						})
					}
				}
				lines(100)
				checked(log, clock, 100)
				lines(101)
				if err := tc.remove(dir, path); err != nil {
					t.Fatal(err)
				}
				for i := 101; i < 200; i++ {
					log.Info("after", "seq", i)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				if got := fileSeqs(t, path); !equalInts(got, seqRange(101, 200)) {
					t.Errorf("async=%v: the file holds %v, want the 99 records after the removal", async, got)
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

// TestFileRecreatedWithinTheCheckInterval: with the real clock, the file
// is made again while records keep coming, by the first check after the
// removal; the records since the check before it are written again, so the
// new file holds every record after the removal and, before them, a run of
// the last ones before it.
func TestFileRecreatedWithinTheCheckInterval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "app.log")
	h := NewHandler(WithoutConsole(), WithErrorOutput(&syncBuffer{}, time.Hour), WithFile(path, FileOptions{}))
	log := slog.New(h)
	for i := range 100 {
		log.Info("before", "seq", i)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	seq := 100
	deadline := time.Now().Add(10 * time.Second)
	for ; time.Now().Before(deadline); seq++ {
		log.Info("after", "seq", seq)
		if _, err := os.Stat(path); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("not made again while logging for 10s: %v", err)
	}
	for range 10 {
		seq++
		log.Info("after", "seq", seq)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	got := fileSeqs(t, path)
	if len(got) == 0 || got[0] > 100 || !equalInts(got, seqRange(got[0], seq+1)) {
		t.Errorf("the file holds %v, want every record from 100 to %d, after a run of the last ones before", got, seq)
	}
	if n := sinkLosses(h); n != 0 {
		t.Errorf("%d records counted lost", n)
	}
}

// TestFileRecreatedPastTheCap: records logged after the removal reaching
// 256 KiB make the file be checked and made again at once, whatever the
// clock; then Close adds the rest.
func TestFileRecreatedPastTheCap(t *testing.T) {
	c := newClockedFile(t, fileT0, FileOptions{})
	h, log, path := c.h, c.log, c.path
	if err := os.RemoveAll(c.dir); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("p", 1000)
	const n = 2 + 3*recentCap/1000
	for i := 2; i < n; i++ {
		log.Info("after", "seq", i, "pad", pad)
	}
	mid := fileSeqs(t, path)
	if len(mid) < recentCap/1100 || !equalInts(mid, seqRange(2, 2+len(mid))) {
		t.Errorf("before Close, the file holds %v, want the first 256 KiB of records after the removal at least", mid)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSeqs(t, path); !equalInts(got, seqRange(2, n)) {
		t.Errorf("the file holds %v, want 2..%d", got, n-1)
	}
}

// TestFileRemovedBeforeARotation: a file removed and then due for rotation
// is checked first, so the records it took after the removal are in the
// rotated file, not rotated away with it.
func TestFileRemovedBeforeARotation(t *testing.T) {
	c := newClockedFile(t, fileT0.Add(59*time.Minute), FileOptions{Rotate: RotateHourly})
	h, log, path, clock := c.h, c.log, c.path, c.clock
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 10; i++ {
		log.Info("after", "seq", i)
	}
	clock.advance(time.Hour)
	log.Info("next hour", "seq", 10)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	backups := (&rotatingFile{path: path}).backups()
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	if got := fileSeqs(t, backups[0].path); !equalInts(got, seqRange(2, 10)) {
		t.Errorf("the rotated file holds %v, want 2..9", got)
	}
	if got := fileSeqs(t, path); !equalInts(got, []int{10}) {
		t.Errorf("the new file holds %v, want [10]", got)
	}
}

// TestFileRecreatedWhenRenamedAway: a log file moved away (logrotate
// without copytruncate) keeps the records until the next check of the
// path, at most 100 ms later; from then on a new file at the path gets
// them. Between the two files, every record is there once.
func TestFileRecreatedWhenRenamedAway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	clock := &fakeClock{t: fileT0}
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
	checked(log, clock, 60) // the record the check follows is in the moved file
	for i := 61; i < 100; i++ {
		log.Info("after", "seq", i)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSeqs(t, path+".1"); !equalInts(got, seqRange(0, 61)) {
		t.Errorf("the moved file holds %v, want 0..60", got)
	}
	if got := fileSeqs(t, path); !equalInts(got, seqRange(61, 100)) {
		t.Errorf("the new file holds %v, want 61..99", got)
	}
}

// replaceDirByFile removes dir and puts a regular file in its place, so
// no file can be made under it.
func replaceDirByFile(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFileThatCannotBeRecreatedIsCounted: when the directory is replaced by
// a regular file, the records logged since are lost, and each is counted
// and reported: those the check that finds the removal cannot write again,
// as many as they are, and every later one; writing resumes once the path
// is usable again.
func TestFileThatCannotBeRecreatedIsCounted(t *testing.T) {
	c := newClockedFile(t, fileT0, FileOptions{})
	h, log, path, clock, stderr, dir := c.h, c.log, c.path, c.clock, c.stderr, c.dir
	replaceDirByFile(t, dir)
	for i := 2; i < 52; i++ {
		log.Info("lost", "seq", i)
	}
	checked(log, clock, 52)
	failed := func() int64 { return h.core.sinks[0].health.failed.Load() }
	if got := failed(); got != 51 {
		t.Errorf("failed = %d, want 51: the records since the last check", got)
	}
	if out := string(stderr.Bytes()); !strings.Contains(out, "failed to write 51 records (51 in all)") || !strings.Contains(out, "cannot be made again (51 records lost)") {
		t.Errorf("stderr %q: want a report of the 51 records, naming the removed file", out)
	}
	for i := 53; i < 60; i++ {
		log.Info("lost", "seq", i)
	}
	if got := failed(); got != 58 {
		t.Errorf("failed = %d, want 58, one per record after the removal", got)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	log.Info("back", "seq", 60)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fileSeqs(t, path); !equalInts(got, []int{60}) {
		t.Errorf("file holds %v, want [60]", got)
	}
	if out := string(stderr.Bytes()); !strings.Contains(out, "failed to write 7 records (58 in all)") {
		t.Errorf("stderr %q: want every failed record reported by Close", out)
	}
}

// TestFileThatCannotBeRecreatedAtClose: records logged after the
// directory was replaced by a file, with no check until Close, are lost;
// Close's error says how many.
func TestFileThatCannotBeRecreatedAtClose(t *testing.T) {
	c := newClockedFile(t, fileT0, FileOptions{})
	replaceDirByFile(t, c.dir)
	for i := 2; i < 22; i++ {
		c.log.Info("lost", "seq", i)
	}
	err := c.h.Close()
	if rl, ok := errors.AsType[*recordsLostError](err); !ok || rl.n != 20 || !strings.Contains(err.Error(), "(20 records lost)") {
		t.Errorf("Close: %v, want 20 records lost", err)
	}
	// Counted and reported like any failed write, not only returned.
	if out := string(c.stderr.Bytes()); !strings.Contains(out, "failed to write 20 records (20 in all)") {
		t.Errorf("stderr %q: want the 20 records reported as failed writes", out)
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
