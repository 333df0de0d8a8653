package sampling_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/otelkit/otelkit/sampling"
)

// Health probes log request_completed a hundred times; one in ten is kept,
// and a failing probe is always kept.
func ExamplePolicy_KeepNoisy() {
	policy, _ := sampling.New(sampling.WithNoisyEvery(10))
	ctx := context.Background()
	kept := 0
	for range 100 {
		if policy.KeepNoisy(ctx, "request_completed GET /healthz", slog.LevelInfo) {
			kept++
		}
	}
	fmt.Println("kept:", kept, "dropped:", policy.Stats().NoisyDropped)
	fmt.Println("warn kept:", policy.KeepNoisy(ctx, "request_completed GET /healthz", slog.LevelWarn))
	// Output:
	// kept: 10 dropped: 90
	// warn kept: true
}
