package sampling_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sampling"
)

func randomTraceID(rng *rand.Rand) trace.TraceID {
	var id trace.TraceID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	return id
}

// ratioEnabled starts a request in p and asks for DEBUG once the span exists.
func ratioEnabled(p *sampling.Policy, id trace.TraceID) bool {
	ctx, req := p.StartContext(context.Background())
	return req.Enabled(withTrace(ctx, id), slog.LevelDebug)
}

func TestRatioSameDecisionInIndependentPolicies(t *testing.T) {
	a := mustNew(t, sampling.WithRatio(0.3))
	b := mustNew(t, sampling.WithRatio(0.3))
	sdk := sdktrace.TraceIDRatioBased(0.3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		id := randomTraceID(rng)
		da, db := ratioEnabled(a, id), ratioEnabled(b, id)
		if da != db {
			t.Fatalf("trace %s: policy A %v, policy B %v", id, da, db)
		}
		res := sdk.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id})
		if da != (res.Decision == sdktrace.RecordAndSample) {
			t.Fatalf("trace %s: policy %v, SDK TraceIDRatioBased %v", id, da, res.Decision)
		}
	}
}

func TestRatioObservedRate(t *testing.T) {
	const n = 100_000
	for _, ratio := range []float64{0, 0.01, 0.1, 0.25, 0.5, 0.9, 1} {
		t.Run(fmt.Sprint(ratio), func(t *testing.T) {
			p := mustNew(t, sampling.WithRatio(ratio))
			rng := rand.New(rand.NewPCG(uint64(ratio*1000), 7))
			hits := 0
			for range n {
				if ratioEnabled(p, randomTraceID(rng)) {
					hits++
				}
			}
			got := float64(hits) / n
			// ±1 percentage point; the binomial standard deviation at n=100,000
			// is at most 0.16 points, so this never flakes.
			if math.Abs(got-ratio) > 0.01 {
				t.Fatalf("ratio %v: observed %v", ratio, got)
			}
			t.Logf("ratio %v: observed %.4f", ratio, got)
		})
	}
}

func TestRatioDecidedLazilyAndCached(t *testing.T) {
	p := mustNew(t, sampling.WithRatio(0.5))
	sampled := trace.TraceID{15: 0x01}                                                                       // low bits ~0: below any bound
	unsampled := trace.TraceID{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff} // above any bound < 1
	if !sampling.RatioSampled(sampled, 0.5) || sampling.RatioSampled(unsampled, 0.5) {
		t.Fatal("test IDs do not straddle the bound")
	}
	ctx, req := p.StartContext(context.Background())
	if req.Enabled(ctx, slog.LevelDebug) {
		t.Fatal("enabled before any span exists")
	}
	if !req.Enabled(withTrace(ctx, sampled), slog.LevelDebug) {
		t.Fatal("sampled trace not enabled")
	}
	// The first trace ID seen decides for the rest of the request.
	if !req.Enabled(withTrace(ctx, unsampled), slog.LevelDebug) || !req.Enabled(ctx, slog.LevelDebug) {
		t.Fatal("decision not cached")
	}
	if req.Enabled(ctx, slog.LevelDebug-1) {
		t.Fatal("below the detail level must stay off")
	}
	if got := req.SampledBy(ctx); got != sampling.SampledByRatio {
		t.Fatalf("SampledBy = %q", got)
	}
}

func TestRatioConcurrentSafe(t *testing.T) {
	p := mustNew(t, sampling.WithRatio(0.5))
	ctx, req := p.StartContext(context.Background())
	ctx = withTrace(ctx, trace.TraceID{15: 1})
	done := make(chan bool)
	for range 8 {
		go func() { done <- req.Enabled(ctx, slog.LevelDebug) }()
	}
	for range 8 {
		if !<-done {
			t.Fatal("inconsistent concurrent decision")
		}
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	p := mustNew(t, sampling.WithRatio(0.5), sampling.WithTailBuffer(10, 0))
	ctx, req := p.StartContext(context.Background())
	defer req.Finish(200, 0, false)
	ctx = withTrace(ctx, trace.TraceID{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	allocs := testing.AllocsPerRun(1000, func() {
		p.ObserveLevel(ctx, slog.LevelError)
		_ = p.Wants(ctx, slog.LevelDebug)
		r := sampling.FromContext(ctx)
		_ = r.Enabled(ctx, slog.LevelDebug)
		_ = r.Holds(slog.LevelDebug)
		_ = p.KeepNoisy(ctx, "probe", slog.LevelWarn)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record", allocs)
	}
}
