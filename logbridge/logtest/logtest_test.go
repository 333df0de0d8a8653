package logtest_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/logbridge/logtest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestRecorder(t *testing.T) {
	rec := logtest.New(t)
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	ctx = logbridge.WithFields(ctx, slog.String("request_id", "r-1"))
	rec.Logger("billing").ErrorContext(ctx, "charge failed", "amount", 12)
	rec.Logger().Log(ctx, logbridge.LevelCritical, "down")
	span.End()

	if !rec.Has(slog.LevelError, "charge failed") || !rec.Has(logbridge.LevelCritical, "down") {
		t.Fatalf("entries: %+v", rec.Entries())
	}
	e := rec.Entries()[0]
	if e.Logger != "billing" || e.TraceID != span.SpanContext().TraceID().String() || e.Attrs["request_id"] != "r-1" || e.Attrs["amount"] != 12.0 {
		t.Errorf("entry = %+v", e)
	}
	if !strings.Contains(rec.Output(), `"msg":"charge failed"`) {
		t.Errorf("output = %s", rec.Output())
	}
	rec.Reset()
	if len(rec.Entries()) != 0 {
		t.Error("Reset kept entries")
	}
}
