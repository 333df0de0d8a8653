package logbridge

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRetentionByAge: backups older than MaxAgeDays are deleted at the next
// rotation; younger ones stay.
func TestRetentionByAge(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	// Backups left by earlier runs: 10 days and 1 day old.
	for _, age := range []time.Duration{240 * time.Hour, 24 * time.Hour} {
		name := filepath.Join(dir, "app-"+now.Add(-age).Format(backupTimeFormat)+".log")
		if err := os.WriteFile(name, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := NewHandler(WithoutConsole(), WithFile(filepath.Join(dir, "app.log"),
		FileOptions{Rotate: RotateHourly, MaxAgeDays: 7, Now: clock}))
	log := slog.New(h)
	log.Info("first hour")
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	log.Info("second hour") // rotates, then the mill prunes
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	got := strings.Join(names, " ")
	if len(names) != 3 || strings.Contains(got, now.Add(-241*time.Hour).Format("2006-01-02")) {
		t.Errorf("files = %v: want the current file, the 1-day-old backup and the new one", names)
	}
}

func TestFileWriteAfterCloseFails(t *testing.T) {
	f := newRotatingFile(filepath.Join(t.TempDir(), "x.log"), FileOptions{})
	if _, err := f.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("b\n")); err == nil {
		t.Error("write after Close succeeded")
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFilePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.log")
	f := newRotatingFile(path, FileOptions{})
	defer f.Close()
	if _, err := f.Write([]byte("a\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", fi.Mode().Perm())
	}
}
