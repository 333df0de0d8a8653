package deps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otelkit/otelkit/internal/cache"
	"github.com/otelkit/otelkit/internal/httpconv"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// NewTransport returns an http.RoundTripper that makes every request
// through base visible as a call to the dependency name: a client span,
// a point of http.client.request.duration, and one dependency_call record
// (see the package documentation). It injects the trace context and
// forwards the current request's ID.
//
// A nil base means http.DefaultTransport. If base was itself made by
// NewTransport, its own base is wrapped instead, so a client is never
// instrumented twice. An empty name means the server address of each
// request. The transport is safe for concurrent use and never modifies a
// request; CloseIdleConnections is passed on to base.
func NewTransport(name string, base http.RoundTripper, opts ...Option) http.RoundTripper {
	if t, ok := base.(*transport); ok {
		base = t.base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	cfg := newConfig(opts)
	return &transport{
		name:   strings.TrimSpace(name),
		base:   base,
		cfg:    cfg,
		in:     newInstruments(cfg.tp, cfg.mp),
		series: cache.New(maxSeries, newClientSeries),
	}
}

// NewClient returns a copy of c whose transport is NewTransport(name,
// c.Transport, opts...). c itself is never modified; a nil c means a new
// client with http.DefaultTransport and no timeout. Redirects are followed
// as c says, each one a call of its own.
func NewClient(name string, c *http.Client, opts ...Option) *http.Client {
	var nc http.Client
	if c != nil {
		nc = *c
	}
	nc.Transport = NewTransport(name, nc.Transport, opts...)
	return &nc
}

// transport is the RoundTripper made by NewTransport. It is immutable.
type transport struct {
	name   string
	base   http.RoundTripper
	cfg    *config
	in     *instruments
	series *cache.Memo[clientSeries, []metric.RecordOption]
}

// maxSeries bounds the memo of metric attribute sets per transport. A
// client that calls more distinct hosts than that still gets every point,
// with a set built per call.
const maxSeries = 512

// clientSeries identifies one series of http.client.request.duration.
type clientSeries struct {
	method, host, scheme, dep, errType string
	port, status                       int
}

func newClientSeries(k clientSeries) []metric.RecordOption {
	var kv [7]attribute.KeyValue
	m := append(kv[:0],
		semconv.HTTPRequestMethodKey.String(k.method),
		semconv.ServerAddress(k.host),
		semconv.ServerPort(k.port),
		semconv.URLScheme(k.scheme),
		semconv.ServicePeerName(k.dep),
	)
	if k.status > 0 {
		m = append(m, semconv.HTTPResponseStatusCode(k.status))
	}
	if k.errType != "" {
		m = append(m, semconv.ErrorTypeKey.String(k.errType))
	}
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(m...))}
}

var _ http.RoundTripper = (*transport)(nil)

var errNilRequest = errors.New("deps: nil request or request URL")

// Span kinds as options made once: an option is an interface value, and
// making one per span allocates.
var (
	clientSpan   = trace.WithSpanKind(trace.SpanKindClient)
	internalSpan = trace.WithSpanKind(trace.SpanKindInternal)
)

// CloseIdleConnections closes the idle connections of the base transport,
// if it has the method; http.Client.CloseIdleConnections calls it.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip sends req through the base transport, with retries when
// WithRetry allows them, and returns the last response or error. It
// returns err == nil whenever a response arrived, whatever its status; the
// caller closes the body.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil {
		if req != nil && req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errNilRequest
	}
	maxAttempts := 1
	if p := t.cfg.retry; p != nil && replayable(req) {
		maxAttempts = p.MaxAttempts
	}
	c := t.newCall(req, maxAttempts > 1)
	var (
		resp *http.Response
		err  error
	)
	for {
		resp, err = c.attempt()
		if c.retries+1 >= maxAttempts {
			break
		}
		wait, ok := c.retryWait(resp, err)
		if !ok || !sleep(c.ctx, wait) {
			break
		}
		c.endAttempt(resp, err, c.attemptEnd)
		discard(resp)
		c.retries++
	}
	return c.finish(resp, err)
}

