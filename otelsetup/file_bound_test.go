//go:build unix

package otelsetup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// setupWithin runs Setup and fails the test when it has not returned
// within 20s (a read that never ends, an open that blocks; a whole Setup
// and Shutdown under -race on a loaded machine once took over 5s).
func setupWithin(t *testing.T, opts ...Option) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		tel, err := Setup(context.Background(), append([]Option{WithoutGlobals(), WithConsole(&bytes.Buffer{})}, opts...)...)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err = tel.Shutdown(ctx)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Setup still reading its configuration file after 20s")
		return nil
	}
}

// TestConfigFileIsBounded: a configuration file past 1 MiB, or one that is
// no regular file (a device that never ends, a FIFO no one writes to, a
// directory), is an error that names the file, at once; a file of exactly
// 1 MiB is read.
func TestConfigFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	line := "# " + strings.Repeat("x", 61) + "\n" // 64 bytes
	body := strings.Repeat(line, maxConfigFileSize/len(line))
	if err := os.WriteFile(big, []byte(body+"#"), 0o600); err != nil {
		t.Fatal(err)
	}
	exact := filepath.Join(dir, "exact.yaml")
	if err := os.WriteFile(exact, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		wants      []string
	}{
		{"larger than the bound", big, []string{big, "larger than 1048576 bytes (1024 KiB)"}},
		{"endless device", "/dev/zero", []string{"/dev/zero", "not a regular file", "character device"}},
		{"fifo", fifo, []string{fifo, "not a regular file", "pipe"}},
		{"directory", dir, []string{dir, "not a regular file", "directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTELKIT_CONFIG_FILE", tc.path)
			err := setupWithin(t)
			if err == nil {
				t.Fatal("Setup succeeded, want an error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("exactly the bound", func(t *testing.T) {
		if err := setupWithin(t, WithConfigFile(exact)); err != nil {
			t.Fatalf("a %d-byte file: %v", len(body), err)
		}
	})
}

// TestConfigFileReadIsBounded: a regular file whose size says nothing of
// what reading it gives (as /proc files, or a file still growing) is
// stopped at the bound by the read itself.
func TestConfigFileReadIsBounded(t *testing.T) {
	const path = "/proc/self/maps" // regular, size 0, more than 16 bytes
	if _, err := os.Stat(path); err != nil {
		t.Skip(path, "unavailable:", err)
	}
	if _, err := readBounded(path, 16); err == nil || !strings.Contains(err.Error(), "larger than 16 bytes") || !strings.Contains(err.Error(), path) {
		t.Errorf("readBounded(%s, 16) = %v, want the bound error naming the file", path, err)
	}
}

// TestExporterFilesAreBounded: the certificate and key files the OTLP
// exporters read whole themselves are refused by Setup when they are no
// regular file or past the bound, instead of being read forever; under
// WithoutEnvironment they are not looked at.
func TestExporterFilesAreBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(big, bytes.Repeat([]byte("A"), maxConfigFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ env, path, want string }{
		{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/dev/zero", "not a regular file (a character device)"},
		{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/dev/zero", "not a regular file (a character device)"},
		{"OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", big, "larger than 1048576 bytes"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.path)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
			err := setupWithin(t)
			if err == nil || !strings.Contains(err.Error(), tc.env+"="+tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Setup error = %v, want one naming %s=%s: %s", err, tc.env, tc.path, tc.want)
			}
			if err := setupWithin(t, WithoutEnvironment()); err != nil {
				t.Errorf("under WithoutEnvironment: %v", err)
			}
		})
	}
}
