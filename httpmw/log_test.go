package httpmw

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// panickyHandler is a slog.Handler that panics, as a buggy one might.
type panickyHandler struct{}

func (panickyHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panickyHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (h panickyHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panickyHandler) WithGroup(string) slog.Handler           { return h }

// The logging path never takes a request down.
func TestLoggingPanicsContained(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		h    http.HandlerFunc
	}{
		{"panicking handler", []Option{WithLogger(slog.New(panickyHandler{}))},
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }},
		{"panicking status levels", []Option{WithLogger(slog.New(slog.DiscardHandler)),
			WithStatusLevels(func(int) slog.Level { panic("option bug") })},
			func(w http.ResponseWriter, r *http.Request) {}},
		{"panicking logger and panicking handler", []Option{WithLogger(slog.New(panickyHandler{}))},
			func(w http.ResponseWriter, r *http.Request) { panic("app bug") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(New(tt.h, tt.opts...), get("/"))
			if rec.Code == 0 {
				t.Error("no response")
			}
		})
	}
}

// TestCompletedRecordRedactsContentType: request_completed skips logbridge's
// own redaction pass, so the middleware redacts what it does not trust.
func TestCompletedRecordRedactsContentType(t *testing.T) {
	h := newHarness(t)
	secret := "sk_live_FAKEFAKEFAKEFAKE1234"
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; token="+secret)
	}))
	req := httptest.NewRequest("PROPFIND", "/x", nil)
	serve(handler, req)
	rec := h.one(EventRequestCompleted)
	if ct, _ := rec["content_type"].(string); strings.Contains(ct, secret) || ct == "" {
		t.Errorf("content_type %q", ct)
	}
	if rec["method"] != "PROPFIND" {
		t.Errorf("method %v", rec["method"])
	}
}
