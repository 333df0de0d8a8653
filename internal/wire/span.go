// Package wire rewrites finished telemetry on its way to the exporters:
// copies of spans with some strings or attributes replaced (shared by
// redaction and by the UTF-8 sanitiser), and the valid-UTF-8 form of the
// strings, attributes and scopes that OTLP marshals.
package wire

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Rewriter is what RewriteSpan applies to a span. Each method returns its
// argument itself and false when it has nothing to change; it never
// modifies its argument (a changed slice is a new one).
type Rewriter interface {
	// Text rewrites the span's name, its status description and its
	// events' names.
	Text(s string) (string, bool)
	// KeyValues rewrites the attributes of the span, its events and links.
	KeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool)
	// Scope rewrites the instrumentation scope.
	Scope(s instrumentation.Scope) (instrumentation.Scope, bool)
}

// TraceStateRewriter is a Rewriter that rewrites trace state too: the
// span's own and its links'. The result must be a valid trace.TraceState
// (built with its methods); it is exported as it is.
type TraceStateRewriter interface {
	TraceState(ts trace.TraceState) (trace.TraceState, bool)
}

// Span is a finished span with some parts replaced. The embedded
// ReadOnlySpan provides the rest, and the unexported method only the SDK
// can implement.
type Span struct {
	sdktrace.ReadOnlySpan
	name   string
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []sdktrace.Link
	status sdktrace.Status
	scope  instrumentation.Scope
	sc     trace.SpanContext
}

// SpanContext returns the span context with the rewritten trace state.
func (s *Span) SpanContext() trace.SpanContext { return s.sc }

// Name returns the rewritten name.
func (s *Span) Name() string { return s.name }

// Attributes returns the rewritten attributes.
func (s *Span) Attributes() []attribute.KeyValue { return s.attrs }

// Events returns the rewritten events.
func (s *Span) Events() []sdktrace.Event { return s.events }

// Links returns the rewritten links.
func (s *Span) Links() []sdktrace.Link { return s.links }

// Status returns the rewritten status.
func (s *Span) Status() sdktrace.Status { return s.status }

// InstrumentationScope returns the rewritten scope.
func (s *Span) InstrumentationScope() instrumentation.Scope { return s.scope }

// InstrumentationLibrary returns the rewritten scope in its deprecated
// form.
func (s *Span) InstrumentationLibrary() instrumentation.Library { //nolint:staticcheck // part of ReadOnlySpan
	return s.scope
}

// RewriteSpan returns a copy of s rewritten by r, or s itself and false
// when r changes nothing. s is never modified.
func RewriteSpan(s sdktrace.ReadOnlySpan, r Rewriter) (sdktrace.ReadOnlySpan, bool) {
	if s == nil {
		return s, false
	}
	name, c1 := r.Text(s.Name())
	attrs, c2 := r.KeyValues(s.Attributes())
	status := s.Status()
	desc, c3 := r.Text(status.Description)
	status.Description = desc

	events := s.Events()
	c4 := false
	for i, ev := range events {
		en, ce1 := r.Text(ev.Name)
		ea, ce2 := r.KeyValues(ev.Attributes)
		if ce1 || ce2 {
			if !c4 {
				events, c4 = slices.Clone(events), true
			}
			events[i].Name, events[i].Attributes = en, ea
		}
	}
	tsr, _ := r.(TraceStateRewriter)
	links := s.Links()
	c5 := false
	for i, l := range links {
		la, ch := r.KeyValues(l.Attributes)
		lsc := l.SpanContext
		if tsr != nil {
			if ts, cts := tsr.TraceState(lsc.TraceState()); cts {
				lsc, ch = lsc.WithTraceState(ts), true
			}
		}
		if ch {
			if !c5 {
				links, c5 = slices.Clone(links), true
			}
			links[i].Attributes, links[i].SpanContext = la, lsc
		}
	}
	scope, c6 := r.Scope(s.InstrumentationScope())
	sc, c7 := s.SpanContext(), false
	if tsr != nil {
		if ts, ch := tsr.TraceState(sc.TraceState()); ch {
			sc, c7 = sc.WithTraceState(ts), true
		}
	}
	if !c1 && !c2 && !c3 && !c4 && !c5 && !c6 && !c7 {
		return s, false
	}
	return &Span{ReadOnlySpan: s, name: name, attrs: attrs, events: events, links: links, status: status, scope: scope, sc: sc}, true
}

// RewriteSpans returns spans with each span rewritten by r: spans itself
// when nothing changed, else a new slice. spans is never modified.
func RewriteSpans(spans []sdktrace.ReadOnlySpan, r Rewriter) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for i, s := range spans {
		if rs, ok := RewriteSpan(s, r); ok {
			if out == nil {
				out = slices.Clone(spans)
			}
			out[i] = rs
		}
	}
	if out == nil {
		return spans
	}
	return out
}
