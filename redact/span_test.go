package redact

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestKeyValue(t *testing.T) {
	p := New()
	tests := []struct {
		name    string
		in      attribute.KeyValue
		want    attribute.KeyValue
		changed bool
	}{
		{"sensitive key", attribute.String("http.request.header.authorization", "Bearer x"), attribute.String("http.request.header.authorization", Mask), true},
		{"sensitive slice", attribute.StringSlice("http.request.header.cookie", []string{"a=1"}), attribute.String("http.request.header.cookie", Mask), true},
		{"sensitive bool kept", attribute.Bool("token_valid", true), attribute.Bool("token_valid", true), false},
		{"url.full", attribute.String("url.full", "https://u:p@h/?sig=a&b=1"), attribute.String("url.full", "https://REDACTED:REDACTED@h/?sig=REDACTED&b=1"), true},
		{"url.query", attribute.String("url.query", "b=1&token=x"), attribute.String("url.query", "b=1&token=REDACTED"), true},
		{"exception.message", attribute.String("exception.message", "bad password=pw"), attribute.String("exception.message", "bad password=[REDACTED]"), true},
		{"string slice", attribute.StringSlice("s", []string{"ok", fakeAWS}), attribute.StringSlice("s", []string{"ok", Mask}), true},
		{"map", attribute.Map("m", attribute.String("secret", "s"), attribute.Int("n", 1)), attribute.Map("m", attribute.String("secret", Mask), attribute.Int("n", 1)), true},
		{"card", attribute.Int64("n", 4111111111111111), attribute.String("n", Mask), true},
		{"clean", attribute.String("http.route", "/orders/{id}"), attribute.String("http.route", "/orders/{id}"), false},
		{"tokens_used", attribute.Int("gen_ai.usage.tokens_used", 5), attribute.Int("gen_ai.usage.tokens_used", 5), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := p.KeyValue(tt.in)
			if got.Key != tt.want.Key || got.Value.String() != tt.want.Value.String() || got.Value.Type() != tt.want.Value.Type() {
				t.Errorf("KeyValue = %v %s, want %v %s", got.Key, got.Value.String(), tt.want.Key, tt.want.Value.String())
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
		})
	}
}

func TestSpanExporter(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(New().SpanExporter(mem)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")

	_, span := tr.Start(context.Background(), "GET /login",
		trace.WithAttributes(attribute.String("url.full", "https://h/cb?access_token=abc"), attribute.String("api_key", "k")),
		trace.WithLinks(trace.Link{Attributes: []attribute.KeyValue{attribute.String("token", "lt")}}))
	span.RecordError(errors.New("auth failed for " + fakeGitHub))
	span.AddEvent("retry", trace.WithAttributes(attribute.String("note", "password=pw")))
	span.SetStatus(codes.Error, "Bearer abc123def rejected")
	span.End()

	_, clean := tr.Start(context.Background(), "clean", trace.WithAttributes(attribute.String("a", "b")))
	clean.End()

	spans := mem.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans", len(spans))
	}
	dump := func(s tracetest.SpanStub) string {
		var b strings.Builder
		b.WriteString(s.Name + s.Status.Description)
		for _, a := range s.Attributes {
			b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
		}
		for _, e := range s.Events {
			b.WriteString(" " + e.Name)
			for _, a := range e.Attributes {
				b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
			}
		}
		for _, l := range s.Links {
			for _, a := range l.Attributes {
				b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
			}
		}
		return b.String()
	}
	got := dump(spans[0])
	for _, leak := range []string{"abc", "=k", fakeGitHub, "=pw", "abc123def", "=lt"} {
		if strings.Contains(got, leak) {
			t.Errorf("exported span leaks %q: %s", leak, got)
		}
	}
	for _, keep := range []string{"GET /login", "exception", "retry", "rejected"} {
		if !strings.Contains(got, keep) {
			t.Errorf("exported span lost %q: %s", keep, got)
		}
	}
	if got := dump(spans[1]); got != "clean a=b" {
		t.Errorf("clean span = %q", got)
	}
}
