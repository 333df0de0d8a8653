package httpmw

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel"
)

// Event names, in the event field of the middleware's records.
const (
	EventRequestStarted    = "request_started"        // DEBUG, before the handler
	EventRequestCompleted  = "request_completed"      // level by status, after it
	EventPanicRecovered    = "panic_recovered"        // ERROR, with the stack
	EventHandlerError      = "handler_error"          // from WriteError and HandlerFunc
	EventAuthFailed        = "auth_failed"            // WARN, for 401 and 403
	EventRequestIDReplaced = "request_id_replaced"    // WARN, invalid incoming ID
	EventHealthCheckFailed = "health_check_failed"    // WARN, a check started failing
	EventHealthCheckOK     = "health_check_recovered" // INFO, a failing check passes again
)

// Field names of the middleware's records.
const (
	FieldEvent         = "event"
	FieldRequestID     = "request_id"
	FieldUserID        = "user_id"
	FieldMethod        = "method"
	FieldPath          = "path"
	FieldQuery         = "query"
	FieldRoute         = "route"
	FieldStatus        = "status"
	FieldDurationMS    = "duration_ms"
	FieldBytesIn       = "bytes_in"
	FieldBytesOut      = "bytes_out"
	FieldContentType   = "content_type"
	FieldClientAddress = "client_address"
	FieldUserAgent     = "user_agent"
	FieldHeaders       = "headers"
	FieldSlow          = "slow"
	FieldPanic         = "panic"
	FieldPanicType     = "panic_type"
	FieldError         = "error"
	FieldErrorChain    = "error_chain"
	FieldInvalidID     = "invalid_request_id"
	FieldReason        = "reason"
	FieldPanicked      = "panicked"
	FieldAborted       = "aborted"
	FieldHijacked      = "hijacked"
	FieldCheck         = "check"
	FieldLatencyMS     = "latency_ms"
)

// logAttrs writes one record at level with attrs if the logger takes it.
// Building the record here rather than through slog.Logger.LogAttrs skips
// the caller lookup, which would point into this package anyway.
func logAttrs(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	defer guard()
	h := l.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

// logStarted writes request_started at DEBUG: method, path, redacted query,
// allow-listed and redacted headers, client address and user agent.
func (m *middleware) logStarted(ctx context.Context, r *http.Request, st *requestState) {
	defer guard()
	l := m.cfg.log()
	h := l.Handler()
	if !h.Enabled(ctx, slog.LevelDebug) {
		return
	}
	red := m.cfg.redact
	query := ""
	if r.URL.RawQuery != "" {
		query = strings.TrimPrefix(red.URLString("?"+r.URL.RawQuery), "?")
	}
	rec := slog.NewRecord(time.Now(), slog.LevelDebug, "request started", 0)
	rec.AddAttrs(
		slog.String(FieldEvent, EventRequestStarted),
		slog.String(FieldMethod, r.Method),
		slog.String(FieldPath, st.redactedPath(r)),
		slog.String(FieldQuery, query),
		slog.String(FieldClientAddress, st.clientString()),
		slog.String(FieldUserAgent, red.String(r.UserAgent())),
		red.HeaderAttr(FieldHeaders, r.Header),
	)
	_ = h.Handle(ctx, rec)
}

// logReplacedID notes at WARN that an invalid incoming request ID was
// replaced. Only a sanitized, cut and redacted preview is written.
func (m *middleware) logReplacedID(ctx context.Context, st *requestState) {
	logAttrs(ctx, m.cfg.log(), slog.LevelWarn, "invalid request id replaced",
		slog.String(FieldEvent, EventRequestIDReplaced),
		slog.String(FieldReason, st.badReason),
		slog.String(FieldInvalidID, st.badID),
		slog.String(FieldClientAddress, st.clientString()),
	)
}

// logCompleted writes request_completed at the level of its status, raised
// to WARN when slow, and kept off INFO for skipped paths and health probes.
func (m *middleware) logCompleted(ctx context.Context, r *http.Request, st *requestState, route string, status int) {
	defer guard()
	cfg := m.cfg
	end := st.end
	if end.IsZero() {
		end = time.Now()
	}
	dur := end.Sub(st.start)
	level := cfg.statusLevel(status)
	slow := false
	if threshold := cfg.slowFor(route); threshold > 0 && dur > threshold {
		slow = true
		level = max(level, slog.LevelWarn)
	}
	if level < slog.LevelWarn {
		key, skipped := cfg.skip[r.URL.Path]
		if !skipped && st.quiet.Load() {
			key, skipped = EventRequestCompleted+" "+route, true
		}
		if skipped && (cfg.sampling == nil || !cfg.sampling.KeepNoisy(ctx, key, level)) {
			level = slog.LevelDebug
		}
	}
	h := cfg.log().Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// Every value is redacted here or cannot carry a secret (the route is
	// a template from the code), so logbridge's own pass is skipped.
	rec := slog.NewRecord(end, level, "request completed", 0)
	rec.AddAttrs(
		slog.String(FieldEvent, EventRequestCompleted),
		slog.String(FieldMethod, st.method(r)),
		slog.String(FieldPath, st.redactedPath(r)),
		slog.String(FieldRoute, route),
		slog.Int(FieldStatus, status),
		slog.Float64(FieldDurationMS, millis(dur)),
		slog.Int64(FieldBytesIn, st.body.n),
		slog.Int64(FieldBytesOut, st.w.bytes),
		slog.String(FieldContentType, contentType(cfg, st.w.Header())),
	)
	if slow {
		rec.AddAttrs(slog.Bool(FieldSlow, true))
	}
	if st.panicked {
		rec.AddAttrs(slog.Bool(FieldPanicked, true))
	}
	if st.aborted {
		rec.AddAttrs(slog.Bool(FieldAborted, true))
	}
	if st.w.hijacked {
		rec.AddAttrs(slog.Bool(FieldHijacked, true))
	}
	_ = logbridge.HandleRedacted(ctx, h, rec)
}

// guard, deferred, keeps a panic in a log handler or an option's function
// (a user's WithStatusLevels, say) from escaping into the request: the
// logging path must never take a request down. The panic is reported
// through otel.Handle.
func guard() {
	if p := recover(); p != nil {
		otel.Handle(fmt.Errorf("httpmw: panic while logging: %v", p))
	}
}

// slowFor returns the slow threshold of route.
func (c *config) slowFor(route string) time.Duration {
	if d, ok := c.routeSlow[route]; ok {
		return d
	}
	return c.slow
}

// millis returns d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}

// contentType returns the response's Content-Type for request_completed,
// redacted. A service sends few distinct content types, so their redaction
// is remembered (up to maxCachedValues of them).
func contentType(cfg *config, h http.Header) string {
	v := h.Get("Content-Type")
	if v == "" {
		return ""
	}
	return cfg.contentTypes.Get(v)
}

// maxCachedValues bounds the memo of redacted content types; past it,
// values are redacted each time.
const maxCachedValues = 64
