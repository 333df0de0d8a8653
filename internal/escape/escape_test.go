package escape

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otelkit/otelkit/internal/escape/escapetest"
)

// TestSetMatchesItsSpecification: the runes AppendJSONString escapes are
// exactly those escapetest.Escaped lists, each becomes \uXXXX or a short
// escape and decodes back, and strconv.IsPrint rejects every one, so the
// text format quotes and escapes the same set.
func TestSetMatchesItsSpecification(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue // surrogates are not runes UTF-8 can hold
		}
		if r == '"' || r == '\\' {
			continue // escaped as JSON requires, not part of the set
		}
		s := string(r)
		got := string(AppendJSONString(nil, s))
		if raw := got == `"`+s+`"`; raw == escapetest.Escaped(r) {
			t.Fatalf("%U: JSON %s, want escaped %v", r, got, escapetest.Escaped(r))
		}
		if escapetest.Escaped(r) {
			var back string
			if err := json.Unmarshal([]byte(got), &back); err != nil || back != s {
				t.Fatalf("%U: %s decodes to %q, %v", r, got, back, err)
			}
			if strconv.IsPrint(r) || !NeedsQuote("a"+s) {
				t.Fatalf("%U: the text format would write it raw", r)
			}
			if q := string(AppendText(nil, s)); strings.ContainsRune(q, r) {
				t.Fatalf("%U: text %s holds it raw", r, q)
			}
			if m := string(AppendTextMessage(nil, s)); strings.ContainsRune(m, r) {
				t.Fatalf("%U: message %s holds it raw", r, m)
			}
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	const s = "a\xffb\xe2\x80c"
	if got, want := string(AppendJSONString(nil, s)), `"a\ufffdb\ufffd\ufffdc"`; got != want {
		t.Errorf("JSON %s, want %s", got, want)
	}
	if got, want := string(AppendText(nil, s)), `"a\xffb\xe2\x80c"`; got != want {
		t.Errorf("text %s, want %s", got, want)
	}
	if got, want := string(AppendTextMessage(nil, s)), `a\xffb\xe2\x80c`; got != want {
		t.Errorf("message %s, want %s", got, want)
	}
}

func TestAppendText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"/orders/{id}", "/orders/{id}"},
		{"", `""`},
		{"a b", `"a b"`},
		{"k=v", `"k=v"`},
		{"a\r\nb", `"a\r\nb"`},
		{"rlo\u202e", `"rlo\u202e"`},
		{"nel\u0085", `"nel\u0085"`},
		{"del\x7f", `"del\x7f"`},
		{"ünïcödé", "ünïcödé"},
	} {
		if got := string(AppendText(nil, tt.in)); got != tt.want {
			t.Errorf("AppendText(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

type rawMarshaler []byte

func (m rawMarshaler) MarshalJSON() ([]byte, error) { return m, nil }

// checkAppendJSON: AppendJSON of j (valid JSON) is valid JSON that decodes
// to what j decodes to (invalid bytes as U+FFFD), with no raw escaped rune.
func checkAppendJSON(t *testing.T, j []byte) {
	t.Helper()
	out := AppendJSON([]byte("prefix:"), j)
	rest, ok := bytes.CutPrefix(out, []byte("prefix:"))
	if !ok {
		t.Fatalf("prefix lost: %q", out)
	}
	if err := escapetest.CheckLine(string(rest)); err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal(j, &want); err != nil {
		t.Fatalf("input %q: %v", j, err)
	}
	if err := json.Unmarshal(rest, &got); err != nil {
		t.Fatalf("output %q: %v", rest, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q decodes to %#v, want %#v", rest, got, want)
	}
}

func TestAppendJSON(t *testing.T) {
	for _, s := range append(escapetest.Hostile, "clean", "ünïcödé \ufffd", "<&>") {
		for _, v := range []any{
			s, []string{s}, map[string]any{s: []any{s, map[string]string{s: s}}},
			struct{ A, B string }{s, s}, rawMarshaler(escapetest.LooseJSON(s)),
		} {
			j, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			checkAppendJSON(t, j)
		}
		checkAppendJSON(t, []byte(escapetest.LooseJSON(s)))
	}
	clean := []byte(`{"a":"b","c":[1,2.5,true,null],"ü":"ñ"}`)
	if got := AppendJSON(nil, clean); !bytes.Equal(got, clean) {
		t.Errorf("clean JSON changed: %s", got)
	}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], clean) }); n != 0 {
		t.Errorf("clean JSON: %v allocations, want 0", n)
	}
}

// FuzzAppendJSON: for any string, the JSON encoding/json makes of it, and
// the raw form a careless Marshaler writes, come out of AppendJSON valid,
// equal in value and free of raw escaped runes.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range escapetest.Hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := json.Marshal(map[string]any{s: []string{s}})
		if err != nil {
			t.Fatal(err)
		}
		checkAppendJSON(t, j)
		checkAppendJSON(t, []byte(escapetest.LooseJSON(s)))
		out := AppendJSONString(nil, s)
		if err := escapetest.CheckLine(string(out)); err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != escapetest.Decoded(s) {
			t.Fatalf("%q: %v", out, err)
		}
		for _, text := range [][]byte{AppendText(nil, s), AppendTextMessage(nil, s)} {
			if err := escapetest.CheckLine(string(text)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	for _, bc := range []struct {
		name string
		v    any
	}{
		{"clean", map[string]any{"order_id": "o-1001", "items": []string{"apple", "pear"}, "note": "gift wrapped, ünïcödé"}},
		{"hostile", map[string]any{"order_id": "o-1001\u202e", "items": []string{"apple\u0085", "pear\x7f"}, "note": "gift wrapped, ünïcödé"}},
	} {
		j, err := json.Marshal(bc.v)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 2*len(j))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(j)))
			for b.Loop() {
				buf = AppendJSON(buf[:0], j)
			}
		})
	}
}
