package logbridge

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stuckWriter blocks every Write until released; the test releases it in
// Cleanup so the sink's goroutine ends before goleak looks.
type stuckWriter struct {
	entered     chan struct{} // closed at the first Write
	release     chan struct{}
	enterOnce   sync.Once
	releaseOnce sync.Once
	lines       atomic.Int64
	closed      atomic.Bool
}

func newStuckWriter(t *testing.T) *stuckWriter {
	w := &stuckWriter{entered: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(w.unblock)
	return w
}

func (w *stuckWriter) unblock() { w.releaseOnce.Do(func() { close(w.release) }) }

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.enterOnce.Do(func() { close(w.entered) })
	<-w.release
	w.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	return len(p), nil
}

func (w *stuckWriter) Close() error {
	w.closed.Store(true)
	return nil
}

func TestCloseContextBoundedWhenWriterBlocks(t *testing.T) {
	w := newStuckWriter(t)
	var stderr syncBuffer
	h := NewHandler(WithConsole(w, SinkAsync(100)), WithErrorOutput(&stderr, time.Hour))
	log := slog.New(h)
	log.Info("first") // taken by the sink's goroutine, which blocks in Write
	<-w.entered
	for i := range 9 {
		log.Info("queued", "i", i)
	}
	const deadline = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := closeWithin(t, h, ctx, w)
	if d := time.Since(start); d > deadline+500*time.Millisecond {
		t.Errorf("CloseContext took %v with a %v deadline", d, deadline)
	}
	if err == nil || !strings.Contains(err.Error(), "9 queued records lost") {
		t.Errorf("CloseContext error = %v, want one reporting 9 lost records", err)
	}
	if got := h.core.sinks[0].health.lost.Load(); got != 9 {
		t.Errorf("lost = %d, want 9", got)
	}
	if got := string(stderr.Bytes()); !strings.Contains(got, "log sink console lost 9 queued records at shutdown") {
		t.Errorf("no report of the lost records: %q", got)
	}
	// Later calls return the same result at once.
	start = time.Now()
	if err2 := h.Close(); err2 == nil || err2.Error() != err.Error() || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Close after CloseContext = %v (after %v), want %v at once", err2, time.Since(start), err)
	}
	// Released, the goroutine finishes its Write and writes nothing more.
	w.unblock()
	waitFor(t, func() bool { return w.lines.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	if got := w.lines.Load(); got != 1 {
		t.Errorf("%d lines written after the writer was released, want only the one under way", got)
	}
}

func TestCloseContextClosesWriterAfterItsWriteReturns(t *testing.T) {
	w := newStuckWriter(t)
	h := NewHandler(WithWriter("stuck", w, SinkAsync(10)), WithErrorOutput(&syncBuffer{}, time.Hour))
	slog.New(h).Info("first")
	<-w.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := closeWithin(t, h, ctx, w); err == nil {
		t.Error("CloseContext returned nil although its writer never finished")
	}
	if w.closed.Load() {
		t.Fatal("the writer was closed while its Write was still under way")
	}
	w.unblock()
	waitFor(t, w.closed.Load)
}

func TestCloseContextDrainsAWorkingWriter(t *testing.T) {
	var buf syncBuffer
	h := NewHandler(WithConsole(&buf, SinkAsync(2000)), WithErrorOutput(&syncBuffer{}, time.Hour))
	for i := range 1000 {
		slog.New(h).Info("queued", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.CloseContext(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(buf.Bytes(), []byte("\n")); got != 1000 {
		t.Errorf("%d lines written, want 1000", got)
	}
	if got := h.core.sinks[0].health.lost.Load(); got != 0 {
		t.Errorf("lost = %d, want 0", got)
	}
}

// closeWithin runs h.CloseContext(ctx) and fails the test, releasing w,
// when it has not returned within 5s.
func closeWithin(t *testing.T, h *Handler, ctx context.Context, w *stuckWriter) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.CloseContext(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		w.unblock()
		<-done
		t.Fatal("CloseContext still blocked after 5s")
		return nil
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
