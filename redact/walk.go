package redact

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/otelkit/otelkit/internal/printform"
)

var (
	logValuerType     = reflect.TypeFor[slog.LogValuer]()
	errorType         = reflect.TypeFor[error]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	stringerType      = reflect.TypeFor[fmt.Stringer]()
	urlType           = reflect.TypeFor[url.URL]()
	timeType          = reflect.TypeFor[time.Time]()
	durationType      = reflect.TypeFor[time.Duration]()
)

// walker walks a value inside slog.Any, within a budget of elements.
type walker struct {
	p      *Policy
	budget int
}

// walk returns a redacted copy of x and true, or false if nothing in x
// needs redacting.
func (w *walker) walk(x any) (any, bool) {
	return w.value(reflect.ValueOf(x), 0, true)
}

// value redacts v. With build false (v was reached through an unexported
// field) it only reports whether something would change, and the caller
// leaves v out of the copy.
func (w *walker) value(v reflect.Value, depth int, build bool) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	t := v.Type()
	if build && t.NumMethod() > 0 && v.Kind() != reflect.Interface {
		if r, ch, done := w.methods(v, t, depth); done {
			return r, ch
		}
	}
	switch v.Kind() {
	case reflect.String:
		if s, ok := w.p.text(v.String()); ok {
			return s, true
		}
	case reflect.Int, reflect.Int64:
		if n := v.Int(); n > 0 && isCardNumber(uint64(n)) {
			w.p.count(ruleCard)
			return w.p.replacement(v.String()), true
		}
	case reflect.Uint, reflect.Uint64:
		if isCardNumber(v.Uint()) {
			w.p.count(ruleCard)
			return w.p.replacement(v.String()), true
		}
	case reflect.Float64:
		// JSON numbers decode to float64: a card number in a decoded body.
		if n, ok := wholeNumber(v.Float()); ok && isCardNumber(n) {
			w.p.count(ruleCard)
			return w.p.replacement(fmt.Sprint(n)), true
		}
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		if depth >= w.p.maxDepth {
			return w.truncated()
		}
		return w.value(v.Elem(), depth+1, build)
	case reflect.Struct:
		return w.structValue(v, t, depth, build)
	case reflect.Map:
		return w.mapValue(v, t, depth, build)
	case reflect.Slice, reflect.Array:
		return w.sliceValue(v, t, depth, build)
	}
	return nil, false
}

// methods handles the types that say how they are logged. done reports
// whether v is settled.
func (w *walker) methods(v reflect.Value, t reflect.Type, depth int) (r any, changed, done bool) {
	if t == timeType || t == durationType {
		return nil, false, true
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, false, true
	}
	switch {
	case t.Implements(logValuerType):
		lv, _ := v.Interface().(slog.LogValuer)
		a, _ := w.p.attr(slog.Any("", lv))
		return plain(a.Value), true, true
	case t.Implements(errorType):
		err, _ := v.Interface().(error)
		if s, ok := w.p.errorText(err); ok {
			return s, true, true
		}
		return nil, false, true
	case t == reflect.PointerTo(urlType) || t == urlType:
		var u *url.URL
		if t == urlType {
			uu := v.Interface().(url.URL)
			u = &uu
		} else {
			u, _ = v.Interface().(*url.URL)
		}
		if s, r := u.String(), w.p.URL(u); r != s {
			return r, true, true
		}
		return nil, false, true
	case t.Implements(jsonMarshalerType):
		// What JSON output shows is the method's output (a json.RawMessage
		// body, say), so that is what is redacted: decoded and walked, key
		// rules included.
		m, _ := v.Interface().(json.Marshaler)
		b, err := m.MarshalJSON()
		if err != nil {
			return nil, false, true
		}
		r, changed = w.decoded(b, depth)
		return r, changed, true
	case t.Implements(textMarshalerType):
		m, _ := v.Interface().(encoding.TextMarshaler)
		b, err := m.MarshalText()
		if err != nil {
			return nil, false, true
		}
		if s, ok := w.p.text(string(b)); ok {
			return s, true, true
		}
		return nil, false, true
	case t.Implements(stringerType):
		// Text output and the OTLP bridge print String(), which may show
		// what no exported field does (a DSN with its password).
		st, _ := v.Interface().(fmt.Stringer)
		if s, ok := w.p.text(st.String()); ok {
			return s, true, true
		}
		// Not settled: JSON output shows its exported fields.
	}
	return nil, false, false
}

