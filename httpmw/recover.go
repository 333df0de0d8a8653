package httpmw

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/otelkit/otelkit/internal/printform"
	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Headers that describe the body a panicking handler had meant to send;
// they are removed before the 500 is written in its place.
var bodyHeaders = [...]string{
	"Content-Length", "Content-Type", "Content-Encoding", "Content-Range",
	"Content-Disposition", "Content-Language", "Etag", "Last-Modified",
	"Transfer-Encoding", "Trailer",
}

// recovered handles a panic of the handler with value p: one ERROR
// panic_recovered record with the redacted value and the stack, an
// exception event and error status on the span, and a 500 carrying the
// request ID when nothing was written yet. It reports whether the
// connection must be aborted because a response was already under way.
func (m *middleware) recovered(w http.ResponseWriter, r *http.Request, st *requestState, route string, p any) (abort bool) {
	// The deferred call runs on the panicking goroutine's stack, so the
	// stack still shows where the panic happened.
	stack := string(debug.Stack())
	value := m.cfg.redact.Print(p) // as the sinks print it, redacted
	typ := fmt.Sprintf("%T", p)
	ctx := r.Context()

	if st.span.IsRecording() {
		st.span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
			semconv.ExceptionType(typ),
			semconv.ExceptionMessage(value),
			semconv.ExceptionStacktrace(stack),
		))
		st.span.SetStatus(codes.Error, "panic: "+typ)
	}

	logAttrs(ctx, m.cfg.log(), slog.LevelError, "panic recovered",
		slog.String(FieldEvent, EventPanicRecovered),
		slog.String(FieldPanic, value),
		slog.String(FieldPanicType, typ),
		slog.String(FieldMethod, r.Method),
		slog.String(FieldPath, st.redactedPath(r)),
		slog.String(FieldRoute, route),
		slog.String(logbridge.StackKey, stack),
	)

	switch {
	case st.w.hijacked:
		// The connection belongs to the handler now.
		return false
	case st.w.wroteHeader:
		return true
	}
	h := w.Header()
	for _, k := range bodyHeaders {
		delete(h, k)
	}
	writeJSONError(w, http.StatusInternalServerError, errorBody{
		Message:   http.StatusText(http.StatusInternalServerError),
		RequestID: st.id,
	})
	return false
}

// panicText formats a panic value as the sinks print values (JSON for
// structs and maps, so a field tagged json:"-" is not shown). A value whose
// Error or String method panics in turn gives a fixed text.
func panicText(p any) string { return printform.Sprint(p) }
