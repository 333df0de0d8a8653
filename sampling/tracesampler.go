package sampling

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TraceSampler returns a trace sampler that samples every span started in a
// request with forced debug (see [Policy.Start]) and defers every other
// decision to base. A nil base means the SDK default,
// ParentBased(AlwaysSample()); Setup passes ParentBased(TraceIDRatioBased(r))
// for a configured ratio r.
//
// The forced decision keeps the parent's trace state. The sampler is safe for
// concurrent use.
func TraceSampler(base sdktrace.Sampler) sdktrace.Sampler {
	if base == nil {
		base = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	return traceSampler{base: base}
}

type traceSampler struct {
	base sdktrace.Sampler
}

var _ sdktrace.Sampler = traceSampler{}

func (s traceSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.ParentContext != nil && FromContext(p.ParentContext).Forced() {
		return sdktrace.SamplingResult{
			Decision:   sdktrace.RecordAndSample,
			Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState(),
		}
	}
	return s.base.ShouldSample(p)
}

func (s traceSampler) Description() string {
	return "OtelkitForcedDebug{" + s.base.Description() + "}"
}
