package otelsetup

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// stuckConsole is a console whose Write blocks until the test ends.
type stuckConsole struct {
	entered     chan struct{} // closed at the first Write
	release     chan struct{}
	enterOnce   sync.Once
	releaseOnce sync.Once
}

func newStuckConsole(t *testing.T) *stuckConsole {
	w := &stuckConsole{entered: make(chan struct{}), release: make(chan struct{})}
	// Release the sink's goroutine, still blocked in Write, so goleak passes.
	t.Cleanup(func() { w.releaseOnce.Do(func() { close(w.release) }) })
	return w
}

func (w *stuckConsole) Write(p []byte) (int, error) {
	w.enterOnce.Do(func() { close(w.entered) })
	<-w.release
	return len(p), nil
}

// closeTestBuffer is a bytes.Buffer safe for concurrent use.
type closeTestBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *closeTestBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *closeTestBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestShutdownBoundedWhenAsyncConsoleBlocks(t *testing.T) {
	w := newStuckConsole(t)
	var stderr closeTestBuffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(w),
		WithErrorOutput(&stderr), WithSetting("logs.async_queue", "100"),
		WithTracesExporter("none"), WithMetricsExporter("none"), WithLogsExporter("none"), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	<-w.entered // the start-up record holds the writer
	for i := range 20 {
		tel.Logger("app").Info("queued", "i", i)
	}
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- tel.Shutdown(ctx) }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		w.releaseOnce.Do(func() { close(w.release) })
		<-done
		t.Fatalf("Shutdown with a %v deadline still blocked after 5s", deadline)
	}
	if d := time.Since(start); d > deadline+500*time.Millisecond {
		t.Errorf("Shutdown took %v with a %v deadline", d, deadline)
	}
	if err == nil {
		t.Error("Shutdown reported no error although the console lost queued records")
	}
	if got := stderr.String(); !strings.Contains(got, "log sink console lost 20 queued records") {
		t.Errorf("no report of the 20 lost records on stderr: %q", got)
	}
}
