package sampling

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Values of the sampled_by attribute, which says why a record below the
// configured level was written.
const (
	// SampledByKey is the attribute key that marks such records.
	SampledByKey = "sampled_by"
	// SampledByDebug marks records of a request with trusted forced debug.
	SampledByDebug = "debug"
	// SampledByRatio marks records of a ratio-sampled request.
	SampledByRatio = "ratio"
	// SampledByTail marks records emitted from a tail buffer.
	SampledByTail = "tail"
)

// States of Request.detail: whether forced debug or ratio sampling turns on
// detail for the request. Unknown lasts until a trace ID is seen.
const (
	detailUnknown uint32 = iota
	detailOn
	detailOff
)

// Request is the sampling state of one request, created by [Policy.Start]
// and found with [FromContext]. Its methods are safe for concurrent use by
// the goroutines that serve the request, and every method is valid on a nil
// *Request, which enables nothing.
type Request struct {
	policy      *Policy
	forced      bool
	reason      string
	detailLevel slog.Level
	tailOn      bool       // tail buffering applies: configured and not forced
	tailLevel   slog.Level // highest level held
	tailTrigger slog.Level // lowest level that makes the buffer flush

	detail   atomic.Uint32 // detailUnknown, detailOn or detailOff
	trigger  atomic.Bool   // a record at or above the trigger level was seen
	finished atomic.Bool
	counted  atomic.Bool // counted in policy.open

	mu   sync.Mutex // guards tail and finishing
	tail ring
}

// ctxKeyType is unexported so no other package can make the key. The key is
// a pointer: interface comparison of pointers needs no call to an equality
// function, which makes the lookup on every log record cheaper.
type ctxKeyType struct{ _ byte }

var ctxKey = &ctxKeyType{}

// NewContext returns a copy of ctx that carries req. [Policy.Start] calls it;
// it is exported for tests and for frameworks that create the state
// elsewhere.
//
// A log handler asks for the request on every record below its level, so
// the context NewContext returns is recognised by FromContext without a
// walk up the context chain when it is the innermost one. Middleware that
// adds layers (a span) after Start can call NewContext again on top of
// them to keep records fast (httpmw does).
func NewContext(ctx context.Context, req *Request) context.Context {
	return &requestContext{Context: ctx, req: req}
}

// requestContext is the context that carries a Request.
type requestContext struct {
	context.Context
	req *Request
}

func (c *requestContext) Value(key any) any {
	if key == any(ctxKey) {
		return c.req
	}
	return c.Context.Value(key)
}

// FromContext returns the request state carried by ctx, or nil. It does not
// allocate; a nil ctx is allowed.
func FromContext(ctx context.Context) *Request {
	if c, ok := ctx.(*requestContext); ok {
		return c.req
	}
	if ctx == nil {
		return nil
	}
	req, _ := ctx.Value(ctxKey).(*Request)
	return req
}

// Forced reports whether the request carries a trusted debug header.
func (r *Request) Forced() bool { return r != nil && r.forced }

// Reason returns why debug was forced (ReasonToken or ReasonAllowedPeer), or
// "" if it was not.
func (r *Request) Reason() string {
	if r == nil {
		return ""
	}
	return r.reason
}

// Enabled reports whether records at level are turned on for this request
// by forced debug or ratio sampling, down to the detail level (DEBUG by
// default). A log handler ORs it with its own level check; it says nothing
// about levels the handler already enables.
//
// The ratio decision is made from the span in ctx the first time one is
// found, and cached: its trace ID must fall in the ratio and the span must
// be sampled, so detailed records belong to traces that are recorded. Until
// the span exists, ratio sampling reports false. A ratio of 1 turns detail
// on for every request from the start, before any span exists, whatever
// the trace sampler decides. Enabled does not allocate.
func (r *Request) Enabled(ctx context.Context, level slog.Level) bool {
	// Kept small enough to be inlined into the log handler.
	if r == nil || level < r.detailLevel {
		return false
	}
	d := r.detail.Load()
	if d == detailUnknown {
		return r.decideRatio(ctx)
	}
	return d == detailOn
}

// decideRatio is the slow path of Enabled, taken until a trace ID is seen.
// Concurrent callers compute the same value from the same span context, so
// the plain Store is race-free.
//
// Ratio detail requires both the trace ID rule and, when the span context is
// valid, its sampled flag: with ParentBased sampling a remote parent that was
// not sampled makes the trace unsampled whatever its ID, and a detail ratio
// above the trace sampler's would pick traces the sampler dropped; in both
// cases detailed records would point at a trace that does not exist. With
// no span context at all, nothing is decided and ratio detail stays off
// until a span appears (as before). A trace ID without a span ID (not a
// valid span context, which no SDK produces) is decided by the ID alone.
func (r *Request) decideRatio(ctx context.Context) bool {
	if ctx == nil {
		return false
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return false
	}
	yes := ratioSampled(sc.TraceID(), r.policy.bound) && (sc.IsSampled() || !sc.IsValid())
	if yes {
		r.detail.Store(detailOn)
	} else {
		r.detail.Store(detailOff)
		if !r.tailOn {
			r.uncount()
		}
	}
	return yes
}

// uncount removes the request from its policy's open count, once.
func (r *Request) uncount() {
	if r.counted.CompareAndSwap(true, false) {
		r.policy.open.Add(-1)
	}
}

// SampledBy returns the value for the sampled_by attribute of a record that
// [Request.Enabled] turned on: SampledByDebug, SampledByRatio, or "" when
// neither applies.
func (r *Request) SampledBy(ctx context.Context) string {
	switch {
	case r == nil:
		return ""
	case r.forced:
		return SampledByDebug
	case r.Enabled(ctx, r.detailLevel):
		return SampledByRatio
	}
	return ""
}

// ObserveLevel tells the request that a record at level was logged,
// whatever the handler did with it. A record at or above the tail trigger
// level (ERROR by default) makes the tail buffer flush when the request
// ends. Log handlers call it for every record; it does not allocate.
func (r *Request) ObserveLevel(level slog.Level) {
	if r == nil || !r.tailOn || level < r.tailTrigger {
		return
	}
	if !r.trigger.Load() { // avoid writing a shared cache line on every ERROR
		r.trigger.Store(true)
	}
}
