package sampling_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/sampling"
)

// A forced debug request is traced even when the configured sampler keeps
// almost nothing.
func ExampleTraceSampler() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(
		sampling.TraceSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.001))),
	))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	policy, _ := sampling.New(
		sampling.WithAllowedPeers("10.0.0.0/8"),
		sampling.WithLogger(slog.New(slog.DiscardHandler)),
	)
	r := httptest.NewRequest(http.MethodGet, "/orders/7", nil)
	r.RemoteAddr = "10.0.0.5:4000"
	r.Header.Set("X-Debug-Log", "1")

	ctx, _ := policy.Start(r) // before the server span starts
	_, span := tp.Tracer("example").Start(ctx, "GET /orders/{id}")
	defer span.End()
	fmt.Println("sampled:", span.SpanContext().IsSampled())
	// Output:
	// sampled: true
}
