package sampling

import (
	"context"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
)

// Policy decides per-request verbosity: trusted debug headers, ratio sampling
// keyed on the trace ID, tail buffers, and noisy-record sampling. Build one
// with [New] and share it; it is safe for concurrent use and never modified
// after New. A nil *Policy is valid and turns every feature off.
type Policy struct {
	// open counts this policy's requests that may still turn on a record
	// below the handler's level; while it is zero, Wants answers without a
	// context lookup. It sits alone on its cache line: it is read on every
	// record and written twice per request.
	_    [64]byte
	open atomic.Int64
	_    [56]byte

	cfg    config
	bound  uint64 // ratio bound, see ratioBound
	meters meters
	stats  counters
	noisy  noisyCounters

	// Rate limit of untrusted-attempt warnings.
	nextWarn   atomic.Int64 // unix nanoseconds before which no WARN is logged
	suppressed atomic.Uint64
}

// New returns a Policy configured by opts. It returns an error, joining every
// problem found, when an option is invalid (short secret, bad CIDR, ratio out
// of range, ...).
func New(opts ...Option) (*Policy, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &Policy{cfg: cfg, bound: ratioBound(cfg.ratio)}
	p.meters.mp = cfg.meterProvider
	p.noisy.seed = maphash.MakeSeed()
	return p, nil
}

// TrustedProxies returns a copy of the proxies whose forwarding header the
// policy believes, so HTTP middleware can derive client addresses the same
// way.
func (p *Policy) TrustedProxies() []netip.Prefix {
	if p == nil {
		return nil
	}
	return append([]netip.Prefix(nil), p.cfg.proxies...)
}

// ForwardedHeader returns the forwarding header the trusted proxies set.
func (p *Policy) ForwardedHeader() string {
	if p == nil {
		return "X-Forwarded-For"
	}
	return p.cfg.forwardHeader
}

// Header returns the canonical name of the debug header.
func (p *Policy) Header() string {
	if p == nil {
		return DefaultHeader
	}
	return p.cfg.header
}

// SignToken returns a debug token signed with the policy's secret that
// expires at expiry (see the package function [SignToken]). It returns
// ErrNoSecret when the policy has no secret.
func (p *Policy) SignToken(expiry time.Time) (string, error) {
	if p == nil {
		return "", ErrNoSecret
	}
	return SignToken(p.cfg.secret, expiry)
}

// Start begins the sampling state of one HTTP request. Call it before the
// server span starts (so that [TraceSampler] sees a forced debug) and serve
// the request with the returned context; always call [Request.Finish] when
// the request ends, panics included.
//
// If the debug header is present, Start runs the trust check: a trusted
// request gets forced debug and one debug_sampled audit record at INFO,
// logged with the request's context so that it passes any level; an
// untrusted one is ignored, counted and reported at WARN (rate-limited).
// Start never modifies r and never panics. With a nil policy it returns
// r.Context() and a nil *Request, whose methods do nothing.
func (p *Policy) Start(r *http.Request) (context.Context, *Request) {
	if r == nil {
		return context.Background(), nil
	}
	ctx := r.Context()
	if p == nil {
		return ctx, nil
	}
	forced := Decision{}
	if vals := r.Header.Values(p.cfg.header); len(vals) > 0 {
		if d := p.decide(r, vals); d.Trusted {
			forced = d
		} else {
			p.reject(ctx, r, d)
		}
	}
	req := p.newRequest(forced)
	ctx = NewContext(ctx, req)
	if forced.Trusted {
		// Logged in the request's context, which has forced debug: the
		// audit record passes whatever the logger's level (WARN in
		// production, say).
		p.honour(ctx, r, forced)
	}
	return ctx, req
}

// StartContext begins the sampling state of a unit of work that is not an
// HTTP request (a queue message, a job): ratio sampling and tail buffering
// apply, forced debug does not. Call [Request.Finish] when the work ends.
func (p *Policy) StartContext(ctx context.Context) (context.Context, *Request) {
	if ctx == nil {
		ctx = context.Background()
	}
	if p == nil {
		return ctx, nil
	}
	req := p.newRequest(Decision{})
	return NewContext(ctx, req), req
}

