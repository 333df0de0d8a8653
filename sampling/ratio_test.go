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
			// Five binomial standard deviations: 0.16 points at 0.01, so an
			// implementation that never (or always) samples fails at every
			// ratio strictly between 0 and 1, while a correct one is off by
			// more with probability below 1e-6 (and the seeds are fixed).
			// At 0 and 1 the deviation is 0: the count must be exact.
			sigma := math.Sqrt(ratio * (1 - ratio) / n)
			if math.Abs(got-ratio) > 5*sigma {
				t.Fatalf("ratio %v: observed %v, more than 5σ (%.5f) away", ratio, got, 5*sigma)
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

// TestRatioRequiresSampledSpan checks that ratio detail lines up with
// sampled traces: a trace ID inside the ratio whose span is not sampled (a
// remote unsampled parent under ParentBased, or a trace sampler at a lower
// ratio) gets no detail.
func TestRatioRequiresSampledSpan(t *testing.T) {
	inRatio := trace.TraceID{15: 0x01} // below any bound > 0
	if !sampling.RatioSampled(inRatio, 0.5) {
		t.Fatal("test ID not in the ratio")
	}
	// Inside 0.5 but not inside 0.1: the last 8 bytes, shifted, are 0.25 of 2^63.
	between := trace.TraceID{8: 0x40}
	if !sampling.RatioSampled(between, 0.5) || sampling.RatioSampled(between, 0.1) {
		t.Fatal("test ID does not straddle 0.1 and 0.5")
	}

	t.Run("unsampled_span_context", func(t *testing.T) {
		p := mustNew(t, sampling.WithRatio(0.5))
		ctx, req := p.StartContext(context.Background())
		defer req.Finish(200, 0, false)
		if req.Enabled(withSpanContext(ctx, inRatio, 0), slog.LevelDebug) {
			t.Fatal("detail for a span that is not sampled")
		}
		// Decided and cached, as a sampled span would have been.
		if req.Enabled(withTrace(ctx, inRatio), slog.LevelDebug) || req.SampledBy(ctx) != "" {
			t.Fatal("decision not cached")
		}
		if p.Wants(withTrace(ctx, inRatio), slog.LevelDebug) {
			t.Fatal("Wants after the decision")
		}
	})

	t.Run("no_span_context", func(t *testing.T) {
		// Unchanged: nothing is decided until a span appears.
		p := mustNew(t, sampling.WithRatio(0.5))
		ctx, req := p.StartContext(context.Background())
		defer req.Finish(200, 0, false)
		if req.Enabled(ctx, slog.LevelDebug) {
			t.Fatal("detail without a span")
		}
		if !req.Enabled(withTrace(ctx, inRatio), slog.LevelDebug) {
			t.Fatal("sampled span after none: not enabled")
		}
	})

	t.Run("trace_id_without_span_id", func(t *testing.T) {
		// Not a valid span context: decided by the trace ID alone.
		p := mustNew(t, sampling.WithRatio(0.5))
		ctx, req := p.StartContext(context.Background())
		defer req.Finish(200, 0, false)
		ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: inRatio}))
		if !req.Enabled(ctx, slog.LevelDebug) {
			t.Fatal("trace ID in the ratio not enabled")
		}
	})

	// Through the SDK, with the sampler otelsetup installs.
	sdkCases := []struct {
		name       string
		traceRatio float64
		id         trace.TraceID
		remote     bool             // the span has a remote parent
		parent     trace.TraceFlags // of the remote parent
		want       bool
	}{
		{"remote_unsampled_parent", 0.5, inRatio, true, 0, false},
		{"remote_sampled_parent", 0.5, inRatio, true, trace.FlagsSampled, true},
		{"trace_ratio_below_detail_ratio", 0.1, between, false, 0, false},
		{"trace_ratio_below_detail_ratio_inside_both", 0.1, inRatio, false, 0, true},
	}
	for _, tc := range sdkCases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustNew(t, sampling.WithRatio(0.5))
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithIDGenerator(fixedIDs{tc.id}),
				sdktrace.WithSampler(sampling.TraceSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(tc.traceRatio)))))
			defer tp.Shutdown(context.Background())
			ctx, req := p.StartContext(context.Background())
			defer req.Finish(200, 0, false)
			if tc.remote {
				ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: tc.id, SpanID: trace.SpanID{9}, TraceFlags: tc.parent, Remote: true,
				}))
			}
			ctx, span := tp.Tracer("test").Start(ctx, "server")
			defer span.End()
			if span.SpanContext().TraceID() != tc.id {
				t.Fatalf("span trace %s, want %s", span.SpanContext().TraceID(), tc.id)
			}
			if got := req.Enabled(ctx, slog.LevelDebug); got != tc.want || got != span.SpanContext().IsSampled() {
				t.Fatalf("Enabled = %v, span sampled %v, want %v", got, span.SpanContext().IsSampled(), tc.want)
			}
		})
	}
}

// fixedIDs makes root spans with one trace ID.
type fixedIDs struct{ id trace.TraceID }

func (f fixedIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	return f.id, trace.SpanID{7}
}

func (f fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return trace.SpanID{7} }
