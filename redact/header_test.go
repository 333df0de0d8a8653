package redact

import (
	"log/slog"
	"net/http"
	"reflect"
	"testing"
)

func typicalHeader() http.Header {
	return http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Authorization":   {"Bearer abc123def456"},
		"Cache-Control":   {"no-cache"},
		"Connection":      {"keep-alive"},
		"Content-Type":    {"application/json"},
		"Cookie":          {"session=s3cr3t; theme=dark"},
		"Traceparent":     {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
		"X-Api-Key":       {"k-123"},
		"X-Request-Id":    {"req-42"},
	}
}

func TestHeaderAllowList(t *testing.T) {
	h := typicalHeader()
	orig := h.Clone()
	got := New().Header(h)
	want := http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Cache-Control":   {"no-cache"},
		"Content-Type":    {"application/json"},
		"Traceparent":     {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
		"X-Request-Id":    {"req-42"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Header =\n%v\nwant\n%v", got, want)
	}
	if !reflect.DeepEqual(h, orig) {
		t.Error("Header modified its argument")
	}
}

func TestHeaderDenyWins(t *testing.T) {
	tests := []struct {
		name string
		p    *Policy
		want http.Header
	}{
		{"allowed but denied", New(WithAllowedHeaders("authorization", "x-debug")), http.Header{
			"Authorization": {"[REDACTED]"}, "X-Debug": {"token=[REDACTED]"}, "Accept": {"*/*"},
		}},
		{"all headers", New(WithHeaderAllowList(false), WithDeniedHeaders("X-Debug")), http.Header{
			"Authorization": {"[REDACTED]"}, "X-Debug": {"[REDACTED]"}, "Accept": {"*/*"},
			"Cookie": {"[REDACTED]", "[REDACTED]"}, "X-Custom": {"Bearer [REDACTED]"}, "X-Session-Token": {"[REDACTED]"},
		}},
	}
	in := http.Header{
		"Authorization":   {"Basic " + fakeBasic},
		"X-Debug":         {"token=abc"},
		"Accept":          {"*/*"},
		"Cookie":          {"a=1", "b=2"},
		"X-Custom":        {"Bearer abc123def"},
		"X-Session-Token": {"tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Header(in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Header =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestHeaderCopyIsIndependent(t *testing.T) {
	p := New(WithHeaderAllowList(false))
	got := p.Header(http.Header{"A": {"1"}, "B": {"2"}})
	got["A"] = append(got["A"], "x")
	if got["B"][0] != "2" {
		t.Error("appending to one header's values overwrote another's")
	}
}

func TestHeaderAttr(t *testing.T) {
	a := New().HeaderAttr("headers", http.Header{
		"Accept":        {"a", "b"},
		"Authorization": {"Bearer abc123def"},
		"User-Agent":    {"ua"},
	})
	want := slog.Group("headers", slog.String("accept", "a, b"), slog.String("user-agent", "ua"))
	if !a.Equal(want) {
		t.Errorf("HeaderAttr = %v, want %v", a, want)
	}
	a = New(WithHeaderAllowList(false)).HeaderAttr("h", http.Header{"Authorization": {"Bearer abc123def"}, "B": {"1"}})
	want = slog.Group("h", slog.String("authorization", "[REDACTED]"), slog.String("b", "1"))
	if !a.Equal(want) {
		t.Errorf("HeaderAttr = %v, want %v", a, want)
	}
}

func TestIsDeniedHeader(t *testing.T) {
	p := New()
	for _, h := range []string{"authorization", "Proxy-Authorization", "COOKIE", "set-cookie", "X-Api-Key", "X-Auth-Token", "X-CSRF-Token", "X-My-Secret"} {
		if !p.IsDeniedHeader(h) {
			t.Errorf("IsDeniedHeader(%q) = false", h)
		}
	}
	for _, h := range []string{"Accept", "User-Agent", "X-Request-Id"} {
		if p.IsDeniedHeader(h) {
			t.Errorf("IsDeniedHeader(%q) = true", h)
		}
	}
}
