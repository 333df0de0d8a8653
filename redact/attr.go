package redact

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
)

// Attr redacts one slog attribute and reports whether it changed anything.
//
// A LogValuer is resolved first, so the returned Attr may hold the resolved
// value even when changed is false; use the returned Attr either way. Then:
//   - if the key itself holds a secret (see Key), the attribute becomes
//     KeyMask with the value Mask; so does a map key inside slog.Any,
//     at any depth;
//   - if the key is sensitive (see IsSensitiveKey), the value is replaced,
//     except booleans, floats, durations and times, which cannot carry a
//     secret ("token_expires_at" keeps its time);
//   - strings go through String; integers that are card numbers are masked;
//   - groups are walked; a group with a redacted member is a new group,
//     the original's slice is never modified;
//   - an error whose text is redacted stays an error, of the same shape for
//     the sinks: its Error method returns the redacted text, and its
//     ErrorType method the original's type name;
//   - inside slog.Any, errors are redacted as by Error, URLs as by URL,
//     http.Header as by Header, and maps, slices, arrays, structs and
//     pointers are walked up to the limits set by WithMaxDepth and
//     WithMaxItems. A value with a redacted part is replaced by a copy made
//     of map[string]any (structs by their JSON field names; unexported
//     fields are inspected but left out), []any and the original leaves;
//     parts beyond the limits become Truncated. Values that marshal
//     themselves (json.Marshaler, encoding.TextMarshaler) are not looked
//     into.
//
// Attr does not allocate when nothing is redacted, except to resolve
// LogValuers and to inspect maps, URLs and errors inside slog.Any. It never
// panics; if redaction fails, the value is replaced by Mask.
func (p *Policy) Attr(a slog.Attr) (out slog.Attr, changed bool) {
	defer func() {
		if recover() != nil {
			out, changed = slog.String(a.Key, Mask), true
		}
	}()
	return p.or().attr(a)
}

// attr is Attr without the recover, which the exported callers provide.
func (p *Policy) attr(a slog.Attr) (slog.Attr, bool) {
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	c := p.keyInfo(a.Key)
	if c&keySecret != 0 {
		p.count(ruleKey)
		return slog.String(KeyMask, Mask), true
	}
	if c&keySensitive != 0 {
		if v, ok := p.maskValue(a.Value); ok {
			p.count(ruleKey)
			return slog.Attr{Key: a.Key, Value: v}, true
		}
		return a, false
	}
	v, ok := p.value(a.Value)
	if !ok {
		return a, false
	}
	return slog.Attr{Key: a.Key, Value: v}, true
}

// maskValue returns what a value under a sensitive key becomes, and false
// if it stays.
func (p *Policy) maskValue(v slog.Value) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindBool, slog.KindFloat64, slog.KindDuration, slog.KindTime:
		return v, false
	case slog.KindString:
		s := v.String()
		if s == "" || isMarker(s) {
			return v, false
		}
		return slog.StringValue(p.replacement(s)), true
	case slog.KindInt64, slog.KindUint64:
		return slog.StringValue(p.replacement(v.String())), true
	case slog.KindAny:
		if x := v.Any(); x == nil {
			return v, false
		} else if s, ok := x.(string); ok && (s == "" || isMarker(s)) {
			return v, false
		}
	case slog.KindGroup:
		if len(v.Group()) == 0 {
			return v, false
		}
	}
	return slog.StringValue(Mask), true
}

// value redacts a resolved value whose key is not sensitive.
func (p *Policy) value(v slog.Value) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		if s, ok := p.text(v.String()); ok {
			return slog.StringValue(s), true
		}
	case slog.KindInt64:
		if n := v.Int64(); n > 0 && isCardNumber(uint64(n)) {
			p.count(ruleCard)
			return slog.StringValue(p.replacement(v.String())), true
		}
	case slog.KindUint64:
		if isCardNumber(v.Uint64()) {
			p.count(ruleCard)
			return slog.StringValue(p.replacement(v.String())), true
		}
	case slog.KindFloat64:
		if n, ok := wholeNumber(v.Float64()); ok && isCardNumber(n) {
			p.count(ruleCard)
			return slog.StringValue(p.replacement(strconv.FormatUint(n, 10))), true
		}
	case slog.KindGroup:
		if g, ok := p.group(v.Group()); ok {
			return slog.GroupValue(g...), true
		}
	case slog.KindAny:
		return p.anyValue(v.Any())
	}
	return v, false
}