// newRequest builds the state of one request, with forced debug when d is
// trusted. Everything the per-record methods read is copied in, so they
// touch one struct.
func (p *Policy) newRequest(d Decision) *Request {
	r := &Request{
		policy:      p,
		forced:      d.Trusted,
		reason:      d.Reason,
		detailLevel: p.cfg.detailLevel,
		tailOn:      p.cfg.tail && !d.Trusted,
		tailLevel:   p.cfg.tailLevel,
		tailTrigger: p.cfg.tailTrigger,
	}
	switch {
	case d.Trusted || p.bound >= 1<<63:
		r.detail.Store(detailOn)
	case p.bound == 0:
		r.detail.Store(detailOff)
	}
	if r.detail.Load() != detailOff || r.tailOn {
		r.counted.Store(true)
		p.open.Add(1)
	}
	return r
}

// Wants reports whether the request in ctx wants a record at level that the
// log handler does not enable by its own level: to write it now
// ([Request.Enabled]) or to hold it in the tail buffer ([Request.Holds]). It
// is what a log handler's Enabled method ORs with its level check.
//
// While none of the policy's requests in flight is forced, undecided, ratio
// sampled or tail buffering, Wants costs one atomic load and does not look
// at ctx. A request stops counting at [Request.Finish], so records logged
// after it are not wanted. Wants does not allocate.
func (p *Policy) Wants(ctx context.Context, level slog.Level) bool {
	if p == nil || p.open.Load() == 0 {
		return false
	}
	// Request.Enabled and Holds, written out: this runs for every record
	// below a logger's level while any request may want one.
	r := FromContext(ctx)
	if r == nil {
		return false
	}
	if level >= r.detailLevel {
		switch r.detail.Load() {
		case detailOn:
			return true
		case detailUnknown:
			if r.decideRatio(ctx) {
				return true
			}
		}
	}
	return r.Holds(level)
}

// ObserveLevel reports a record at level to the request in ctx (see
// [Request.ObserveLevel]). Below the tail trigger level it returns at once,
// without a context lookup. Log handlers call it for every record, enabled
// or not; it does not allocate.
func (p *Policy) ObserveLevel(ctx context.Context, level slog.Level) {
	if p == nil || !p.cfg.tail || level < p.cfg.tailTrigger || p.open.Load() == 0 {
		return
	}
	FromContext(ctx).ObserveLevel(level)
}

func (p *Policy) logger() *slog.Logger {
	if p.cfg.logger != nil {
		return p.cfg.logger
	}
	return slog.Default()
}

// honour counts a trusted debug request and writes its audit record. The
// path is logged without the query, which may hold secrets.
func (p *Policy) honour(ctx context.Context, r *http.Request, d Decision) {
	p.stats.honoured.Add(1)
	p.meters.debugRequest(ctx, true, d.Reason)
	p.logger().LogAttrs(ctx, slog.LevelInfo, "debug sampling enabled for request",
		slog.String("event", "debug_sampled"),
		slog.String("reason", d.Reason),
		slog.String("client_ip", addrString(d.Client)),
		slog.String("method", r.Method),
		slog.String("path", urlPath(r)),
	)
}

// reject counts an untrusted debug request and reports it at WARN, at most
// once per warn interval; the report says how many were suppressed before
// it. The header value is never logged.
func (p *Policy) reject(ctx context.Context, r *http.Request, d Decision) {
	p.stats.untrusted.Add(1)
	p.meters.debugRequest(ctx, false, d.Reason)
	if !p.allowWarn() {
		p.suppressed.Add(1)
		return
	}
	p.logger().LogAttrs(ctx, slog.LevelWarn, "untrusted debug header ignored",
		slog.String("event", "debug_rejected"),
		slog.String("reason", d.Reason),
		slog.String("client_ip", addrString(d.Client)),
		slog.String("peer", r.RemoteAddr),
		slog.String("method", r.Method),
		slog.String("path", urlPath(r)),
		slog.Uint64("suppressed", p.suppressed.Swap(0)),
	)
}

// allowWarn is a lock-free limiter: one caller per interval wins the swap.
func (p *Policy) allowWarn() bool {
	now := p.cfg.now().UnixNano()
	next := p.nextWarn.Load()
	if now < next {
		return false
	}
	return p.nextWarn.CompareAndSwap(next, now+int64(p.cfg.warnInterval))
}

func urlPath(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.Path
}
