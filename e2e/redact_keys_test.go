package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
	"github.com/otelkit/otelkit/redact"
)

// keyDoorCanary is a fake GitHub token naming door: a secret used as a key.
func keyDoorCanary(door string) string {
	s := "ghp_FAKE" + strings.ToUpper(door)
	for len(s) < 4+36 {
		s += "0"
	}
	return s
}

// keyDoorsHidden are values no value rule finds, which only the printed
// form (json:"-") or the walk (a sensitive field) keeps out of the sinks.
const (
	keyDoorsHiddenField = "hidden-field-canary-e2e"
	keyDoorsPanicHidden = "panic-hidden-canary-e2e"
	keyDoorsPanicToken  = "panic-token-canary-e2e"
	keyDoorsPanicPW     = "panic-pw-canary-e2e"
	keyDoorsRedirectTok = "redirect-token-canary-e2e"
	keyDoorsErrorPW     = "error-pw-canary-e2e"
)

type keyDoorsAccount struct {
	User     string `json:"user"`
	Internal string `json:"-"`
}

type keyDoorsPanic struct {
	Route    string `json:"route"`
	Internal string `json:"-"`
	Token    string
}

type keyDoorsDBError struct{ dsn string }

func (e *keyDoorsDBError) Error() string { return "query failed on " + e.dsn }

// TestSecretKeysAndPrintedFormsOnEverySink sends, through a service set up
// by otelsetup (console, file, collector), secrets used as keys at every
// level of logs and spans, a struct with a json:"-" field, panics of custom
// types, a redirect to a URL with a token, and a redacted error; then looks
// at every byte the console, the file and the Collector's own receiver got.
func TestSecretKeysAndPrintedFormsOnEverySink(t *testing.T) {
	col := startCollector(t)
	var console syncBuffer
	logFile := filepath.Join(t.TempDir(), "service.log")
	tel, err := otelsetup.Setup(t.Context(),
		otelsetup.WithServiceName("keys"), otelsetup.WithoutEnvironment(),
		otelsetup.WithEndpoint(col.Endpoint(protoHTTP)), otelsetup.WithConsole(&console),
		otelsetup.WithLogFile(logFile))
	if err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			_ = tel.Shutdown(context.Background())
		}
	})
	ctx := context.Background()
	l := tel.Logger("keys")
	var doors []string
	door := func(name string) string { doors = append(doors, name); return keyDoorCanary(name) }

	// Logs: keys at every level.
	l.InfoContext(ctx, "door toplevel", door("toplevel"), "v")
	l.InfoContext(ctx, "door group", slog.Group(door("group"), "a", 1))
	l.InfoContext(ctx, "door nested", slog.Group("outer", slog.Group("mid", slog.Group(door("nested"), "a", 1))))
	l.With(door("withattrs"), "v").InfoContext(ctx, "door withattrs")
	l.WithGroup(door("withgroup")).InfoContext(ctx, "door withgroup", "a", 1)
	l.InfoContext(ctx, "door mapkey", slog.Any("cfg", map[string]any{"ok": 1, door("mapkey"): "v"}))
	l.InfoContext(logbridge.WithFields(ctx, slog.String(door("fields"), "v")), "door fields")
	l.InfoContext(ctx, "door hidden", slog.Any("account", keyDoorsAccount{User: "bob-visible", Internal: keyDoorsHiddenField}))
	l.ErrorContext(ctx, "door error redacted", "error", &keyDoorsDBError{"postgres://app:" + keyDoorsErrorPW + "@db:5432/orders"})
	l.ErrorContext(ctx, "door error clean", "error", &keyDoorsDBError{"db:5432/orders"})

	// Spans: attribute key, event name, event attribute key, link attribute key.
	tr := tel.TracerProvider().Tracer("keys")
	_, linked := tr.Start(ctx, "linked")
	linked.End()
	_, sp := tr.Start(ctx, "keys span",
		trace.WithAttributes(attribute.String(door("spanattr"), "v")),
		trace.WithLinks(trace.Link{SpanContext: linked.SpanContext(),
			Attributes: []attribute.KeyValue{attribute.String(door("linkattr"), "v")}}))
	sp.AddEvent("event "+door("eventname"), trace.WithAttributes(attribute.String(door("eventattr"), "v")))
	sp.End()

	// A panic of a struct and of an error type; a redirect to a URL with a token.
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer final.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic/struct", func(http.ResponseWriter, *http.Request) {
		panic(keyDoorsPanic{Route: "/panic/struct", Internal: keyDoorsPanicHidden, Token: keyDoorsPanicToken})
	})
	mux.HandleFunc("GET /panic/error", func(http.ResponseWriter, *http.Request) {
		panic(&keyDoorsDBError{"postgres://app:" + keyDoorsPanicPW + "@db:5432/orders"})
	})
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL+"/cb?access_token="+keyDoorsRedirectTok, http.StatusFound)
	})
	srv := httptest.NewServer(httpmw.New(mux))
	defer srv.Close()
	for _, p := range []string{"/panic/struct", "/panic/error"} {
		if resp, err := srv.Client().Get(srv.URL + p); err == nil {
			resp.Body.Close()
		}
	}
	client := deps.NewClient("redirecting", nil)
	resp, err := client.Get(srv.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	waitBody(t, col, "door error clean", 1)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Logf("Shutdown: %v", err)
	}
	done = true
	file, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	sinks := map[string]string{
		"console":      console.String(),
		"file":         string(file),
		"otlp logs":    keyDoorsLogsJSON(t, col),
		"otlp traces":  keyDoorsTracesJSON(t, col),
		"otlp metrics": metricAttrs(col),
	}
	secrets := []string{keyDoorsHiddenField, keyDoorsPanicHidden, keyDoorsPanicToken, keyDoorsPanicPW, keyDoorsRedirectTok, keyDoorsErrorPW}
	for _, d := range doors {
		secrets = append(secrets, keyDoorCanary(d), strings.TrimPrefix(keyDoorCanary(d), "ghp_"))
	}
	for sink, data := range sinks {
		if len(data) < 10 {
			t.Errorf("%s received nothing", sink)
		}
		for _, s := range secrets {
			if strings.Contains(data, s) {
				t.Errorf("%q reached the %s sink", s, sink)
			}
		}
	}
	for _, sink := range []string{"console", "file", "otlp logs"} {
		if n := strings.Count(sinks[sink], redact.KeyMask); n < 7 {
			t.Errorf("%s: %d %s, want one per log door (7)", sink, n, redact.KeyMask)
		}
		if !strings.Contains(sinks[sink], "bob-visible") {
			t.Errorf("%s: the struct's visible field is missing", sink)
		}
	}
	if n := strings.Count(sinks["otlp traces"], redact.KeyMask); n < 3 {
		t.Errorf("otlp traces: %d %s, want 3 (span, event and link attribute keys)", n, redact.KeyMask)
	}
	keyDoorsCheckErrorShape(t, col)
}

