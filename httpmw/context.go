package httpmw

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/internal/httpconv"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// stateKey finds the requestState in a context.
type stateKey struct{}

// requestState is everything the middleware knows about one request. It
// is made once per request and is also the context the request is served
// with: it embeds the parent context and answers for stateKey itself, which
// saves the allocation of a context.WithValue.
//
// Fields written before the handler runs are read-only afterwards; user,
// route and quiet may be set from any goroutine of the request.
type requestState struct {
	context.Context // the parent: what sampling.Policy.Start returned

	cfg       *config
	id        string
	idHeader  [1]string // the response header value, without allocating a slice
	badID     string    // the sanitized invalid incoming ID, if any
	badReason string
	start     time.Time
	client    netip.Addr
	span      trace.Span // the server span, set before the handler runs

	user  atomic.Pointer[string]
	route atomic.Pointer[string]
	quiet atomic.Bool

	panicked bool
	aborted  bool

	end time.Time // when the handler returned, for the record and the metrics

	// Computed once, on the serving goroutine, for the span and the records.
	path, clientStr    string
	pathSet, clientSet bool

	w     responseWriter
	body  bodyCounter
	attrs [3]attribute.KeyValue // the span attributes set at the end under otelhttp
}

// redactedPath returns the request's path after redaction.
func (s *requestState) redactedPath(r *http.Request) string {
	if !s.pathSet {
		s.path, s.pathSet = s.cfg.redact.String(r.URL.Path), true
	}
	return s.path
}

// method returns the request method for records: as sent when the
// semantic conventions know it, else redacted (a client can send any token).
func (s *requestState) method(r *http.Request) string {
	if m := httpconv.Method(r.Method); m != httpconv.MethodOther {
		return m
	}
	return s.cfg.redact.String(r.Method)
}

// clientString returns the client address as text, "" when unknown.
func (s *requestState) clientString() string {
	if !s.clientSet {
		s.clientStr, s.clientSet = addrString(s.client), true
	}
	return s.clientStr
}

// Value implements context.Context.
func (s *requestState) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return s
	}
	return s.Context.Value(key)
}

func stateFrom(ctx context.Context) *requestState {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(stateKey{}).(*requestState)
	return s
}

// RequestID returns the ID of the request served with ctx: the validated
// incoming X-Request-ID, or the one the middleware generated. It returns ""
// outside a request served through [New].
func RequestID(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil {
		return s.id
	}
	return ""
}

// SetUser records the authenticated user of the request served with ctx.
// Every record logged with the request's context from then on carries
// user_id, as does the request_completed record, and the server span gets
// the user.id attribute. With WithHashedUserID the ID is replaced by its
// keyed hash. It may be called from any goroutine of the request; outside a
// request served through [New] it does nothing.
func SetUser(ctx context.Context, id string) {
	s := stateFrom(ctx)
	if s == nil {
		return
	}
	if s.cfg.hashUser && id != "" {
		id = s.cfg.redact.Hash(id)
	}
	s.user.Store(&id)
	if s.span != nil {
		s.span.SetAttributes(attribute.String(AttrUserID, id))
	}
}

// UserID returns the user set with [SetUser] for the request served with
// ctx (hashed with WithHashedUserID), or "".
func UserID(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil {
		if p := s.user.Load(); p != nil {
			return *p
		}
	}
	return ""
}

// userField is the value of the user_id context field: it reads the user at
// the time each record is written, so SetUser reaches records made after it
// through a field put in the context before it. With no user it is an empty
// group, which handlers omit.
type userField struct{ s *requestState }

func (u userField) LogValue() slog.Value {
	if p := u.s.user.Load(); p != nil && *p != "" {
		return slog.StringValue(*p)
	}
	return slog.GroupValue()
}
