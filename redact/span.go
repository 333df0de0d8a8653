package redact

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/otelkit/otelkit/internal/wire"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// KeyValue redacts one span, event or resource attribute and reports
// whether it changed. The rules are those of Attr: a key that is itself a
// secret becomes KeyMask, with the value Mask (see Key); a sensitive key masks
// the value (booleans and floats excepted); strings go through String,
// except url.full, url.original and http.url (URLString) and url.query
// (its sensitive parameter values); string slices, slices and maps are
// walked; integers that are card numbers are masked.
func (p *Policy) KeyValue(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	p = p.or()
	k := string(kv.Key)
	c := p.keyInfo(k)
	if c&keySecret != 0 {
		p.count(ruleKey)
		return attribute.String(KeyMask, Mask), true
	}
	if c&keySensitive != 0 {
		switch kv.Value.Type() {
		case attribute.BOOL, attribute.FLOAT64, attribute.FLOAT64SLICE, attribute.BOOLSLICE, attribute.EMPTY:
			return kv, false
		case attribute.STRING:
			s := kv.Value.AsString()
			if s == "" || isMarker(s) {
				return kv, false
			}
			p.count(ruleKey)
			return attribute.String(k, p.replacement(s)), true
		case attribute.INT64:
			p.count(ruleKey)
			return attribute.String(k, p.replacement(kv.Value.String())), true
		}
		p.count(ruleKey)
		return attribute.String(k, Mask), true
	}
	v, ok := p.attrValue(k, kv.Value)
	if !ok {
		return kv, false
	}
	return attribute.KeyValue{Key: kv.Key, Value: v}, true
}

func (p *Policy) attrValue(key string, v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		s := v.AsString()
		var r string
		switch key {
		case "url.full", "url.original", "http.url":
			r = p.URLString(s)
		case "url.query":
			r = p.query(s)
		default:
			r, _ = p.text(s)
		}
		if r != s {
			return attribute.StringValue(r), true
		}
	case attribute.INT64:
		if n := v.AsInt64(); n > 0 && isCardNumber(uint64(n)) {
			p.count(ruleCard)
			return attribute.StringValue(p.replacement(v.String())), true
		}
	case attribute.FLOAT64:
		if n, ok := wholeNumber(v.AsFloat64()); ok && isCardNumber(n) {
			p.count(ruleCard)
			return attribute.StringValue(p.replacement(strconv.FormatUint(n, 10))), true
		}
	case attribute.STRINGSLICE:
		ss := v.AsStringSlice() // a copy
		changed := false
		for i, s := range ss {
			if r, ok := p.text(s); ok {
				ss[i], changed = r, true
			}
		}
		if changed {
			return attribute.StringSliceValue(ss), true
		}
	case attribute.SLICE:
		vs := v.AsSlice()
		changed := false
		for i, e := range vs {
			if r, ok := p.attrValue("", e); ok {
				vs[i], changed = r, true
			}
		}
		if changed {
			return attribute.SliceValue(vs...), true
		}
	case attribute.MAP:
		if kvs, ok := p.KeyValues(v.AsMap()); ok {
			return attribute.MapValue(kvs...), true
		}
	}
	return v, false
}

// query redacts a bare query string (with or without the leading '?').
func (p *Policy) query(s string) string {
	var arr [8]span
	from := 0
	if strings.HasPrefix(s, "?") {
		from = 1
	}
	spans := p.params(s, from, len(s), false, arr[:0])
	if len(spans) == 0 {
		return s
	}
	out, _ := p.apply(s, spans, true)
	return out
}

// KeyValues redacts kvs and reports whether it changed anything. It never
// modifies kvs: when something is redacted it returns a new slice,
// otherwise kvs itself.
func (p *Policy) KeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i, kv := range kvs {
		r, ch := p.KeyValue(kv)
		if ch && out == nil {
			out = slices.Clone(kvs)
		}
		if ch {
			out[i] = r
		}
	}
	if out == nil {
		return kvs, false
	}
	return out, true
}

// SpanExporter wraps next so that every span is redacted before it is
// exported: its name, attributes, status description, link attributes, and
// its events' names and attributes (exception.message and
// exception.stacktrace included), and its and its links' trace state
// (list members' values, as attributes of the member's key). Spans with nothing to redact are passed
// on as they are; others as read-only copies. The spans slice the SDK
// passes in is never modified.
//
// A span processor cannot do this: OnEnd receives a ReadOnlySpan. Wrap the
// exporter before giving it to the batch span processor:
//
//	sdktrace.WithBatcher(policy.SpanExporter(exp))
//
// The returned exporter has the concurrency guarantees of next.
func (p *Policy) SpanExporter(next sdktrace.SpanExporter) sdktrace.SpanExporter {
	return &spanExporter{p: p.or(), next: next}
}

type spanExporter struct {
	p    *Policy
	next sdktrace.SpanExporter
}

var _ sdktrace.SpanExporter = (*spanExporter)(nil)

func (e *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if e.next == nil {
		return nil
	}
	return e.next.ExportSpans(ctx, wire.RewriteSpans(spans, spanRewriter{e.p}))
}

func (e *spanExporter) Shutdown(ctx context.Context) error {
	if e.next == nil {
		return nil
	}
	return e.next.Shutdown(ctx)
}

// spanRewriter redacts a span's strings and attributes; its scope is
// left as it is.
type spanRewriter struct{ p *Policy }

func (r spanRewriter) Text(s string) (string, bool) { return r.p.text(s) }

func (r spanRewriter) KeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	return r.p.KeyValues(kvs)
}

func (spanRewriter) Scope(s instrumentation.Scope) (instrumentation.Scope, bool) { return s, false }

func (r spanRewriter) TraceState(ts trace.TraceState) (trace.TraceState, bool) {
	return r.p.traceState(ts)
}

// traceState redacts the list members of a span's (or link's) trace state
// as KeyValue redacts an attribute of the member's key and value. The
// trace state a client sent is exported with the span; it is not changed
// where it is propagated (W3C requires vendors' members to be passed on).
// A member whose redacted key or value is not valid in a trace state
// (W3C: a value is printable ASCII but ',' and '=', without a trailing
// space; Mask, URLMask and hash tokens are) is dropped.
func (p *Policy) traceState(ts trace.TraceState) (trace.TraceState, bool) {
	n := ts.Len()
	if n == 0 {
		return ts, false
	}
	var arr [8]attribute.KeyValue
	members := arr[:0]
	changed := false
	ts.Walk(func(k, v string) bool {
		kv, ch := p.KeyValue(attribute.String(k, v))
		members, changed = append(members, kv), changed || ch
		return true
	})
	if !changed {
		return ts, false
	}
	var out trace.TraceState
	for i := len(members) - 1; i >= 0; i-- { // Insert puts a member first
		if r, err := out.Insert(string(members[i].Key), members[i].Value.Emit()); err == nil {
			out = r
		}
	}
	return out, true
}