// decoded redacts JSON text: decoded (numbers kept exact) and walked when
// it is valid, as text otherwise.
func (w *walker) decoded(b []byte, depth int) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil || dec.More() {
		if s, ok := w.p.text(string(b)); ok {
			return s, true
		}
		return nil, false
	}
	if depth >= w.p.maxDepth {
		return w.truncated()
	}
	return w.value(reflect.ValueOf(x), depth+1, true)
}

// wholeNumber returns f as a uint64 when it is a whole number of 12 to 19
// digits, the range where a card number can hide.
func wholeNumber(f float64) (uint64, bool) {
	if f < 1e12 || f >= 1e19 || f != math.Trunc(f) {
		return 0, false
	}
	return uint64(f), true
}

func (w *walker) truncated() (any, bool) {
	w.p.count(ruleTruncated)
	return Truncated, true
}

// spend takes one element from the budget, reporting false when it is
// exhausted.
func (w *walker) spend() bool {
	if w.budget <= 0 {
		return false
	}
	w.budget--
	return true
}

func (w *walker) structValue(v reflect.Value, t reflect.Type, depth int, build bool) (any, bool) {
	if t == timeType {
		return nil, false
	}
	if depth >= w.p.maxDepth {
		return w.truncated()
	}
	var out map[string]any
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, skip := jsonName(sf)
		if !w.spend() {
			if out == nil {
				out = w.structCopy(v, t, i)
			}
			w.p.count(ruleTruncated)
			out[Truncated] = Truncated
			break
		}
		fv := v.Field(i)
		exported := sf.IsExported() && !skip
		var r any
		var ch bool
		if w.p.IsSensitiveKey(sf.Name) || (name != sf.Name && w.p.IsSensitiveKey(name)) {
			r, ch = w.maskField(fv)
		} else {
			r, ch = w.value(fv, depth+1, build && exported)
		}
		if !ch {
			if out != nil && exported && !omitted(sf, fv) {
				out[name] = fv.Interface()
			}
			continue
		}
		if !build {
			return nil, true
		}
		if out == nil {
			out = w.structCopy(v, t, i)
		}
		if exported {
			out[name] = r
		}
	}
	if out == nil {
		return nil, false
	}
	return out, true
}

// structCopy returns the exported fields of v before field n as a map.
func (w *walker) structCopy(v reflect.Value, t reflect.Type, n int) map[string]any {
	out := make(map[string]any, t.NumField())
	for i := 0; i < n; i++ {
		sf := t.Field(i)
		if name, skip := jsonName(sf); sf.IsExported() && !skip && !omitted(sf, v.Field(i)) {
			out[name] = v.Field(i).Interface()
		}
	}
	return out
}

// maskField masks a value under a sensitive name, as maskValue does for
// slog values.
func (w *walker) maskField(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Bool, reflect.Float32, reflect.Float64, reflect.Invalid:
		return nil, false
	case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
	case reflect.String:
		if s := v.String(); s == "" || isMarker(s) {
			return nil, false
		}
		w.p.count(ruleKey)
		return w.p.replacement(v.String()), true
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return nil, false
		}
	case reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			return nil, false
		}
	}
	w.p.count(ruleKey)
	return Mask, true
}

func (w *walker) mapValue(v reflect.Value, t reflect.Type, depth int, build bool) (any, bool) {
	if v.IsNil() || v.Len() == 0 {
		return nil, false
	}
	if depth >= w.p.maxDepth {
		return w.truncated()
	}
	stringKeys := t.Key().Kind() == reflect.String
	keys := v.MapKeys()
	var out map[string]any
	for i, k := range keys {
		if !w.spend() {
			if !build {
				return nil, true
			}
			if out == nil {
				out = mapCopy(v, keys[:i])
			}
			w.p.count(ruleTruncated)
			out[Truncated] = Truncated
			break
		}
		mv := v.MapIndex(k)
		var r any
		var ch bool
		var kc keyClass
		if stringKeys {
			kc = w.p.keyInfo(k.String())
		}
		switch {
		case kc&keySecret != 0:
			// The key itself is a secret: neither it nor its value is kept.
			w.p.count(ruleKey)
			r, ch = Mask, true
		case kc&keySensitive != 0:
			r, ch = w.maskField(mv)
		default:
			r, ch = w.value(mv, depth+1, build)
		}
		if !ch {
			if out != nil {
				out[keyString(k)] = mv.Interface()
			}
			continue
		}
		if !build {
			return nil, true
		}
		if out == nil {
			out = mapCopy(v, keys[:i])
		}
		if kc&keySecret != 0 {
			out[KeyMask] = r
		} else {
			out[keyString(k)] = r
		}
	}
	if out == nil {
		return nil, false
	}
	return out, true
}

