package httpmw

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel/codes"
)

// newServer serves h on 127.0.0.1 and closes everything at cleanup.
func newServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = nil
	srv.Start()
	client := srv.Client()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return srv, client
}

func TestPanicRecovered(t *testing.T) {
	const secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	tests := []struct {
		name  string
		value any
		want  string // in the logged panic value
	}{
		{name: "string", value: "boom", want: "boom"},
		{name: "error", value: errors.New("db down"), want: "db down"},
		{name: "secret in value", value: "token=" + secret, want: "token="},
		{name: "struct", value: struct{ N int }{7}, want: `{"N":7}`},
		{name: "panicking Stringer", value: badStringer{}, want: "PANIC=String method"},
		{name: "panicking Error", value: badError{}, want: "Error() panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /boom/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", "9999")
				panic(tt.value)
			})
			mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "fine")
			})
			srv, client := newServer(t, h.wrap(mux))

			resp, err := client.Get(srv.URL + "/boom/1")
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			if resp.StatusCode != 500 || id == "" {
				t.Fatalf("status %d, request ID %q", resp.StatusCode, id)
			}
			var eb struct{ Error errorBody }
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if eb.Error.RequestID != id || eb.Error.Status != 500 || eb.Error.Message != "Internal Server Error" {
				t.Errorf("body %q", body)
			}
			if strings.Contains(body, fmt.Sprint(tt.value)) || strings.Contains(body, "goroutine") {
				t.Errorf("internals in the body: %q", body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}

			// The server keeps serving.
			resp, err = client.Get(srv.URL + "/ok")
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, resp.Body); resp.StatusCode != 200 || got != "fine" {
				t.Errorf("next request: %d %q", resp.StatusCode, got)
			}
			resp.Body.Close()

			// Exactly one ERROR record with a stack: panic_recovered.
			var withStack []map[string]any
			for _, l := range h.lines() {
				if _, ok := l[logbridge.StackKey]; ok {
					withStack = append(withStack, l)
				}
			}
			if len(withStack) != 1 {
				t.Fatalf("records with a stack: %d\n%s", len(withStack), h.console.String())
			}
			rec := h.one(EventPanicRecovered)
			if rec["level"] != "ERROR" || rec["request_id"] != id || rec["route"] != "/boom/{id}" {
				t.Errorf("record %v", rec)
			}
			if v, _ := rec[FieldPanic].(string); !strings.Contains(v, tt.want) {
				t.Errorf("panic value %q, want it to contain %q", v, tt.want)
			}
			if stack, _ := rec[logbridge.StackKey].(string); !strings.Contains(stack, "recover_test.go") {
				t.Errorf("stack does not show the panic site: %q", stack)
			}
			if strings.Contains(h.console.String(), secret) {
				t.Error("secret panic value reached the log")
			}
			done := h.events(EventRequestCompleted)
			if len(done) != 2 || done[0]["status"] != 500.0 || done[0]["panicked"] != true {
				t.Errorf("request_completed: %v", done)
			}

			// The span is an error with an exception event.
			var span = h.ended()[0]
			if span.Status().Code != codes.Error {
				t.Errorf("span status %v", span.Status())
			}
			found := false
			for _, ev := range span.Events() {
				if ev.Name == "exception" {
					found = true
				}
			}
			if !found {
				t.Error("no exception event")
			}
		})
	}
}

type badStringer struct{}

func (badStringer) String() string { panic("no") }

type badError struct{}

func (badError) Error() string { panic("no") }

// A panic after the response started cannot become a 500: the connection
// is aborted, so the client sees an error instead of a short body.
func TestPanicAfterWriteAborts(t *testing.T) {
	h := newHarness(t)
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("late")
	})))
	resp, err := client.Get(srv.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("the client took a cut-off response for a whole one")
	}
	if rec := h.one(EventPanicRecovered); rec["level"] != "ERROR" {
		t.Errorf("record %v", rec)
	}
}

func TestErrAbortHandlerPassedOn(t *testing.T) {
	h := newHarness(t)
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	if resp, err := client.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Fatal("want the connection aborted")
	}
	if n := len(h.events(EventPanicRecovered)); n != 0 {
		t.Errorf("ErrAbortHandler logged as a panic %d times", n)
	}
	if rec := h.one(EventRequestCompleted); rec["aborted"] != true {
		t.Errorf("request_completed %v", rec)
	}
}

type panicConfig struct {
	Name     string `json:"name"`
	Internal string `json:"-"`
	Token    string
}

type dsnPanicError struct{ dsn string }

func (e *dsnPanicError) Error() string { return "open " + e.dsn }

// TestPanicValueRedacted: a panic value is printed as the sinks print
// values and redacted by the same walk, in the panic field and in the
// span's exception.message: a struct's json:"-" field and sensitive field,
// an error type's text, a secret used as a map key.
func TestPanicValueRedacted(t *testing.T) {
	const hidden, token, pw, key = "hidden-canary-7", "tok-canary-8", "pw-canary-9", "ghp_" + "FAKEpanicKEYfakeFAKEfakeFAKEfake0000"
	for _, v := range []any{
		panicConfig{Name: "svc", Internal: hidden, Token: token},
		&panicConfig{Name: "svc", Internal: hidden, Token: token},
		&dsnPanicError{"postgres://app:" + pw + "@db:5432/orders"},
		map[string]any{key: 1, "name": "svc"},
	} {
		h := newHarness(t)
		srv, client := newServer(t, h.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(v) })))
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rec := h.one(EventPanicRecovered)
		value, _ := rec[FieldPanic].(string)
		var msg string
		for _, ev := range h.ended()[0].Events() {
			for _, kv := range ev.Attributes {
				if kv.Key == "exception.message" {
					msg = kv.Value.AsString()
				}
			}
		}
		for _, c := range []string{hidden, token, pw, key} {
			if strings.Contains(h.console.String(), c) || strings.Contains(msg, c) {
				t.Errorf("%T: %q leaked: panic %q, exception.message %q", v, c, value, msg)
			}
		}
		if value == "" || value != msg {
			t.Errorf("%T: panic %q and exception.message %q differ", v, value, msg)
		}
	}
}