// httpCall is one logical call: the attempts made for one RoundTrip.
type httpCall struct {
	t         *transport
	req       *http.Request   // the caller's, never modified
	ctx       context.Context // the caller's
	lctx      context.Context // ctx with the logical span, if any
	logical   trace.Span      // nil when retries are off
	dep       string
	url       string // redacted
	method    string // normalized: GET, ..., or _OTHER
	rawMethod string // as sent ("" is GET)
	host      string
	port      int
	scheme    string
	start     time.Time
	prior     int // attempts of the LogicalCall before this one
	redirs    int
	retries   int // retries made by this transport
	reqAttrs  [6]attribute.KeyValue
	nReq      int

	// The current attempt.
	actx         context.Context
	aspan        trace.Span
	attemptStart time.Time
	attemptEnd   time.Time
	errType      string // of the current attempt
	errMsg       string // redacted, of the current attempt
}

// newCall starts a logical call; with retrying, a logical span as well,
// whose children are the attempts.
func (t *transport) newCall(req *http.Request, retrying bool) *httpCall {
	c := &httpCall{
		t:         t,
		req:       req,
		ctx:       req.Context(),
		url:       t.cfg.policy().URL(req.URL),
		method:    httpconv.Method(req.Method),
		rawMethod: req.Method,
		scheme:    req.URL.Scheme,
		prior:     priorAttempts(req),
		redirs:    redirects(req),
	}
	if c.rawMethod == "" {
		c.rawMethod = http.MethodGet
	}
	c.host, c.port = hostPort(req)
	c.dep = t.name
	if c.dep == "" {
		c.dep = c.host
	}
	a := c.reqAttrs[:0]
	a = append(a, semconv.HTTPRequestMethodKey.String(c.method))
	if req.Method != "" && c.method != req.Method {
		a = append(a, semconv.HTTPRequestMethodOriginal(req.Method))
	}
	a = append(a,
		semconv.URLFull(c.url),
		semconv.ServerAddress(c.host),
		semconv.ServerPort(c.port),
		semconv.ServicePeerName(c.dep),
	)
	c.nReq = len(a)
	c.start = time.Now()
	c.lctx = c.ctx
	if retrying {
		c.lctx, c.logical = t.in.tracer.Start(c.ctx, c.dep+" "+c.method,
			internalSpan,
			trace.WithTimestamp(c.start),
			trace.WithAttributes(c.reqAttrs[:c.nReq]...))
	}
	return c
}

// replayable reports whether r may be sent again: an idempotent method (or
// an Idempotency-Key header) and a body that GetBody can make again.
func replayable(r *http.Request) bool {
	if r.Body != nil && r.Body != http.NoBody && r.GetBody == nil {
		return false
	}
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	_, a := r.Header["Idempotency-Key"]
	_, b := r.Header["X-Idempotency-Key"]
	return a || b
}

// resendCount is http.request.resend_count of the current attempt:
// redirects, retries of a LogicalCall and retries of this transport.
func (c *httpCall) resendCount() int { return c.redirs + c.prior + c.retries }

// attempt sends the request once, in a client span of its own.
func (c *httpCall) attempt() (*http.Response, error) {
	t := c.t
	start := c.start
	if c.retries > 0 {
		start = time.Now()
	}
	c.attemptStart = start
	buf := httpconv.GetAttrs()
	attrs := append(buf.A[:0], c.reqAttrs[:c.nReq]...)
	if n := c.resendCount(); n > 0 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(n))
	}
	c.actx, c.aspan = t.in.tracer.Start(c.lctx, httpconv.SpanMethod(c.method),
		clientSpan,
		trace.WithTimestamp(start),
		trace.WithAttributes(attrs...))
	buf.Release()

	out := c.req.WithContext(c.actx)
	out.Header = c.req.Header.Clone()
	if out.Header == nil {
		out.Header = make(http.Header, 2)
	}
	if c.retries > 0 && c.req.Body != nil && c.req.Body != http.NoBody {
		b, err := c.req.GetBody()
		if err != nil {
			c.attemptEnd = time.Now()
			err = fmt.Errorf("deps: replaying the request body: %w", err)
			c.errType, c.errMsg = ErrorType(c.ctx, err), t.cfg.policy().Error(err)
			return nil, err
		}
		out.Body = b
	}
	t.cfg.propagator().Inject(c.actx, propagation.HeaderCarrier(out.Header))
	if h := t.cfg.idHeader; h != "" && out.Header.Get(h) == "" {
		if id := t.cfg.requestIDFrom(c.ctx); id != "" {
			out.Header.Set(h, id)
		}
	}

	resp, err := t.base.RoundTrip(out)
	c.attemptEnd = time.Now()
	switch {
	case err != nil && resp != nil:
		// A broken RoundTripper; http.Client ignores the response too.
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		resp = nil
	case err == nil && resp == nil:
		err = fmt.Errorf("deps: %T returned a nil *Response with a nil error", t.base)
	}
	c.errType, c.errMsg = "", ""
	if err != nil {
		c.errType = ErrorType(c.ctx, err)
		c.errMsg = t.cfg.policy().Error(err)
	}
	return resp, err
}

