package httpmw

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys the middleware puts on the server span, besides the
// semantic conventions' http.* ones that otelhttp sets.
const (
	// AttrRequestID is the span attribute that carries the request ID; it
	// has the name of the log field, so one search finds both.
	AttrRequestID = "request_id"
	// AttrUserID is the span attribute set by SetUser (semantic
	// conventions' user.id).
	AttrUserID = string(semconv.UserIDKey)
)

// New returns h wrapped in otelkit's server middleware. From the outside
// in, a request goes through:
//
//  1. the request ID, the client address, the sampling decision
//     (sampling.Policy.Start) and the context fields request_id and user_id,
//     before the span starts, so the trace sampler sees a forced debug and
//     every record of the request carries the ID;
//  2. the server span, a child of the incoming trace context (extracted
//     with the global propagator);
//  3. request_started, panic recovery and request_completed, inside the span
//     so they carry its trace and span IDs;
//  4. h;
//  5. after it, the span's response attributes and the HTTP server metrics
//     (http.server.request.duration and the body sizes), measured with the
//     same clock as request_completed.
//
// The span and metrics follow the semantic conventions with the attributes
// otelhttp gives them, made by the middleware itself in the same pass (see
// docs/ARCHITECTURE.md); with WithOTelHTTPOptions, otelhttp makes them
// instead.
//
// Call New after otelsetup.Setup: options it is not given (redaction,
// sampling, trusted proxies) come from the handler Setup installs as slog's
// default, so one configuration governs the whole service.
//
// The returned handler is safe for concurrent use. New never modifies h.
func New(h http.Handler, opts ...Option) http.Handler {
	cfg := newConfig(opts)
	m := &middleware{cfg: cfg, metrics: newMetrics(cfg.mp)}
	if len(cfg.otelOpts) == 0 {
		m.tel = newServerTelemetry(cfg.tp, cfg.mp)
		m.next = h
		return m
	}
	in := &inner{m: m, next: h}
	oopts := append([]otelhttp.Option(nil), cfg.otelOpts...)
	if cfg.tp != nil {
		oopts = append(oopts, otelhttp.WithTracerProvider(cfg.tp))
	}
	if cfg.mp != nil {
		oopts = append(oopts, otelhttp.WithMeterProvider(cfg.mp))
	}
	m.next = otelhttp.NewHandler(in, "http.server", oopts...)
	return m
}

// middleware is the part of the stack outside the span.
type middleware struct {
	cfg     *config
	metrics *metrics
	tel     *serverTelemetry // nil when otelhttp makes the span and metrics
	next    http.Handler     // h, or otelhttp around inner
}

// ServeHTTP implements http.Handler.
func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := m.cfg
	st := &requestState{cfg: cfg, start: time.Now()}
	var fromProxy bool
	st.client, fromProxy = cfg.clientAddr(r)
	st.id, st.badID, st.badReason = cfg.requestID(r, fromProxy)

	// The context is, from the outside in: the span, the sampling request,
	// the logbridge fields, st, the server's context. With a debug header
	// the sampling policy logs an audit record in Start, so the fields go
	// in first, at the cost of one more request copy, and the record
	// carries request_id; otherwise the sampling request sits below st.
	var (
		sreq *sampling.Request
		ctx  context.Context
	)
	st.Context = r.Context()
	if sp := cfg.sampling; sp != nil && len(r.Header[sp.Header()]) > 0 {
		ctx = logbridge.WithFields(st,
			slog.String(FieldRequestID, st.id),
			slog.Any(FieldUserID, userField{st}))
		ctx, sreq = sp.Start(r.WithContext(ctx))
	} else {
		st.Context, sreq = sp.Start(r)
		ctx = logbridge.WithFields(st,
			slog.String(FieldRequestID, st.id),
			slog.Any(FieldUserID, userField{st}))
	}
	if m.tel != nil {
		ctx = m.tel.start(ctx, r, st)
		if sreq != nil {
			// Innermost again, above the span: every record below its
			// logger's level asks for it, and finds it without a walk.
			ctx = sampling.NewContext(ctx, sreq)
		}
	}
	r = r.WithContext(ctx)

	st.idHeader[0] = st.id
	w.Header()[cfg.idHeader] = st.idHeader[:]

	st.w = responseWriter{w: w, start: st.start, responseTime: cfg.responseTime}
	if r.Body != nil && r.Body != http.NoBody {
		st.body.rc = r.Body
		r.Body = &st.body
	}
	defer func() {
		// Always, panics included, as sampling requires.
		end := st.end
		if end.IsZero() { // otelhttp's filters skipped serve
			end = time.Now()
		}
		_ = sreq.Finish(st.w.statusCode(), end.Sub(st.start), st.panicked)
	}()
	if m.tel == nil {
		m.next.ServeHTTP(st.w.wrap(), r)
		return
	}
	m.serve(st.w.wrap(), r, st, m.next)
}

