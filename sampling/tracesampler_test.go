package sampling_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sampling"
)

func TestTraceSampler(t *testing.T) {
	p := mustNew(t, sampling.WithAllowedPeers("10.0.0.0/8"), sampling.WithLogger(discardLogger()))
	forced, _ := p.Start(newRequest("10.0.0.1:1", http.Header{"X-Debug-Log": {"1"}}))
	plain, _ := p.Start(newRequest("10.0.0.1:1", nil))
	unsampledParent := trace.ContextWithRemoteSpanContext(forced, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true,
	}))

	tests := []struct {
		name string
		ctx  context.Context
		want sdktrace.SamplingDecision
	}{
		{"forced overrides never", forced, sdktrace.RecordAndSample},
		{"forced overrides unsampled remote parent", unsampledParent, sdktrace.RecordAndSample},
		{"plain defers to base", plain, sdktrace.Drop},
		{"no state defers to base", context.Background(), sdktrace.Drop},
	}
	s := sampling.TraceSampler(sdktrace.ParentBased(sdktrace.NeverSample()))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: tt.ctx, TraceID: trace.TraceID{1}})
			if res.Decision != tt.want {
				t.Fatalf("decision %v, want %v", res.Decision, tt.want)
			}
		})
	}
	if d := s.Description(); !strings.Contains(d, "ParentBased") {
		t.Errorf("Description %q does not name the base", d)
	}
	if d := sampling.TraceSampler(nil).Description(); !strings.Contains(d, "AlwaysOnSampler") {
		t.Errorf("nil base description %q", d)
	}
}

// TestTraceSamplerInProvider checks the wiring Setup uses: a span started
// under a forced request is sampled although the base samples nothing.
func TestTraceSamplerInProvider(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sampling.TraceSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0)))),
		sdktrace.WithSpanProcessor(rec),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()
	p := mustNew(t, sampling.WithAllowedPeers("10.0.0.0/8"), sampling.WithLogger(discardLogger()))

	ctx, _ := p.Start(newRequest("10.0.0.1:1", http.Header{"X-Debug-Log": {"1"}}))
	ctx, span := tp.Tracer("test").Start(ctx, "server")
	_, child := tp.Tracer("test").Start(ctx, "client")
	child.End()
	span.End()
	plainCtx, _ := p.Start(newRequest("10.0.0.1:1", nil))
	_, other := tp.Tracer("test").Start(plainCtx, "server")
	other.End()

	if got := len(rec.Ended()); got != 2 {
		t.Fatalf("%d spans recorded, want the forced server and client spans", got)
	}
}