// endAttempt ends the current attempt's span at end and records its
// duration in http.client.request.duration.
func (c *httpCall) endAttempt(resp *http.Response, err error, end time.Time) {
	defer guard("dependency span")
	status, errType := c.outcome(resp)
	c.endSpan(c.aspan, status, errType, err, end)
	opts := c.t.series.Get(clientSeries{method: c.method, host: c.host, port: c.port, scheme: c.scheme,
		dep: c.dep, status: status, errType: errType})
	c.t.in.httpDur.Record(c.actx, end.Sub(c.attemptStart).Seconds(), opts...)
}

// outcome returns the status of resp (0 without one) and the error.type of
// the current attempt: its error category, else the status class.
func (c *httpCall) outcome(resp *http.Response) (status int, errType string) {
	if resp != nil {
		status = resp.StatusCode
	}
	errType = c.errType
	if errType == "" {
		errType = statusErrorType(status)
	}
	return status, errType
}

// endSpan puts the outcome on span (an attempt's or the logical call's) and
// ends it at end. A caller's cancellation is not an error of the call.
func (c *httpCall) endSpan(span trace.Span, status int, errType string, err error, end time.Time) {
	buf := httpconv.GetAttrs()
	out := buf.A[:0]
	if status > 0 {
		out = append(out, semconv.HTTPResponseStatusCode(status))
	}
	if errType != "" {
		out = append(out, semconv.ErrorTypeKey.String(errType))
	}
	span.SetAttributes(out...)
	buf.Release()
	switch {
	case err != nil && errType != CategoryCanceled:
		span.SetStatus(codes.Error, c.errMsg)
	case err == nil && (status >= 400 || status < 100):
		span.SetStatus(codes.Error, "")
	}
	span.End(trace.WithTimestamp(end))
}

// finish ends the call now, or at body close with WithEndAtBodyClose.
func (c *httpCall) finish(resp *http.Response, err error) (*http.Response, error) {
	if err == nil && c.t.cfg.endAtClose {
		resp.Body = newCallBody(c, resp)
		return resp, nil
	}
	c.complete(resp, err, c.attemptEnd)
	return resp, err
}

// complete ends the last attempt and the logical call at end: span,
// metric and record from the same clock readings.
func (c *httpCall) complete(resp *http.Response, err error, end time.Time) {
	defer guard("dependency_call")
	c.endAttempt(resp, err, end)
	if c.logical != nil {
		status, errType := c.outcome(resp)
		c.endSpan(c.logical, status, errType, err, end)
	}
	c.log(resp, err, end)
}

// sleep waits d, or until ctx is done; it reports whether it waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// drainLimit is how much of a discarded response body is read so its
// connection can be reused, as net/http does for redirects.
const drainLimit = 4 << 10

// discard drains a little of a response that will not be returned, and
// closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}

// hostPort returns server.address and server.port of req: the URL's host
// (else the Host field) and its port, else the scheme's default.
func hostPort(req *http.Request) (string, int) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if host == "" {
		h := req.Host
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
			host, port = strings.Trim(h[:i], "[]"), h[i+1:]
		} else {
			host = strings.Trim(h, "[]")
		}
	}
	if p, err := strconv.Atoi(port); err == nil && p > 0 && p < 65536 {
		return host, p
	}
	if req.URL.Scheme == "https" {
		return host, 443
	}
	return host, 80
}