func mapCopy(v reflect.Value, keys []reflect.Value) map[string]any {
	out := make(map[string]any, v.Len())
	for _, k := range keys {
		out[keyString(k)] = v.MapIndex(k).Interface()
	}
	return out
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	if k.CanInterface() {
		return fmt.Sprint(k.Interface())
	}
	return k.String()
}

func (w *walker) sliceValue(v reflect.Value, t reflect.Type, depth int, build bool) (any, bool) {
	switch t.Elem().Kind() {
	case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil, false // cannot hold a secret (nor a card number)
	}
	if v.Kind() == reflect.Slice && v.IsNil() || v.Len() == 0 {
		return nil, false
	}
	if depth >= w.p.maxDepth {
		return w.truncated()
	}
	var out []any
	for i := 0; i < v.Len(); i++ {
		if !w.spend() {
			if !build {
				return nil, true
			}
			if out == nil {
				out = sliceCopy(v, i)
			}
			w.p.count(ruleTruncated)
			out = append(out, Truncated)
			break
		}
		r, ch := w.value(v.Index(i), depth+1, build)
		if !ch {
			if out != nil {
				out = append(out, v.Index(i).Interface())
			}
			continue
		}
		if !build {
			return nil, true
		}
		if out == nil {
			out = sliceCopy(v, i)
		}
		out = append(out, r)
	}
	if out == nil {
		return nil, false
	}
	return out, true
}

func sliceCopy(v reflect.Value, n int) []any {
	out := make([]any, 0, v.Len())
	for i := 0; i < n; i++ {
		out = append(out, v.Index(i).Interface())
	}
	return out
}

// jsonName returns the name encoding/json gives a field, and whether json
// skips it.
func jsonName(sf reflect.StructField) (string, bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return sf.Name, true
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name, false
	}
	return sf.Name, false
}

// omitted reports whether encoding/json would leave the field out because
// of omitempty or omitzero.
func omitted(sf reflect.StructField, fv reflect.Value) bool {
	_, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
		return false
	}
	switch fv.Kind() {
	case reflect.Map, reflect.Slice, reflect.String, reflect.Array:
		if fv.Len() == 0 {
			return true
		}
	}
	return fv.IsZero()
}

// plain turns a resolved slog.Value into a plain Go value for a copy.
func plain(v slog.Value) any {
	switch v.Kind() {
	case slog.KindGroup:
		m := make(map[string]any, len(v.Group()))
		for _, a := range v.Group() {
			m[a.Key] = plain(a.Value.Resolve())
		}
		return m
	case slog.KindLogValuer:
		return plain(v.Resolve())
	default:
		return v.Any()
	}
}

// Print returns x printed as otelkit's sinks print a value of slog.Any,
// redacted: x is first redacted as by Attr (keys, values, the walk of
// structs and maps), then printed (an error by its Error text; a
// json.Marshaler, struct, map, slice, array or pointer as its JSON, tags
// honoured, so a field tagged json:"-" is not shown; a fmt.Stringer by
// String; anything else by fmt.Sprint), and the text goes through String.
// It is the form for values that must become text, such as the value of a
// recovered panic. It never panics; if redaction fails, it returns Mask.
func (p *Policy) Print(x any) (s string) {
	defer func() {
		if recover() != nil {
			s = Mask
		}
	}()
	p = p.or()
	defer func() {
		if recover() != nil {
			// A method of x panicked during the walk: print it as the
			// sinks would (printform names the panic) and scan the text.
			s, _ = p.text(printform.Sprint(x))
		}
	}()
	if str, ok := x.(string); ok {
		out, _ := p.text(str)
		return out
	}
	a, _ := p.attr(slog.Any("", x))
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindAny:
		x = v.Any()
	case slog.KindGroup:
		x = plain(v)
	default:
		x = v.String()
	}
	out, _ := p.text(printform.Sprint(x))
	return out
}
