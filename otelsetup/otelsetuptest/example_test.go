package otelsetuptest_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/otelkit/otelkit/otelsetup/otelsetuptest"
	"go.opentelemetry.io/otel"
)

func TestRecorder(t *testing.T) {
	rec := otelsetuptest.New(t)

	ctx, span := otel.Tracer("orders").Start(context.Background(), "get order")
	slog.InfoContext(ctx, "fetching order", "order_id", "o-1")
	span.End()

	if got := len(rec.Spans()); got != 1 {
		t.Fatalf("spans = %d, want 1", got)
	}
	var found bool
	for _, r := range rec.Records() {
		if r.Body().AsString() == "fetching order" && r.TraceID() == span.SpanContext().TraceID() {
			found = true
		}
	}
	if !found {
		t.Errorf("no OTLP record with the span's trace ID in %d records", len(rec.Records()))
	}
	if rm := rec.Metrics(t); len(rm.ScopeMetrics) == 0 {
		t.Error("want the otelkit.telemetry.dropped metric at least")
	}
}

func TestCleanupRestoresGlobals(t *testing.T) {
	before := slog.Default()
	t.Run("inner", func(t *testing.T) {
		otelsetuptest.New(t)
		if slog.Default() == before {
			t.Error("test mode did not install its logger")
		}
	})
	if slog.Default() != before {
		t.Error("slog default not restored after cleanup")
	}
	_, span := otel.Tracer("x").Start(context.Background(), "after")
	if span.SpanContext().IsValid() {
		t.Error("global tracer provider still records after cleanup")
	}
}
