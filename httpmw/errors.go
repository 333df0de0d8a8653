package httpmw

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/otelkit/otelkit/redact"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// HandlerFunc is an HTTP handler that returns an error instead of writing
// one. Its ServeHTTP passes a returned error to [WriteError], so the client
// gets the right status and a safe JSON body and the error is logged once:
//
//	mux.Handle("GET /orders/{id}", httpmw.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
//		o, err := store.Get(r.Context(), r.PathValue("id"))
//		if errors.Is(err, store.ErrNotFound) {
//			return httpmw.NotFound("order not found")
//		}
//		if err != nil {
//			return fmt.Errorf("get order: %w", err) // 500, details logged, not sent
//		}
//		return json.NewEncoder(w).Encode(o)
//	}))
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP implements http.Handler.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// StatusError is an error that chooses the HTTP status of the response.
// Optionally it also implements PublicMessage() string, the message safe to
// show the client (else the status text is shown), and PublicDetails() any,
// details safe to show (encoded as JSON). [Error] implements all three.
type StatusError interface {
	error
	HTTPStatus() int
}

// Error is a [StatusError] with a client-safe message and details, and an
// optional cause that is logged but never sent. Make one with [NewError] or
// the constructors named after statuses.
type Error struct {
	Status  int    // the response status, 400 to 599
	Message string // safe to show the client
	Details any    // safe to show the client; encoded as JSON; may be nil
	Err     error  // the cause, logged (redacted), never sent; may be nil
}

// NewError returns an [Error] with the given status, message and details.
func NewError(status int, msg string, details any) *Error {
	return &Error{Status: status, Message: msg, Details: details}
}

// BadRequest returns a 400 [Error], for input that fails validation;
// details may say which fields are wrong and why.
func BadRequest(msg string, details any) *Error {
	return NewError(http.StatusBadRequest, msg, details)
}

// Unauthorized returns a 401 [Error]. The response is counted as an
// authentication failure (see [New]).
func Unauthorized(msg string) *Error { return NewError(http.StatusUnauthorized, msg, nil) }

// Forbidden returns a 403 [Error]. The response is counted as an
// authentication failure (see [New]).
func Forbidden(msg string) *Error { return NewError(http.StatusForbidden, msg, nil) }

// NotFound returns a 404 [Error].
func NotFound(msg string) *Error { return NewError(http.StatusNotFound, msg, nil) }

// Conflict returns a 409 [Error], for a request that conflicts with the
// current state (a duplicate, a stale version).
func Conflict(msg string, details any) *Error {
	return NewError(http.StatusConflict, msg, details)
}

// Unprocessable returns a 422 [Error], for well-formed input that cannot be
// acted on.
func Unprocessable(msg string, details any) *Error {
	return NewError(http.StatusUnprocessableEntity, msg, details)
}

// WithCause returns a copy of e whose cause is err: logged with the error,
// never sent to the client.
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// Error returns the message and, after a colon, the cause.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.HTTPStatus())
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the response status; anything outside 400 to 599 is
// taken as 500.
func (e *Error) HTTPStatus() int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// PublicMessage returns the message for the client.
func (e *Error) PublicMessage() string { return e.Message }

// PublicDetails returns the details for the client.
func (e *Error) PublicDetails() any { return e.Details }

// errorBody is the JSON body of error responses:
//
//	{"error":{"status":404,"message":"order not found","request_id":"..."}}
type errorBody struct {
	Status    int    `json:"status"`
	Message   string `json:"message"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError answers the request with err and logs it once.
//
// If err (or an error it wraps) is a [StatusError], the response has its
// status and a JSON body with its public message and details, and a record
// handler_error is written at WARN (ERROR for a 5xx status). Any other error
// gives a 500 with a generic message and the request ID, and one ERROR
// record with the error chain, redacted; the server span gets an exception
// event. Nothing else of the error reaches the client.
//
// If the handler had already started the response, only the record is
// written. WriteError works outside [New] too, with slog's default logger.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	ctx := r.Context()
	st := stateFrom(ctx)
	var (
		logger  = slog.Default()
		red     *redact.Policy
		id      string
		started bool
	)
	if st != nil {
		logger, red, id = st.cfg.log(), st.cfg.redact, st.id
		started = st.w.wroteHeader || st.w.hijacked
	}

	status := http.StatusInternalServerError
	body := errorBody{Message: http.StatusText(status), RequestID: id}
	var se StatusError
	if errors.As(err, &se) {
		status = se.HTTPStatus()
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		body.Message = http.StatusText(status)
		if pm, ok := se.(interface{ PublicMessage() string }); ok && pm.PublicMessage() != "" {
			body.Message = pm.PublicMessage()
		}
		if pd, ok := se.(interface{ PublicDetails() any }); ok {
			body.Details = pd.PublicDetails()
		}
	}

	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	text := red.Error(err)
	chain := errorChain(err)
	logAttrs(ctx, logger, level, "request failed",
		slog.String(FieldEvent, EventHandlerError),
		slog.Int(FieldStatus, status),
		slog.String(FieldError, text),
		slog.Any(FieldErrorChain, chain),
	)
	if status >= 500 {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			typ := chain[len(chain)-1]
			span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
				semconv.ExceptionType(typ), semconv.ExceptionMessage(text)))
			span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		}
	}
	if started {
		return
	}
	body.Status = status
	writeJSONError(w, status, body)
}

// writeJSONError writes {"error": body} with status. Details that cannot be
// encoded are left out rather than failing the response.
func writeJSONError(w http.ResponseWriter, status int, body errorBody) {
	body.Status = status
	b, err := json.Marshal(struct {
		Error errorBody `json:"error"`
	}{body})
	if err != nil {
		body.Details = nil
		b, _ = json.Marshal(struct {
			Error errorBody `json:"error"`
		}{body})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// maxChain bounds the error chain walked for the log.
const maxChain = 16

// errorChain returns the dynamic types of err and of the errors it wraps,
// outermost first, depth first through joined errors: the "chain" of the
// log record, without repeating every wrapped message.
func errorChain(err error) []string {
	var chain []string
	var walk func(error)
	walk = func(e error) {
		for e != nil && len(chain) < maxChain {
			chain = append(chain, fmt.Sprintf("%T", e))
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					walk(x)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return chain
}
