package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

type tokenValuer string

func (t tokenValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", "api"), slog.String("token", string(t)))
}

type creds struct {
	User     string `json:"user"`
	Password string `json:"pass"`
	APIKey   string `json:"-"`
	note     string
	Nested   *creds `json:"nested,omitempty"`
}

func TestAttr(t *testing.T) {
	p := New()
	tests := []struct {
		name    string
		in      slog.Attr
		want    slog.Attr
		changed bool
	}{
		{"sensitive key", slog.String("password", "hunter2"), slog.String("password", "[REDACTED]"), true},
		{"sensitive key int", slog.Int("cvv", 123), slog.String("cvv", "[REDACTED]"), true},
		{"sensitive key time kept", slog.Time("token_expires_at", time.Unix(0, 0).UTC()), slog.Time("token_expires_at", time.Unix(0, 0).UTC()), false},
		{"sensitive key bool kept", slog.Bool("has_password", true), slog.Bool("has_password", true), false},
		{"sensitive key empty kept", slog.String("token", ""), slog.String("token", ""), false},
		{"value pattern", slog.String("msg2", "use "+fakeGitHub), slog.String("msg2", "use [REDACTED]"), true},
		{"card int", slog.Int64("n", 4111111111111111), slog.String("n", "[REDACTED]"), true},
		{"order int", slog.Int64("order", 4111111111111112), slog.Int64("order", 4111111111111112), false},
		{"clean", slog.String("path", "/orders/42"), slog.String("path", "/orders/42"), false},
		{"tokens_used", slog.Int("tokens_used", 1500), slog.Int("tokens_used", 1500), false},
		{"group", slog.Group("req", slog.String("method", "GET"), slog.Group("auth", slog.String("api_key", "k1"))),
			slog.Group("req", slog.String("method", "GET"), slog.Group("auth", slog.String("api_key", "[REDACTED]"))), true},
		{"group under sensitive key", slog.Group("credentials", slog.String("u", "bob")), slog.String("credentials", "[REDACTED]"), true},
		{"logvaluer", slog.Any("client", tokenValuer("t1")),
			slog.Group("client", slog.String("kind", "api"), slog.String("token", "[REDACTED]")), true},
		{"secret", slog.Any("dsn", Secret("postgres://u:p@h/db")), slog.String("dsn", "[REDACTED]"), false},
		{"url", slog.Any("u", mustURL("https://h/?token=x")), slog.String("u", "https://h/?token=REDACTED"), true},
		{"bytes", slog.Any("b", []byte("password=x")), slog.String("b", "password=[REDACTED]"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := p.Attr(tt.in)
			if !got.Equal(tt.want) {
				t.Errorf("Attr(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestAttrAny(t *testing.T) {
	p := New()
	tests := []struct {
		name string
		in   any
		want any // JSON of the redacted value
	}{
		{"map", map[string]any{"user": "bob", "password": "x", "n": 1}, `{"n":1,"password":"[REDACTED]","user":"bob"}`},
		{"nested map", map[string]any{"a": map[string]string{"token": "t"}}, `{"a":{"token":"[REDACTED]"}}`},
		{"slice", []string{"ok", "Bearer abc123def"}, `["ok","Bearer [REDACTED]"]`},
		{"struct", creds{User: "bob", Password: "pw", APIKey: "k", note: "n"}, `{"pass":"[REDACTED]","user":"bob"}`},
		{"pointer", &creds{User: "bob", Nested: &creds{Password: "pw"}}, `{"nested":{"pass":"[REDACTED]","user":""},"pass":"","user":"bob"}`},
		{"unexported secret", creds{User: "bob", note: "token=abc"}, `{"pass":"","user":"bob"}`},
		{"map any secret value", map[string]any{"x": Secret("s")}, `{"x":"[REDACTED]"}`},
		{"int keys", map[int]string{1: "password=a"}, `{"1":"password=[REDACTED]"}`},
		// What the encoders print for a type is its MarshalJSON, MarshalText
		// or String output, so that is what must be redacted.
		{"json.RawMessage", json.RawMessage(`{"user":"bob","password":"hunter2"}`), `{"password":"[REDACTED]","user":"bob"}`},
		{"json.RawMessage in a struct", struct {
			Body json.RawMessage `json:"body"`
		}{json.RawMessage(`{"token":"t0k","n":4111111111111111}`)}, `{"body":{"n":"[REDACTED]","token":"[REDACTED]"}}`},
		{"json.RawMessage not JSON", json.RawMessage(`password=hunter2`), `"password=[REDACTED]"`},
		{"Stringer", dsn{user: "app", pw: "hunter2", host: "db"}, `"postgres://REDACTED:REDACTED@db"`},
		{"Stringer in a map", map[string]any{"db": dsn{user: "app", pw: "hunter2", host: "db"}}, `{"db":"postgres://REDACTED:REDACTED@db"}`},
		{"TextMarshaler", textSecret{"Bearer abc123def"}, `"Bearer [REDACTED]"`},
		{"card in a decoded JSON body", decodeJSON(`{"cc":4111111111111111,"qty":2}`), `{"cc":"[REDACTED]","qty":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := p.Attr(slog.Any("v", tt.in))
			if !changed {
				t.Fatalf("Attr(%v) did not change", tt.in)
			}
			b, err := json.Marshal(got.Value.Any())
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// dsn prints a connection string with its password, which no exported
// field shows.
type dsn struct{ user, pw, host string }

func (d dsn) String() string { return "postgres://" + d.user + ":" + d.pw + "@" + d.host }

type textSecret struct{ v string }

func (s textSecret) MarshalText() ([]byte, error) { return []byte(s.v), nil }

func decodeJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func TestAttrFloatCardNumber(t *testing.T) {
	p := New()
	if got, changed := p.Attr(slog.Float64("cc", 4111111111111111)); !changed || got.Value.String() != Mask {
		t.Errorf("card number as a float: %v, %v", got, changed)
	}
	for _, f := range []float64{4111111111111112, 12.5, 1e15 + 0.5, 3.14159, 1e20} {
		if got, changed := p.Attr(slog.Float64("x", f)); changed {
			t.Errorf("Attr(%v) = %v, want unchanged", f, got)
		}
	}
}

func TestAttrAnyClean(t *testing.T) {
	p := New()
	for _, v := range []any{
		map[string]any{"user": "bob", "n": 1},
		[]int{1, 2, 3},
		creds{User: "bob"},
		&creds{User: "bob"},
		time.Unix(0, 0),
		struct{ A []string }{[]string{"x"}},
		errors.New("plain"),
		json.RawMessage(`{"user":"bob","n":12}`),
		netip.MustParseAddr("10.0.0.1"), // a Stringer (IP rules are opt-in)
		textSecret{"plain text"},
		decodeJSON(`{"qty":2,"price":12.5,"order":4111111111111112}`),
		time.Second,
	} {
		in := slog.Any("v", v)
		got, changed := p.Attr(in)
		if changed || !reflect.DeepEqual(got.Value.Any(), v) {
			t.Errorf("Attr(%v) = %v, %v; want unchanged", v, got, changed)
		}
	}
}

func TestAttrAnyLimits(t *testing.T) {
	type node struct {
		Name string
		Next *node
	}
	var deep *node
	for i := 0; i < 20; i++ {
		deep = &node{Name: "n", Next: deep}
	}
	p := New(WithMaxDepth(3))
	got, changed := p.Attr(slog.Any("v", deep))
	if !changed || !strings.Contains(jsonString(t, got.Value.Any()), Truncated) {
		t.Errorf("deep value not truncated: %v", got)
	}

	big := make([]string, 50)
	p = New(WithMaxItems(10))
	got, changed = p.Attr(slog.Any("v", big))
	s, _ := got.Value.Any().([]any)
	if !changed || len(s) != 11 || s[10] != Truncated {
		t.Errorf("big slice: changed=%v len=%d", changed, len(s))
	}

	type cyc struct{ Self *cyc }
	c := &cyc{}
	c.Self = c
	if _, changed := New().Attr(slog.Any("v", c)); !changed {
		t.Error("cycle not truncated")
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAttrsDoesNotMutate(t *testing.T) {
	in := []slog.Attr{slog.String("a", "1"), slog.String("token", "t"), slog.String("b", "2")}
	orig := append([]slog.Attr(nil), in...)
	out, changed := New().Attrs(in)
	if !changed || out[1].Value.String() != Mask {
		t.Errorf("Attrs = %v, %v", out, changed)
	}
	for i := range in {
		if !in[i].Equal(orig[i]) {
			t.Errorf("Attrs modified its argument at %d", i)
		}
	}
	clean := []slog.Attr{slog.String("a", "1")}
	if out, changed := New().Attrs(clean); changed || &out[0] != &clean[0] {
		t.Error("Attrs copied a clean slice")
	}
}

func TestAttrAllocs(t *testing.T) {
	p := New()
	attrs := cleanAttrs()
	a := testing.AllocsPerRun(100, func() {
		for _, at := range attrs {
			p.Attr(at)
		}
	})
	if a != 0 {
		t.Errorf("Attr on clean attributes allocates %v times, want 0", a)
	}
}

func TestRecord(t *testing.T) {
	p := New()
	r := slog.NewRecord(time.Unix(1, 0), slog.LevelInfo, "login token=abc1", 0)
	r.AddAttrs(slog.String("user", "bob"), slog.String("password", "x"), slog.Int("n", 1))
	got, changed := p.Record(r)
	if !changed || got.Message != "login token=[REDACTED]" {
		t.Fatalf("Record message = %q, changed %v", got.Message, changed)
	}
	var keys []string
	got.Attrs(func(a slog.Attr) bool {
		keys = append(keys, a.Key+"="+a.Value.String())
		return true
	})
	if want := []string{"user=bob", "password=[REDACTED]", "n=1"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("attrs = %v, want %v", keys, want)
	}

	clean := slog.NewRecord(time.Unix(1, 0), slog.LevelInfo, "ok", 0)
	clean.AddAttrs(cleanAttrs()...)
	if a := testing.AllocsPerRun(100, func() { p.Record(clean) }); a != 0 {
		t.Errorf("Record on a clean record allocates %v times", a)
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(New().Handler(slog.NewJSONHandler(&buf, nil)))
	l.With("api_key", "k1").WithGroup("g").Info("call "+fakeGitHub, "password", "pw", "ok", "yes")
	out := buf.String()
	for _, leak := range []string{"k1", fakeGitHub, `"pw"`} {
		if strings.Contains(out, leak) {
			t.Errorf("output leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, `"ok":"yes"`) {
		t.Errorf("output lost a clean field: %s", out)
	}
}

func TestHandlerConformance(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return New().Handler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestReplaceAttr(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: New().ReplaceAttr}))
	l.Info("password=pw", "token", "t", slog.Group("g", "secret", "s"))
	out := buf.String()
	if strings.Contains(out, "pw") || strings.Contains(out, "=t ") || strings.Contains(out, "=s") {
		t.Errorf("ReplaceAttr leaked: %s", out)
	}
}

func cleanAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", "GET"),
		slog.String("path", "/orders/42"),
		slog.Int("status", 200),
		slog.Float64("duration_ms", 12.5),
		slog.String("request_id", "0af7651916cd43dd"),
		slog.String("user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
		slog.Int64("bytes", 5120),
		slog.Bool("cached", false),
		slog.Duration("elapsed", 12*time.Millisecond),
		slog.Group("dep", slog.String("name", "inventory"), slog.Int("retries", 0)),
	}
}