// inner is the part of the stack inside the otelhttp span, when otelhttp
// makes it.
type inner struct {
	m    *middleware
	next http.Handler
}

// ServeHTTP implements http.Handler.
func (in *inner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := stateFrom(r.Context())
	if st == nil {
		in.next.ServeHTTP(w, r)
		return
	}
	st.span = trace.SpanFromContext(r.Context())
	in.m.serve(w, r, st, in.next)
}

// serve runs next inside the span: request_started before it, panic
// recovery and request_completed after it. It must pass r itself to next,
// never a copy: http.ServeMux sets r.Pattern on the request it is given,
// and the route is read from the same request afterwards.
func (m *middleware) serve(w http.ResponseWriter, r *http.Request, st *requestState, next http.Handler) {
	ctx := r.Context()
	if st.badID != "" {
		m.logReplacedID(ctx, st)
	}
	m.logStarted(ctx, r, st)
	defer func() { m.finish(w, r, st, recover()) }()
	next.ServeHTTP(w, r)
}

// spoofable reports whether otelhttp may have taken client.address from a
// forwarding header that we do not trust (only when otelhttp makes the span).
func (m *middleware) spoofable(r *http.Request) bool {
	if len(r.Header["X-Forwarded-For"]) > 0 {
		return true
	}
	return len(m.cfg.proxies) > 0 && len(r.Header[m.cfg.fwdHeader]) > 0
}

// finish runs after the handler, panicking or not: it recovers a panic,
// settles the route, and writes request_completed and auth_failed.
func (m *middleware) finish(w http.ResponseWriter, r *http.Request, st *requestState, p any) {
	st.end = time.Now()
	route := m.settleRoute(r, st)
	if m.tel == nil && st.span.IsRecording() {
		// One call for all our attributes: each SetAttributes may grow the
		// span's attribute slice.
		attrs := append(st.attrs[:0], attribute.String(AttrRequestID, st.id))
		if route != "" {
			attrs = append(attrs, semconv.HTTPRoute(route))
		}
		if m.spoofable(r) {
			// otelhttp takes client.address from X-Forwarded-For whoever
			// sent it; this is the address we trust.
			attrs = append(attrs, semconv.ClientAddress(addrString(st.client)))
		}
		st.span.SetAttributes(attrs...)
	}
	abort := false
	if p != nil {
		if p == http.ErrAbortHandler { //nolint:errorlint // net/http compares it so
			st.aborted = true
		} else {
			st.panicked = true
			abort = m.recovered(w, r, st, route, p)
		}
	}
	status := st.w.statusCode()
	m.logCompleted(r.Context(), r, st, route, status)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		m.authFailed(r.Context(), r, st, route, status)
	}
	if m.tel != nil {
		m.tel.end(r.Context(), r, st, route, status)
	}
	switch {
	case st.aborted:
		panic(p)
	case abort:
		// The response was under way when the handler panicked: abort
		// the connection so the client cannot take a cut-off body for a
		// whole one. net/http does not log ErrAbortHandler.
		panic(http.ErrAbortHandler)
	}
}
