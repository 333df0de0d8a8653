package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
)

func TestString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"\xff", "\uFFFD"},
		{"a\xe2\x82", "a\uFFFD"},       // truncated: one run, one U+FFFD
		{"\xc0\xaf", "\uFFFD"},         // overlong '/'
		{"\xed\xa0\x80", "\uFFFD"},     // surrogate U+D800
		{"\xf4\x90\x80\x80", "\uFFFD"}, // past U+10FFFF
		{"a\xffb\xfe\xfdc", "a\uFFFDb\uFFFDc"},
		{"héllo 世界 🎉", "héllo 世界 🎉"},
		{"", ""},
	} {
		got, changed := String(tt.in)
		if got != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("String(%q) = %q, %v; want %q", tt.in, got, changed, tt.want)
		}
	}
}

// TestValidIsNotCopied checks the common case costs no copy and no
// allocation.
func TestValidIsNotCopied(t *testing.T) {
	s := strings.Repeat("héllo ", 10)
	if got, _ := String(s); unsafe.StringData(got) != unsafe.StringData(s) {
		t.Error("a valid string was copied")
	}
	kvs := []attribute.KeyValue{attribute.String("url.path", "/orders/1"), attribute.Int("status", 200), attribute.String("ua", s)}
	set := attribute.NewSet(kvs...)
	if n := testing.AllocsPerRun(100, func() {
		if out, ch := KeyValues(kvs); ch || &out[0] != &kvs[0] {
			t.Error("valid attributes were copied")
		}
		if _, ch := Set(set); ch {
			t.Error("a valid set changed")
		}
	}); n != 0 {
		t.Errorf("%v allocations for valid attributes", n)
	}
}

func TestValueAtDepth(t *testing.T) {
	v := attribute.MapValue(attribute.String("k\xff", "v\xfe"),
		attribute.Slice("s", attribute.StringValue("x\xff"), attribute.MapValue(attribute.StringSlice("in\xff", []string{"ok", "\xfe"}))))
	got, ch := Value(v)
	m := got.AsMap()
	inner := m[1].Value.AsSlice()[1].AsMap()[0]
	if !ch || m[0].Key != "k\uFFFD" || m[0].Value.AsString() != "v\uFFFD" || m[1].Value.AsSlice()[0].AsString() != "x\uFFFD" ||
		inner.Key != "in\uFFFD" || inner.Value.AsStringSlice()[1] != "\uFFFD" {
		t.Errorf("Value = %s, %v", got.String(), ch)
	}
	if string(v.AsMap()[0].Key) != "k\xff" {
		t.Error("the input value was modified")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a", "\xff", "a\xe2\x82", "\xed\xa0\x80", "héllo", "\xf4\x90\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := String(s)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q) = %q: not valid", s, got)
		}
		if changed == utf8.ValidString(s) || !changed && got != s {
			t.Fatalf("String(%q) = %q, %v", s, got, changed)
		}
		if again, ch := String(got); ch || again != got {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
		if len(got) > 3*len(s) {
			t.Fatalf("%d bytes from %d", len(got), len(s))
		}
	})
}
