package httpmw

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
)

// teapotError is a user-defined StatusError without a public message.
type teapotError struct{}

func (teapotError) Error() string   { return "internal teapot state 0xdeadbeef" }
func (teapotError) HTTPStatus() int { return http.StatusTeapot }

func TestHandlerFuncErrors(t *testing.T) {
	const secret = "password=hunter2hunter2"
	type fieldErr struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	}
	tests := []struct {
		name     string
		err      error
		status   int
		message  string
		details  string // JSON of the details, "" for none
		level    string
		hidden   string // must not reach the client
		wrote    bool   // the handler wrote before failing
		chainHas string
	}{
		{name: "bad request", err: BadRequest("invalid order", []fieldErr{{"qty", "must be positive"}}),
			status: 400, message: "invalid order", details: `[{"field":"qty","reason":"must be positive"}]`, level: "WARN"},
		{name: "not found", err: NotFound("order not found"), status: 404, message: "order not found", level: "WARN"},
		{name: "conflict with cause", err: Conflict("version mismatch", map[string]int{"current": 3}).WithCause(errors.New("row 77 " + secret)),
			status: 409, message: "version mismatch", details: `{"current":3}`, level: "WARN", hidden: "hunter2"},
		{name: "unauthorized", err: Unauthorized("login required"), status: 401, message: "login required", level: "WARN"},
		{name: "forbidden", err: Forbidden(""), status: 403, message: "Forbidden", level: "WARN"},
		{name: "unprocessable", err: Unprocessable("cannot ship", nil), status: 422, message: "cannot ship", level: "WARN"},
		{name: "wrapped status error", err: fmt.Errorf("handler: %w", NotFound("no such cart")),
			status: 404, message: "no such cart", level: "WARN", chainHas: "*httpmw.Error"},
		{name: "custom StatusError", err: teapotError{}, status: 418, message: "I'm a teapot", level: "WARN", hidden: "0xdeadbeef"},
		{name: "status out of range", err: NewError(200, "ok?", nil), status: 500, message: "ok?", level: "ERROR"},
		{name: "5xx status error", err: NewError(503, "try later", nil), status: 503, message: "try later", level: "ERROR"},
		{name: "plain error", err: fmt.Errorf("query orders: %w", errors.New("dial tcp 10.0.0.5:5432: "+secret)),
			status: 500, message: "Internal Server Error", level: "ERROR", hidden: "10.0.0.5", chainHas: "*errors.errorString"},
		{name: "joined errors", err: errors.Join(errors.New("a"), io.ErrUnexpectedEOF),
			status: 500, message: "Internal Server Error", level: "ERROR", chainHas: "*errors.joinError"},
		{name: "after the response started", err: errors.New("late failure"), status: 200, level: "ERROR", wrote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := h.wrap(HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				if tt.wrote {
					_, _ = io.WriteString(w, "partial")
				}
				return tt.err
			}))
			rec := serve(handler, get("/orders/1"))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			id := rec.Header().Get("X-Request-Id")
			body := rec.Body.String()
			if tt.wrote {
				if body != "partial" {
					t.Errorf("body %q", body)
				}
			} else {
				var got struct {
					Error struct {
						Status    int             `json:"status"`
						Message   string          `json:"message"`
						Details   json.RawMessage `json:"details"`
						RequestID string          `json:"request_id"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				e := got.Error
				if e.Status != tt.status || e.Message != tt.message || e.RequestID != id || string(e.Details) != tt.details {
					t.Errorf("body %s", body)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("content type %q", ct)
				}
			}
			if tt.hidden != "" && strings.Contains(body, tt.hidden) {
				t.Errorf("internals reached the client: %q", body)
			}
			if strings.Contains(h.console.String(), "hunter2") {
				t.Error("secret reached the log")
			}
			r := h.one(EventHandlerError)
			if r["level"] != tt.level || r["request_id"] != id || r["trace_id"] == nil {
				t.Errorf("record %v", r)
			}
			if e, _ := r["error"].(string); !strings.Contains(e, strings.SplitN(tt.err.Error(), ":", 2)[0]) {
				t.Errorf("error %q does not carry the error text", e)
			}
			chain, _ := r["error_chain"].([]any)
			if tt.chainHas != "" && !strings.Contains(fmt.Sprint(chain), tt.chainHas) {
				t.Errorf("error_chain %v lacks %s", chain, tt.chainHas)
			}
			var errorRecords int
			for _, l := range h.lines() {
				if l["level"] == "ERROR" && l["event"] == EventHandlerError {
					errorRecords++
				}
			}
			if tt.level == "ERROR" && errorRecords != 1 {
				t.Errorf("ERROR handler_error records: %d", errorRecords)
			}
		})
	}
}

func TestWriteErrorOutsideMiddleware(t *testing.T) {
	var buf lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(logbridge.NewHandler(logbridge.WithConsole(&buf))))
	defer slog.SetDefault(old)
	rec := httptest.NewRecorder()
	WriteError(rec, get("/"), BadRequest("nope", nil))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"message":"nope"`) || strings.Contains(rec.Body.String(), "request_id") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(buf.String(), EventHandlerError) {
		t.Error("not logged through slog.Default")
	}
	WriteError(rec, get("/"), nil) // no-op
}

func TestUnencodableDetails(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, get("/"), BadRequest("bad", make(chan int)))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"message":"bad"`) {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("cause")
	e := NotFound("missing").WithCause(cause)
	if e.Error() != "missing: cause" || !errors.Is(e, cause) {
		t.Errorf("%q", e.Error())
	}
	if (&Error{Status: 400}).Error() != "Bad Request" {
		t.Error("empty message")
	}
}