// group redacts the members of a group, copying on the first change.
func (p *Policy) group(as []slog.Attr) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range as {
		na, ch := p.attr(a)
		if ch && out == nil {
			out = make([]slog.Attr, len(as))
			copy(out, as[:i])
		}
		if out != nil {
			out[i] = na
		}
	}
	return out, out != nil
}

// anyValue redacts the value inside slog.Any.
func (p *Policy) anyValue(x any) (slog.Value, bool) {
	switch t := x.(type) {
	case nil:
		return slog.AnyValue(nil), false
	case error:
		if s, ok := p.errorText(t); ok {
			return slog.AnyValue(&redactedError{msg: s, typ: errorTypeName(t)}), true
		}
		return slog.AnyValue(x), false
	case *url.URL:
		if t == nil {
			return slog.AnyValue(x), false
		}
		if s, r := t.String(), p.URL(t); r != s {
			return slog.StringValue(r), true
		}
		return slog.AnyValue(x), false
	case url.URL:
		if s, r := t.String(), p.URL(&t); r != s {
			return slog.StringValue(r), true
		}
		return slog.AnyValue(x), false
	case http.Header:
		return slog.AnyValue(p.Header(t)), true
	case []byte:
		if s, ok := p.text(string(t)); ok {
			return slog.StringValue(s), true
		}
		return slog.AnyValue(x), false
	}
	w := walker{p: p, budget: p.maxItems}
	if r, ch := w.walk(x); ch {
		return slog.AnyValue(r), true
	}
	return slog.AnyValue(x), false
}

// Attrs redacts attrs and reports whether it changed anything. It never
// modifies attrs: when something is redacted it returns a new slice,
// otherwise attrs itself. Use it in a slog.Handler's WithAttrs. If
// redaction fails, it returns no attributes rather than unredacted ones.
func (p *Policy) Attrs(attrs []slog.Attr) (out []slog.Attr, changed bool) {
	defer func() {
		if recover() != nil {
			out, changed = nil, true // drop what cannot be redacted
		}
	}()
	if r, ok := p.or().group(attrs); ok {
		return r, true
	}
	return attrs, false
}

// Record redacts a record's message and attributes and reports whether it
// changed anything. When nothing is redacted it returns r itself, without
// allocating; otherwise a new Record with the same time, level and PC. This
// is the call a slog.Handler makes in Handle, before formatting. If
// redaction fails, the new record has message Mask and no attributes.
func (p *Policy) Record(r slog.Record) (out slog.Record, changed bool) {
	defer func() {
		if recover() != nil {
			out, changed = slog.NewRecord(r.Time, r.Level, Mask, r.PC), true
		}
	}()
	p = p.or()
	msg, msgChanged := p.text(r.Message)
	first := -1
	var firstAttr slog.Attr
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		if na, ch := p.attr(a); ch {
			first, firstAttr = i, na
			return false
		}
		i++
		return true
	})
	if !msgChanged && first < 0 {
		return r, false
	}
	nr := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	if r.NumAttrs() == 0 {
		return nr, true
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	i = 0
	r.Attrs(func(a slog.Attr) bool {
		switch {
		case first < 0 || i < first:
			attrs = append(attrs, a)
		case i == first:
			attrs = append(attrs, firstAttr)
		default:
			na, _ := p.attr(a)
			attrs = append(attrs, na)
		}
		i++
		return true
	})
	nr.AddAttrs(attrs...)
	return nr, true
}

// ReplaceAttr has the signature of slog.HandlerOptions.ReplaceAttr, so the
// standard handlers can apply the policy directly:
//
//	slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: policy.ReplaceAttr})
//
// It redacts the message (the built-in "msg" attribute) and every
// attribute. The handlers do not pass it group attributes as a whole, so a
// group under a sensitive key is redacted member by member; Record and
// Attr do not have that limit.
func (p *Policy) ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	na, _ := p.Attr(a)
	return na
}
