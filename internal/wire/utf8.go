package wire

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
)

// Replacement is what each run of invalid UTF-8 bytes becomes: U+FFFD.
const Replacement = "\uFFFD"

// String returns s as valid UTF-8 and whether it changed: each maximal run
// of bytes that do not decode as UTF-8 (by the rules of unicode/utf8: lone
// continuation bytes, truncated sequences, overlong encodings, surrogates
// U+D800–U+DFFF, values past U+10FFFF, 0xC0, 0xC1 and 0xF5–0xFF) becomes one
// U+FFFD, as strings.ToValidUTF8 does. A valid s is returned as it is,
// without a copy; checking it is one utf8.ValidString scan.
func String(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	return strings.ToValidUTF8(s, Replacement), true
}

// Value returns v with every string in it (strings, string slices, and the
// keys and values of slices and maps at any depth) valid UTF-8, and whether
// it changed. Byte slices are left as they are: OTLP carries them as bytes.
// A valid string-only value costs no allocation; a slice or map value costs
// the copy its accessor makes (attribute.Value gives no other view of it).
func Value(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		if s, ok := String(v.AsString()); ok {
			return attribute.StringValue(s), true
		}
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice() // a copy
		changed := false
		for i, s := range ss {
			if r, ok := String(s); ok {
				ss[i], changed = r, true
			}
		}
		if changed {
			return attribute.StringSliceValue(ss), true
		}
	case attribute.SLICE:
		vs := v.AsSlice() // a copy
		changed := false
		for i, e := range vs {
			if r, ok := Value(e); ok {
				vs[i], changed = r, true
			}
		}
		if changed {
			return attribute.SliceValue(vs...), true
		}
	case attribute.MAP:
		kvs := v.AsMap() // a copy
		changed := false
		for i, kv := range kvs {
			if r, ok := KeyValue(kv); ok {
				kvs[i], changed = r, true
			}
		}
		if changed {
			return attribute.MapValue(kvs...), true
		}
	}
	return v, false
}

// KeyValue returns kv with a valid UTF-8 key and value (see Value), and
// whether it changed.
func KeyValue(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	if ValidKeyValue(&kv) {
		return kv, false
	}
	k, _ := String(string(kv.Key))
	v, _ := Value(kv.Value)
	return attribute.KeyValue{Key: attribute.Key(k), Value: v}, true
}

// ValidKeyValue reports whether *kv's key and value are valid UTF-8 (see
// Value). It is the check of KeyValue without the copies of a result, for
// the common case of a valid attribute.
func ValidKeyValue(kv *attribute.KeyValue) bool {
	if !utf8.ValidString(string(kv.Key)) {
		return false
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		return utf8.ValidString(kv.Value.AsString())
	case attribute.STRINGSLICE, attribute.SLICE, attribute.MAP:
		_, ch := Value(kv.Value)
		return !ch
	}
	return true
}

// KeyValues returns kvs made valid UTF-8 (see KeyValue) and whether it
// changed. It never modifies kvs: when something changes it returns a new
// slice, otherwise kvs itself.
func KeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i := range kvs {
		if ValidKeyValue(&kvs[i]) {
			continue
		}
		if out == nil {
			out = make([]attribute.KeyValue, len(kvs))
			copy(out, kvs)
		}
		out[i], _ = KeyValue(kvs[i])
	}
	if out == nil {
		return kvs, false
	}
	return out, true
}

// Set returns s made valid UTF-8 (see KeyValue) and whether it changed.
// Two keys that differ only in their invalid bytes can become one; the
// set keeps the last, as attribute.NewSet does.
func Set(s attribute.Set) (attribute.Set, bool) {
	for i := range s.Len() {
		if kv, _ := s.Get(i); !ValidKeyValue(&kv) {
			kvs, _ := KeyValues(s.ToSlice())
			return attribute.NewSet(kvs...), true
		}
	}
	return s, false
}

// Scope returns s with a valid UTF-8 name, version, schema URL and
// attributes, and whether it changed.
func Scope(s instrumentation.Scope) (instrumentation.Scope, bool) {
	name, c1 := String(s.Name)
	version, c2 := String(s.Version)
	schema, c3 := String(s.SchemaURL)
	attrs, c4 := Set(s.Attributes)
	if !c1 && !c2 && !c3 && !c4 {
		return s, false
	}
	return instrumentation.Scope{Name: name, Version: version, SchemaURL: schema, Attributes: attrs}, true
}

// UTF8 is the Rewriter that makes a span's strings valid UTF-8.
type UTF8 struct{}

var _ Rewriter = UTF8{}

// Text is String.
func (UTF8) Text(s string) (string, bool) { return String(s) }

// KeyValues is the package's KeyValues.
func (UTF8) KeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) { return KeyValues(kvs) }

// Scope is the package's Scope.
func (UTF8) Scope(s instrumentation.Scope) (instrumentation.Scope, bool) { return Scope(s) }
