package logbridge

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/internal/escape"
)

// reporter tells the error output about a sink's trouble at most once per
// interval: records dropped by a full queue, writes that failed, records
// still queued when a bounded close gave up.
type reporter struct {
	w        io.Writer
	interval time.Duration
	mu       sync.Mutex
}

// sinkHealth is one sink's trouble since its last report.
type sinkHealth struct {
	name       string
	dropped    atomic.Int64 // total dropped (queue full)
	failed     atomic.Int64 // total failed writes
	lost       atomic.Int64 // total still queued when a bounded close gave up
	reportedD  atomic.Int64
	reportedF  atomic.Int64
	reportedL  atomic.Int64
	lastReport atomic.Int64 // unix nanoseconds
	lastErr    atomic.Value // string
}

func (r *reporter) drop(h *sinkHealth) {
	h.dropped.Add(1)
	r.maybe(h)
}

// multiLoss is a Write error that cost more than the one record being
// written: recordsLost says how many records in all.
type multiLoss interface {
	error
	recordsLost() int64
}

// fail counts a failed Write: one record, or as many as a [multiLoss]
// error says.
func (r *reporter) fail(h *sinkHealth, err error) {
	n := int64(1)
	if ml, ok := errors.AsType[multiLoss](err); ok {
		n = ml.recordsLost()
	}
	h.failed.Add(n)
	h.lastErr.Store(err.Error())
	r.maybe(h)
}

func (r *reporter) maybe(h *sinkHealth) {
	now := time.Now().UnixNano()
	last := h.lastReport.Load()
	if now-last < int64(r.interval) || !h.lastReport.CompareAndSwap(last, now) {
		return
	}
	r.report(h)
}

// report writes h's news, if any. Safe to call at any time (at Close, say).
func (r *reporter) report(h *sinkHealth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, f, l := h.dropped.Load(), h.failed.Load(), h.lost.Load()
	if dd := d - h.reportedD.Swap(d); dd > 0 {
		fmt.Fprintf(r.w, "otelkit: log sink %s dropped %d records (queue full; %d in all)\n", h.name, dd, d)
	}
	if df := f - h.reportedF.Swap(f); df > 0 {
		// The error can carry anyone's text (a path, a peer's answer):
		// escaped, the report stays one line.
		last, _ := h.lastErr.Load().(string)
		fmt.Fprintf(r.w, "otelkit: log sink %s failed to write %d records (%d in all): %s\n", h.name, df, f, escape.AppendTextMessage(nil, last))
	}
	if dl := l - h.reportedL.Swap(l); dl > 0 {
		fmt.Fprintf(r.w, "otelkit: log sink %s lost %d queued records at shutdown (its writer did not finish in time)\n", h.name, dl)
	}
}
