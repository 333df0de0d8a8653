package otelsetup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// logRingSize is the queue size given to the SDK's batch log processor.
// The SDK allocates its queue up front, about 600 bytes a record, so the
// configured queue size (OTEL_BLRP_MAX_QUEUE_SIZE, 20,480 by default) is
// not given to it: records past the ring wait in the logQueue's spill list,
// which only a burst or an outage makes grow.
const logRingSize = 2048

// logQueue sits in front of the SDK's batch log processor and makes its
// queue as large as configured without allocating it up front. Records go
// to the processor while its ring has room; past that they are cloned into
// a spill list, which feeds the ring again as the exporter takes batches
// out of it (and on ForceFlush and Shutdown), in the order the records
// came. The spill list is freed once it has drained.
//
// Admission bounds ring and spill list together at the configured size,
// and counts every record that does not fit: the SDK processor never drops
// one silently.
type logQueue struct {
	sdklog.Processor // the SDK's batch processor (or a simple one)
	adm              *admission
	ring             int64        // the SDK processor's queue size
	inRing           atomic.Int64 // handed to the SDK processor, not yet taken by the exporter
	spilling         atomic.Bool  // the spill list is not empty

	mu      sync.Mutex
	spill   []sdklog.Record // spill[head:] wait for the ring, oldest first
	head    int
	stopped bool // Shutdown has run: records go straight to the processor
}

// OnEmit admits r and hands it to the SDK processor, or spills a copy of it
// when the processor's ring is full or older records are waiting.
func (q *logQueue) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if !q.adm.admit() {
		return nil
	}
	if !q.spilling.Load() {
		if q.inRing.Add(1) <= q.ring {
			return q.Processor.OnEmit(ctx, r)
		}
		q.inRing.Add(-1)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return q.Processor.OnEmit(ctx, r)
	}
	q.drainLocked()
	if q.head == len(q.spill) {
		if q.inRing.Add(1) <= q.ring {
			return q.Processor.OnEmit(ctx, r)
		}
		q.inRing.Add(-1)
	}
	q.spill = append(q.spill, r.Clone())
	q.spilling.Store(true)
	return nil
}

// taken tells the queue that the exporter took n records out of the ring,
// and moves spilled records into the room they left.
func (q *logQueue) taken(n int) {
	q.inRing.Add(-int64(n))
	if q.spilling.Load() {
		q.mu.Lock()
		q.drainLocked()
		q.mu.Unlock()
	}
}

// drainLocked moves spilled records into the ring while it has room, and
// frees the spill list once it is empty. q.mu must be held.
func (q *logQueue) drainLocked() {
	for q.head < len(q.spill) {
		if q.inRing.Add(1) > q.ring {
			q.inRing.Add(-1)
			break
		}
		// The processor copies the record (the batch processor clones it).
		_ = q.Processor.OnEmit(context.Background(), &q.spill[q.head])
		q.spill[q.head] = sdklog.Record{}
		q.head++
	}
	switch {
	case q.head == len(q.spill):
		if cap(q.spill) > int(q.ring) {
			q.spill = nil // a burst's list goes back to the heap
		} else {
			q.spill = q.spill[:0]
		}
		q.head = 0
		q.spilling.Store(false)
	case q.head > len(q.spill)/2:
		// Keep appends from growing the list behind a drained front.
		n := copy(q.spill, q.spill[q.head:])
		clear(q.spill[n:])
		q.spill = q.spill[:n]
		q.head = 0
	}
}

// spillLen is the number of records waiting in the spill list.
func (q *logQueue) spillLen() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.spill) - q.head
}

// ForceFlush exports every record emitted before it was called, spilled
// ones included, bounded by ctx.
func (q *logQueue) ForceFlush(ctx context.Context) error {
	for {
		// Each round fills the ring from the spill list and exports it
		// (the exports refill the ring as they take batches out). The last
		// round starts with the spill list empty.
		q.mu.Lock()
		q.drainLocked()
		empty := q.head == len(q.spill)
		q.mu.Unlock()
		if err := q.flushProcessor(ctx); err != nil || empty {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// flushProcessor runs the SDK processor's ForceFlush to its end and waits
// for it until ctx ends. The batch processor takes every queued record out
// before it exports them batch by batch, and stops between batches when
// the flush's context ends: the records of the batches left would be lost
// without reaching the counting exporter, and would keep their places in
// the ring's and the admission's counts for good. So the flush itself is
// not bounded by ctx; each of its exports is, by the export timeout, and
// by Shutdown, which cancels exports still running at its deadline.
func (q *logQueue) flushProcessor(ctx context.Context) error {
	if ctx.Done() == nil {
		return q.Processor.ForceFlush(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- q.Processor.ForceFlush(context.WithoutCancel(ctx)) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown exports what is queued, spilled records included, and shuts the
// processor down, bounded by ctx. What is still spilled when ctx ends stays
// counted as admitted, so the admission counts it lost at close. Calling
// it again shuts nothing down twice.
func (q *logQueue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	stopped := q.stopped
	q.mu.Unlock()
	if stopped {
		return q.Processor.Shutdown(ctx)
	}
	ferr := q.ForceFlush(ctx)
	if ctx.Err() != nil {
		ferr = nil // the processor's Shutdown reports the deadline
	}
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	return errors.Join(ferr, q.Processor.Shutdown(ctx))
}
