//go:build linux

package otelsetup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/otelkit/otelkit/logbridge"
)

// The console goes through lockedWriter, which must let logbridge see the
// terminal behind it.
var _ logbridge.WriterUnwrapper = (*lockedWriter)(nil)

// openPTY returns the two ends of a new pseudo-terminal, or skips the test
// when the system has none to give.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal end: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// consoleOn runs Setup with the text format on console and logs one record.
func consoleOn(t *testing.T, console io.Writer) {
	t.Helper()
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(console),
		WithLogFormat(logbridge.FormatText), WithTracesExporter("none"), WithMetricsExporter("none"),
		WithLogsExporter("none"), WithRuntimeMetrics(false), WithErrorOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	tel.Logger("app").Info("hello")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// readTTY reads what the terminal end received until it has a line
// mentioning "hello".
func readTTY(t *testing.T, master *os.File) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	_ = master.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.Contains(got, []byte("hello")) {
		n, err := master.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading the terminal: %v (read %q)", err, got)
		}
	}
	return got
}

func TestConsoleColourOnATerminalThroughSetup(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	master, tty := openPTY(t)
	consoleOn(t, tty)
	if got := readTTY(t, master); !bytes.Contains(got, []byte("\x1b[32mINFO\x1b[0m")) {
		t.Errorf("no colour on a terminal through Setup: %q", got)
	}
}

func TestNoColourOnATerminalWithNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	master, tty := openPTY(t)
	consoleOn(t, tty)
	if got := readTTY(t, master); bytes.Contains(got, []byte("\x1b[")) {
		t.Errorf("colour despite NO_COLOR: %q", got)
	}
}

func TestNoColourOnAPipeThroughSetup(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	consoleOn(t, w)
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("hello")) || bytes.Contains(got, []byte("\x1b[")) {
		t.Errorf("pipe output: %q, want the record without colour", got)
	}
}
