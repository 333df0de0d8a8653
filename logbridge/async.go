package logbridge

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// maxQueuedBytes bounds the bytes an asynchronous sink holds queued,
// whatever its queue size: records of a megabyte each must not make a
// queue of thousands hold gigabytes while its writer is stalled.
const maxQueuedBytes = 64 << 20

// asyncWriter writes formatted lines on a goroutine of its own through a
// bounded queue. Enqueue never blocks: a full queue (in records, or in
// bytes past maxQueuedBytes) drops the line and counts it.
type asyncWriter struct {
	out     *output
	queue   chan *[]byte
	bytes   atomic.Int64 // queued, not yet written
	dropped atomic.Int64
	onErr   func(error)

	closeOnce sync.Once
	mu        sync.RWMutex // held for reading while sending, for writing to close
	closed    bool
	done      chan struct{}
	// abandoned is set when a bounded close gave up waiting: lines still
	// queued are then counted as lost instead of written.
	abandoned atomic.Bool
}

func newAsyncWriter(out *output, size int, onErr func(error)) *asyncWriter {
	a := &asyncWriter{out: out, queue: make(chan *[]byte, size), onErr: onErr, done: make(chan struct{})}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for bp := range a.queue {
		if a.abandoned.Load() {
			a.lose(bp)
			continue
		}
		err := a.out.write(*bp)
		a.bytes.Add(-int64(len(*bp)))
		if err != nil {
			a.onErr(err)
		}
		putBuf(bp)
	}
}

// enqueue takes ownership of bp. It reports false when the line was
// dropped (queue full or writer closed).
func (a *asyncWriter) enqueue(bp *[]byte) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		putBuf(bp)
		a.dropped.Add(1)
		return false
	}
	n := int64(len(*bp))
	if a.bytes.Add(n) > maxQueuedBytes {
		a.bytes.Add(-n)
		putBuf(bp)
		a.dropped.Add(1)
		return false
	}
	select {
	case a.queue <- bp:
		return true
	default:
		a.bytes.Add(-n)
		putBuf(bp)
		a.dropped.Add(1)
		return false
	}
}

// lose counts a queued line given up at a bounded close.
func (a *asyncWriter) lose(bp *[]byte) {
	a.bytes.Add(-int64(len(*bp)))
	putBuf(bp)
	a.out.health.lost.Add(1)
}

// stop stops taking lines; the goroutine goes on writing the queued ones.
func (a *asyncWriter) stop() {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		close(a.queue)
		a.mu.Unlock()
	})
}

// wait waits until every queued line is written or ctx is done, and reports
// whether the goroutine has ended. When ctx ends first, the lines still
// queued are counted as lost (sinkHealth.lost) and freed; a line being
// written cannot be taken back: the goroutine ends when that Write returns,
// and then writes nothing more. Call stop first.
func (a *asyncWriter) wait(ctx context.Context) bool {
	select {
	case <-a.done:
		return true
	default:
	}
	select {
	case <-a.done:
		return true
	case <-ctx.Done():
	}
	a.abandoned.Store(true)
	// The queue is closed: this ends once it is empty. The goroutine, back
	// from its Write, finds it empty or counts what it takes itself.
	for bp := range a.queue {
		a.lose(bp)
	}
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// unblockingCloser is a sink's closer whose Close may run while a Write is
// under way and makes that Write return soon (a network connection's
// Close does). A bounded close that gives up on such a sink closes it at
// once instead of after the Write.
type unblockingCloser interface {
	io.Closer
	closeUnblocksWrite()
}

// waitDone waits at most d for the goroutine to end.
func (a *asyncWriter) waitDone(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
	}
}
