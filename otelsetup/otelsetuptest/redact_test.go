package otelsetuptest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
	"github.com/otelkit/otelkit/otelsetup/otelsetuptest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

// TestNoSecretReachesAnySink logs and traces canary secrets through Setup's
// pipeline and looks for them in the console bytes, the OTLP log records
// and the exported spans.
func TestNoSecretReachesAnySink(t *testing.T) {
	const canary = "canary-s3cr3t-value-0042"
	rec := otelsetuptest.New(t, otelsetup.WithoutGlobals())
	log := rec.Logger("app")
	ctx, span := rec.TracerProvider().Tracer("t").Start(context.Background(), "op")
	ctx = logbridge.WithFields(ctx, slog.String("session", canary))
	log.InfoContext(ctx, "login with password="+canary, "token", canary, "user", "ada",
		slog.Group("db", slog.String("dsn", "postgres://app:"+canary+"@db:5432/orders")),
		"err", errors.New("GET https://api.example.test/v1?api_key="+canary+": timeout"))
	span.SetAttributes(attribute.String("url.full", "https://u:"+canary+"@h.example.test/?sig="+canary))
	span.RecordError(fmt.Errorf("auth failed with Bearer %s", canary))
	span.SetStatus(codes.Error, "token="+canary)
	span.End()

	if out := rec.Console(); strings.Contains(out, canary) || !strings.Contains(out, `"user":"ada"`) {
		t.Errorf("console:\n%s", out)
	}
	for _, r := range rec.Records() {
		var b strings.Builder
		b.WriteString(r.Body().AsString())
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			b.WriteString(string(kv.Key) + "=" + kv.Value.String() + " ")
			return true
		})
		if strings.Contains(b.String(), canary) {
			t.Errorf("OTLP record leaks: %s", b.String())
		}
	}
	for _, s := range rec.Spans() {
		got := fmt.Sprintf("%v %v %v", s.Attributes, s.Events, s.Status)
		if strings.Contains(got, canary) {
			t.Errorf("span leaks: %s", got)
		}
	}
}
