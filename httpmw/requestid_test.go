package httpmw

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
)

func TestRequestIDIncoming(t *testing.T) {
	tests := []struct {
		name     string
		values   []string // nil: no header
		remote   string
		opts     []Option
		keep     bool   // the incoming value is used
		reason   string // the WARN reason when replaced for its content
		header   string // header name, default X-Request-ID
		noRecord bool   // replaced silently
	}{
		{name: "uuid", values: []string{"3f2a9c0d-1e4b-4a67-9b1c-0d2e3f4a5b6c"}, keep: true},
		{name: "amzn trace id", values: []string{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"}, keep: true},
		{name: "base64", values: []string{"q+/Zx9Yw0b3s4Kx1Jm2h9A=="}, keep: true},
		{name: "exactly 128", values: []string{strings.Repeat("a", 128)}, keep: true},
		{name: "absent", noRecord: true},
		{name: "empty", values: []string{""}, noRecord: true},
		{name: "CR LF injection", values: []string{"abc\r\nlevel=ERROR msg=forged"}, reason: reasonBadChars},
		{name: "LF only", values: []string{"abc\nx"}, reason: reasonBadChars},
		{name: "10 KB", values: []string{strings.Repeat("x", 10<<10)}, reason: reasonTooLong},
		{name: "129", values: []string{strings.Repeat("a", 129)}, reason: reasonTooLong},
		{name: "non-ASCII", values: []string{"réquest-é"}, reason: reasonBadChars},
		{name: "invalid UTF-8", values: []string{"id-\xff\xfe"}, reason: reasonBadChars},
		{name: "space", values: []string{"a b"}, reason: reasonBadChars},
		{name: "quote", values: []string{`a"b`}, reason: reasonBadChars},
		{name: "ANSI escape", values: []string{"\x1b[31mred"}, reason: reasonBadChars},
		{name: "NUL", values: []string{"a\x00b"}, reason: reasonBadChars},
		{name: "two values", values: []string{"a", "b"}, reason: reasonMultiple},
		{name: "custom header", values: []string{"abc-123"}, header: "X-Correlation-Id",
			opts: []Option{WithRequestIDHeader("x-correlation-id")}, keep: true},
		{name: "proxies only, from a proxy", values: []string{"abc-123"}, remote: "10.0.0.1:5000",
			opts: []Option{WithTrustedProxies("10.0.0.0/8"), WithRequestIDFromProxiesOnly()}, keep: true},
		{name: "proxies only, direct", values: []string{"abc-123"}, remote: "192.0.2.1:5000",
			opts: []Option{WithTrustedProxies("10.0.0.0/8"), WithRequestIDFromProxiesOnly()}, noRecord: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var seen string
			var logged bool
			handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
				h.logger.InfoContext(r.Context(), "in handler")
				logged = true
			}), tt.opts...)
			header := tt.header
			if header == "" {
				header = DefaultRequestIDHeader
			}
			req := get("/x")
			if tt.remote != "" {
				req.RemoteAddr = tt.remote
			}
			for _, v := range tt.values {
				req.Header.Add(header, v)
			}
			rec := serve(handler, req)

			if !logged {
				t.Fatal("handler not called")
			}
			if got := rec.Header().Get(header); got != seen {
				t.Errorf("response header %q, RequestID %q", got, seen)
			}
			if !validRequestID(seen) {
				t.Errorf("ID %q is not valid", seen)
			}
			if tt.keep {
				if seen != tt.values[0] {
					t.Errorf("ID %q, want the incoming %q", seen, tt.values[0])
				}
			} else if len(seen) != 32 {
				t.Errorf("generated ID %q, want 32 hex digits", seen)
			}

			// Every record of the request carries the ID; none carries the
			// raw incoming value.
			for _, l := range h.lines() {
				if l["request_id"] != seen {
					t.Errorf("record %v lacks request_id %q", l["msg"], seen)
				}
			}
			replaced := h.events(EventRequestIDReplaced)
			switch {
			case tt.keep || tt.noRecord:
				if len(replaced) != 0 {
					t.Errorf("unexpected %s: %v", EventRequestIDReplaced, replaced)
				}
			default:
				if len(replaced) != 1 {
					t.Fatalf("want one %s record, got %d", EventRequestIDReplaced, len(replaced))
				}
				r := replaced[0]
				if r["level"] != "WARN" || r["reason"] != tt.reason {
					t.Errorf("record level %v reason %v, want WARN %s", r["level"], r["reason"], tt.reason)
				}
				preview, _ := r[FieldInvalidID].(string)
				if len(preview) > badIDPreview+32 || strings.ContainsAny(preview, "\r\n\x00\x1b\"") || !utf8.ValidString(preview) {
					t.Errorf("preview not sanitized: %q", preview)
				}
			}
			raw := h.console.String()
			for _, v := range tt.values {
				if !tt.keep && len(v) > 2 && strings.Contains(raw, v) {
					t.Errorf("raw invalid value %q reached the log", v)
				}
			}
			if strings.Count(raw, "\n") != len(h.lines()) {
				t.Errorf("a record spans several lines:\n%s", raw)
			}

			// The span carries it too.
			spans := h.ended()
			if len(spans) != 1 {
				t.Fatalf("spans: %d", len(spans))
			}
			if v, ok := spanAttr(spans[0], AttrRequestID); !ok || v.AsString() != seen {
				t.Errorf("span request_id %v, want %q", v.AsString(), seen)
			}
		})
	}
}

func TestRequestIDsUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := newRequestID()
		if seen[id] || !validRequestID(id) || len(id) != 32 {
			t.Fatalf("bad or repeated ID %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDOutsideMiddleware(t *testing.T) {
	if got := RequestID(httptest.NewRequest("GET", "/", nil).Context()); got != "" {
		t.Errorf("RequestID = %q outside the middleware", got)
	}
	if got := RequestID(nil); got != "" { //nolint:staticcheck // nil is allowed
		t.Errorf("RequestID(nil) = %q", got)
	}
}

func TestSanitizeRequestID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"a\r\nb", "a??b"},
		{"é", "??"},
		{strings.Repeat("x", 100), strings.Repeat("x", 64) + "...(100 bytes)"},
	}
	for _, tt := range tests {
		if got := sanitizeRequestID(tt.in, len(tt.in)); got != tt.want {
			t.Errorf("sanitizeRequestID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRequestIDPreviewRedacted: a secret in a rejected ID is redacted
// before the preview replaces its bytes or cuts it, which would hide it
// from the rules (the '(' of a MySQL DSN, a token cut at the preview's end).
func TestRequestIDPreviewRedacted(t *testing.T) {
	cfg := newConfig(nil)
	token := "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"
	for _, tt := range []struct{ in, secret string }{
		{"admin:FAKEpw0000@tcp(db:3306)/orders", "FAKEpw0000"},
		{"Bearer FAKEbearer0000token", "FAKEbearer0000token"},
		{strings.Repeat("x", 50) + " " + token, token[:13]},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(DefaultRequestIDHeader, tt.in)
		_, bad, reason := cfg.requestID(req, false)
		if reason == "" || bad == "" {
			t.Fatalf("%q: accepted (bad %q, reason %q)", tt.in, bad, reason)
		}
		if strings.Contains(bad, tt.secret) {
			t.Errorf("%q: preview %q shows %q", tt.in, bad, tt.secret)
		}
	}
}

// FuzzRequestID checks that whatever arrives in X-Request-ID, the ID the
// request gets is valid, equal to the incoming value exactly when that is
// valid, and that the logged preview of a rejected value is safe.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a\r\nb", strings.Repeat("z", 129), "é", "\x00", "Root=1-a;Parent=b", "a b"} {
		f.Add(s)
	}
	cfg := newConfig(nil)
	f.Fuzz(func(t *testing.T, in string) {
		valid := validRequestID(in)
		if valid {
			if len(in) > MaxRequestIDLength || strings.ContainsAny(in, "\r\n\t \"'\\<>") || !isASCII(in) {
				t.Fatalf("validRequestID accepted %q", in)
			}
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(DefaultRequestIDHeader, in)
		id, bad, reason := cfg.requestID(req, false)
		if !validRequestID(id) {
			t.Fatalf("request got invalid ID %q", id)
		}
		if valid != (id == in) {
			t.Fatalf("incoming %q (valid %v) gave %q", in, valid, id)
		}
		if (bad != "" || reason != "") == (valid || in == "") {
			t.Fatalf("incoming %q: bad %q reason %q", in, bad, reason)
		}
		if strings.ContainsAny(bad, "\r\n\x00\x1b") || !isASCII(bad) || len(bad) > badIDPreview+32 {
			t.Fatalf("unsafe preview %q", bad)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func TestRequestIDRecordsThroughOTLP(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.logger.InfoContext(r.Context(), "work")
	}))
	req := get("/x")
	req.Header.Set("X-Request-ID", "req-42")
	serve(handler, req)
	recs := h.otlp.records()
	if len(recs) < 2 {
		t.Fatalf("OTLP records: %d", len(recs))
	}
	for _, r := range recs {
		found := false
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "request_id" && kv.Value.AsString() == "req-42" {
				found = true
			}
			return true
		})
		if !found {
			r.WalkAttributes(func(kv attribute.KeyValue) bool { t.Log(kv.Key, kv.Value.String()); return true })
			t.Errorf("OTLP record %q lacks request_id", r.Body().AsString())
		}
		if !r.TraceID().IsValid() {
			t.Errorf("OTLP record %q lacks the trace ID", r.Body().AsString())
		}
	}
}