// keyDoorsCheckErrorShape: the redacted and the clean error reach the
// collector in one shape: exception.message and exception.type, the same
// type, no "error" attribute.
func keyDoorsCheckErrorShape(t *testing.T, col *collector) {
	t.Helper()
	var types []any
	for _, body := range []string{"door error redacted", "door error clean"} {
		recs := logsWithBody(flattenLogs(col.Logs.AllLogs()), body)
		if len(recs) != 1 {
			t.Fatalf("%d records %q", len(recs), body)
		}
		a := recs[0].Attrs
		if _, ok := a["error"]; ok || a["exception.message"] == nil {
			t.Errorf("%q: attributes %v, want exception.message and exception.type, no error", body, a)
		}
		types = append(types, a["exception.type"])
	}
	if types[0] != types[1] || types[0] == nil {
		t.Errorf("exception.type %v, want one type for both", types)
	}
}

// keyDoorsLogsJSON is every log batch the collector got, as OTLP JSON.
func keyDoorsLogsJSON(t *testing.T, col *collector) string {
	t.Helper()
	var b strings.Builder
	for _, ld := range col.Logs.AllLogs() {
		j, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
	}
	return b.String()
}

// keyDoorsTracesJSON is every trace batch the collector got (events and
// links included), as OTLP JSON.
func keyDoorsTracesJSON(t *testing.T, col *collector) string {
	t.Helper()
	var b strings.Builder
	for _, td := range col.Traces.AllTraces() {
		j, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
	}
	return b.String()
}
