package sampling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unsafe"
)

// Holds reports whether a record at level, which neither the log handler nor
// [Request.Enabled] turns on, would be held in the request's tail buffer:
// tail buffering is configured, the request is not forced, the level is at or
// below the tail level, and the request has not finished. It does not
// allocate.
func (r *Request) Holds(level slog.Level) bool {
	return r != nil && r.tailOn && level <= r.tailLevel && !r.finished.Load()
}

// Hold keeps a clone of rec in the request's tail buffer, with the context
// and the handler to emit it to if the request ends badly. h must be the
// handler that writes the record (past the sampling decision): at
// [Request.Finish] the record is passed to h.Handle directly, marked
// sampled_by=tail. Hold reports false, keeping nothing, when [Request.Holds]
// is false for the record's level; the caller then drops the record.
//
// When the buffer is full, by records or by estimated bytes, the oldest
// records are dropped and counted; a record larger than the byte bound on
// its own is not held and is counted as dropped. The estimate includes the
// data that values of kind Any (maps, slices, structs, errors) and
// LogValuers refer to, walked within a fixed amount of work. Values inside
// attributes are kept as given, as any asynchronous handler keeps them.
func (r *Request) Hold(ctx context.Context, rec slog.Record, h slog.Handler) bool {
	if h == nil || !r.Holds(rec.Level) {
		return false
	}
	e := entry{ctx: ctx, h: h, rec: rec.Clone(), size: recordSize(rec)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished.Load() {
		return false
	}
	r.tail.push(e, r.policy.cfg.tailMaxRecords, r.policy.cfg.tailMaxBytes)
	return true
}

// TailLen returns the number of records in the tail buffer and their
// estimated memory in bytes, which never exceeds the configured bound.
func (r *Request) TailLen() (records, bytes int) {
	if r == nil {
		return 0, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tail.n, r.tail.memory()
}

// Finish ends the request. If the request's tail buffer holds records and the
// request ended with a status of 500 or more, a panic, a record at or above
// the trigger level (see [Request.ObserveLevel]), or took at least the slow
// threshold, the records are emitted in order with their own timestamps and
// sampled_by=tail; otherwise they are discarded. Either way they are counted.
//
// Finish returns the joined errors of the handlers, a handler panic included
// as an error. Only the first call does anything; records offered after it
// are not held.
func (r *Request) Finish(status int, dur time.Duration, panicked bool) error {
	if r == nil || !r.finished.CompareAndSwap(false, true) {
		return nil
	}
	r.uncount()
	if !r.tailOn {
		return nil
	}
	r.mu.Lock()
	entries, dropped := r.tail.drain()
	r.mu.Unlock()

	p := r.policy
	flush := status >= 500 || panicked || r.trigger.Load() ||
		(p.cfg.tailSlow > 0 && dur >= p.cfg.tailSlow)
	var emitted, discarded int64
	var errs []error
	if flush {
		for i := range entries {
			if err := entries[i].emit(); err != nil {
				errs = append(errs, err)
			}
			entries[i] = entry{}
		}
		emitted = int64(len(entries))
	} else {
		discarded = int64(len(entries))
	}
	p.stats.tailEmitted.Add(uint64(emitted))
	p.stats.tailDiscard.Add(uint64(discarded))
	p.stats.tailDrop.Add(uint64(dropped))
	p.meters.tailRecords(context.Background(), emitted, discarded, dropped)
	return errors.Join(errs...)
}

// entry is one held record. Entries live by value in the ring, so holding a
// record allocates only for attributes beyond the five a Record keeps inline.
type entry struct {
	ctx  context.Context
	h    slog.Handler
	rec  slog.Record
	size int // estimated bytes beyond the entry itself
}

var entrySize = int(unsafe.Sizeof(entry{}))

// emit writes the record to its handler without the cancellation of the
// request context: the request is ending, the record must still be written.
func (e *entry) emit() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sampling: tail handler panicked: %v", v)
		}
	}()
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	rec := e.rec
	rec.AddAttrs(slog.String(SampledByKey, SampledByTail))
	return e.h.Handle(context.WithoutCancel(ctx), rec)
}

// ring is a FIFO of entries bounded by count and by memory, where memory is
// the slots of its array plus the estimated size of each held record.
type ring struct {
	buf     []entry
	head, n int
	bytes   int   // sum of entry.size of held entries
	dropped int64 // entries dropped on overflow
}

func (q *ring) memory() int { return len(q.buf)*entrySize + q.bytes }

func (q *ring) push(e entry, maxN, maxBytes int) {
	if entrySize+e.size > maxBytes || len(q.buf)*entrySize+e.size > maxBytes {
		q.dropped++ // it cannot fit even in an empty buffer
		return
	}
	for {
		if q.n == len(q.buf) {
			c := min(max(2*len(q.buf), 8), maxN, (maxBytes-q.bytes-e.size)/entrySize)
			if c > len(q.buf) {
				q.grow(c)
				continue
			}
		} else if q.memory()+e.size <= maxBytes {
			break
		}
		q.pop()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
	q.bytes += e.size
}

func (q *ring) grow(c int) {
	buf := make([]entry, c)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

func (q *ring) pop() {
	i := q.head
	q.bytes -= q.buf[i].size
	q.buf[i] = entry{} // release the record for the collector
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.dropped++
}

// drain returns the held entries in order and empties the ring, releasing
// its array.
func (q *ring) drain() ([]entry, int64) {
	out := make([]entry, q.n)
	for i := range q.n {
		out[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	dropped := q.dropped
	*q = ring{}
	return out, dropped
}

// Sizes used by recordSize.
var (
	attrSize  = int(unsafe.Sizeof(slog.Attr{}))
	maxInline = 5 // attributes a slog.Record stores without allocating
)

// recordSize estimates the memory a held clone of rec keeps alive beyond the
// entry itself: the message, attributes stored out of line and the data
// their keys and values refer to, including what values of kind Any and
// LogValuer (maps, structs, errors, ...) reach (see anySize). Strings and
// other data are counted even when shared, so the estimate errs on the high
// side.
func recordSize(rec slog.Record) int {
	n := len(rec.Message)
	if extra := rec.NumAttrs() - maxInline; extra > 0 {
		n += extra * attrSize
	}
	rec.Attrs(func(a slog.Attr) bool {
		n += attrDataSize(a, 0)
		return true
	})
	return n
}

func attrDataSize(a slog.Attr, depth int) int {
	n := len(a.Key)
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		n += len(v.String())
	case slog.KindGroup:
		g := v.Group()
		n += len(g) * attrSize
		if depth < 8 {
			for _, ga := range g {
				n += attrDataSize(ga, depth+1)
			}
		}
	case slog.KindAny, slog.KindLogValuer:
		// What the value refers to, walked within a bound (anySize). The
		// value is kept as given, not rendered: see anySize for why.
		n += anySize(v.Any())
	}
	return n
}
