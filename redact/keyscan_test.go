package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// secretKeys are keys that are themselves secrets, one per value rule
// family a key can carry.
var secretKeys = []string{
	fakeGitHub,
	"Bearer " + fakeJWT,
	fakeAWS,
	fakeJWT,
	"password=hunter2",
	"https://bob:pw@h/x",
	fakeSlack,
}

// cleanKeys are ordinary keys, semantic-convention names included, that
// must stay as they are.
var cleanKeys = []string{
	"user_id", "request_id", "http.request.method", "http.response.status_code", "url.full", "url.query",
	"duration_ms", "error.type", "exception.message", "exception.stacktrace", "service.peer.name",
	"server.address", "client.address", "user_agent.original", "db.system.name", "trace_id", "span_id",
	"password", "api_key", "access_token", "AWS_REGION", "aws_access_key_id", "x-api-key", "Bearer",
	"sampled_by", "logger", "stack", "2026-02-23", "1234", "k8s.pod.name", "retries", "redirects",
}

func TestKey(t *testing.T) {
	p := New()
	for _, k := range secretKeys {
		for range 2 { // the second from the memo
			if got, ok := p.Key(k); got != KeyMask || !ok {
				t.Errorf("Key(%q) = %q, %v; want %q, true", k, got, ok, KeyMask)
			}
		}
	}
	for _, k := range append(cleanKeys, KeyMask, Mask, "", strings.Repeat("k", 200)) {
		for range 2 {
			if got, ok := p.Key(k); got != k || ok {
				t.Errorf("Key(%q) = %q, %v; want it kept", k, got, ok)
			}
		}
	}
	var nilPolicy *Policy
	if got, _ := nilPolicy.Key(fakeGitHub); got != KeyMask {
		t.Errorf("nil policy: Key = %q", got)
	}
}

// TestAttrSecretKeys puts a secret as the key at every level of a slog
// attribute: top level, group name, nested group, map key inside slog.Any,
// map key of a json.Marshaler's output.
func TestAttrSecretKeys(t *testing.T) {
	p := New()
	for _, sk := range secretKeys {
		cases := map[string]slog.Attr{
			"top-level key":   slog.String(sk, "v"),
			"group name":      slog.Group(sk, slog.String("a", "b")),
			"nested group":    slog.Group("outer", slog.Group("mid", slog.Group(sk, slog.Int("n", 1)))),
			"key in group":    slog.Group("outer", slog.String(sk, "v")),
			"map key":         slog.Any("m", map[string]any{"ok": 1, sk: "v"}),
			"nested map key":  slog.Any("m", map[string]any{"ok": map[string]string{sk: "v"}}),
			"struct map key":  slog.Any("s", struct{ M map[string]int }{map[string]int{sk: 1}}),
			"marshaler key":   slog.Any("raw", json.RawMessage(`{"a":{`+strconvQuote(sk)+`:1}}`)),
			"logvaluer group": slog.Any("lv", groupValuer{sk}),
		}
		for name, a := range cases {
			got, changed := p.Attr(a)
			out := printJSON(t, got)
			if strings.Contains(out, secretPart(sk)) || !changed {
				t.Errorf("%s %q: changed=%v, printed %s", name, sk, changed, out)
			}
			if !strings.Contains(out, KeyMask) {
				t.Errorf("%s %q: no %s in %s", name, sk, KeyMask, out)
			}
			again, ch2 := p.Attr(got)
			if ch2 || printJSON(t, again) != out {
				t.Errorf("%s %q: not idempotent: %s then %s", name, sk, out, printJSON(t, again))
			}
		}
	}
	for _, k := range cleanKeys {
		a := slog.Group("g", slog.Any("m", map[string]int{k: 1}))
		if got, _ := p.Attr(a); strings.Contains(printJSON(t, got), KeyMask) {
			t.Errorf("clean key %q redacted: %s", k, printJSON(t, got))
		}
	}
}

type groupValuer struct{ key string }

func (g groupValuer) LogValue() slog.Value { return slog.GroupValue(slog.String(g.key, "v")) }

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// secretPart is the part of a secret key that must not appear in output.
func secretPart(k string) string {
	if i := strings.Index(k, "hunter2"); i >= 0 {
		return "hunter2"
	}
	if strings.Contains(k, "bob:pw") {
		return "bob:pw"
	}
	return strings.TrimPrefix(k, "Bearer ")
}

func printJSON(t *testing.T, a slog.Attr) string {
	t.Helper()
	var b bytes.Buffer
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: noTime})).LogAttrs(context.Background(), slog.LevelInfo, "m", a)
	return b.String()
}

