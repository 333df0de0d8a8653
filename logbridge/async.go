package logbridge

import (
	"sync"
	"sync/atomic"
)

// asyncWriter writes formatted lines on a goroutine of its own through a
// bounded queue. Enqueue never blocks: a full queue drops the line and
// counts it.
type asyncWriter struct {
	out     *output
	queue   chan *[]byte
	dropped atomic.Int64
	onErr   func(error)

	closeOnce sync.Once
	mu        sync.RWMutex // held for reading while sending, for writing to close
	closed    bool
	done      chan struct{}
}

func newAsyncWriter(out *output, size int, onErr func(error)) *asyncWriter {
	a := &asyncWriter{out: out, queue: make(chan *[]byte, size), onErr: onErr, done: make(chan struct{})}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for bp := range a.queue {
		if err := a.out.write(*bp); err != nil {
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
	select {
	case a.queue <- bp:
		return true
	default:
		putBuf(bp)
		a.dropped.Add(1)
		return false
	}
}

// close stops taking lines and waits until every queued line is written.
func (a *asyncWriter) close() {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		close(a.queue)
		a.mu.Unlock()
	})
	<-a.done
}