// TestHandlerSecretKeys covers the handler's doors: WithAttrs keys and
// WithGroup names.
func TestHandlerSecretKeys(t *testing.T) {
	var b bytes.Buffer
	l := slog.New(New().Handler(slog.NewJSONHandler(&b, nil)))
	l.With(fakeGitHub, "v").WithGroup(fakeAWS).With(slog.Group("g", slog.String(fakeSlack, "x"))).Info("m", "password=hunter2", 1)
	out := b.String()
	for _, s := range []string{fakeGitHub, fakeAWS, fakeSlack, "hunter2"} {
		if strings.Contains(out, s) {
			t.Errorf("%q leaked: %s", s, out)
		}
	}
	if strings.Count(out, KeyMask) != 4 {
		t.Errorf("want 4 %s in %s", KeyMask, out)
	}
}

func TestKeyValueSecretKeys(t *testing.T) {
	p := New()
	for _, sk := range secretKeys {
		for name, kv := range map[string]attribute.KeyValue{
			"key":            attribute.String(sk, "v"),
			"bool under key": attribute.Bool(sk, true),
			"map key":        attribute.Map("m", attribute.Int("ok", 1), attribute.String(sk, "v")),
		} {
			got, changed := p.KeyValue(kv)
			s := string(got.Key) + "=" + got.Value.Emit()
			if !changed || strings.Contains(s, secretPart(sk)) || !strings.Contains(s, KeyMask) {
				t.Errorf("%s %q: changed=%v, got %s", name, sk, changed, s)
			}
			if _, ch := p.KeyValue(got); ch {
				t.Errorf("%s %q: not idempotent", name, sk)
			}
		}
	}
	for _, k := range cleanKeys {
		if got, _ := p.KeyValue(attribute.Int(k, 1)); string(got.Key) != k {
			t.Errorf("clean key %q became %q", k, got.Key)
		}
	}
}

// TestSpanExporterSecretKeys covers a span's doors for keys: attribute
// keys, event names, event attribute keys, link attribute keys.
func TestSpanExporterSecretKeys(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(New().SpanExporter(mem)))
	tr := tp.Tracer("t")
	_, other := tr.Start(context.Background(), "other")
	other.End()
	_, sp := tr.Start(context.Background(), "s",
		trace.WithAttributes(attribute.String(fakeGitHub, "v")),
		trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String(fakeAWS, "v")}}))
	sp.AddEvent("event "+fakeSlack, trace.WithAttributes(attribute.String("password=hunter2", "v")))
	sp.End()
	spans := mem.GetSpans()
	_ = tp.Shutdown(context.Background())
	b, err := json.Marshal(spans[len(spans)-1])
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, s := range []string{fakeGitHub, fakeAWS, fakeSlack, "hunter2"} {
		if strings.Contains(out, s) {
			t.Errorf("%q leaked: %s", s, out)
		}
	}
	if strings.Count(out, KeyMask) != 3 {
		t.Errorf("want 3 %s (attribute, event attribute, link attribute) in %s", KeyMask, out)
	}
}

type dsnError struct{ dsn string }

func (e *dsnError) Error() string { return "connect " + e.dsn + " failed" }

// TestAttrErrorKeepsShape: a redacted error stays an error, with its
// original's type, so sinks print it as they print any error.
func TestAttrErrorKeepsShape(t *testing.T) {
	p := New()
	for _, err := range []error{
		errors.New("dial https://u:p@h/x?sig=1 failed"),
		&dsnError{"postgres://u:p@db/orders"},
		&url.Error{Op: "Get", URL: "https://h/?token=abc", Err: errors.New("eof")},
	} {
		got, changed := p.Attr(slog.Any("error", err))
		re, ok := got.Value.Any().(error)
		if !changed || !ok {
			t.Fatalf("Attr(%v) = %v (%T), changed %v; want an error", err, got.Value, got.Value.Any(), changed)
		}
		if re.Error() != p.Error(err) {
			t.Errorf("Error() = %q, want %q", re.Error(), p.Error(err))
		}
		et, ok := re.(interface{ ErrorType() string })
		if want := errorTypeName(err); !ok || et.ErrorType() != want {
			t.Errorf("ErrorType of %T: want %q", err, want)
		}
		if _, ch := p.Attr(got); ch {
			t.Errorf("%v: not idempotent", err)
		}
	}
	clean := errors.New("not found")
	if got, changed := p.Attr(slog.Any("error", clean)); changed || got.Value.Any() != clean {
		t.Errorf("clean error changed: %v", got.Value)
	}
}
