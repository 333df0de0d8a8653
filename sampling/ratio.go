package sampling

import (
	"encoding/binary"

	"go.opentelemetry.io/otel/trace"
)

// ratioBound converts a fraction into the bound used by OpenTelemetry's
// TraceIDRatioBased sampler: a trace is sampled when the last 8 bytes of its
// ID, as a big-endian integer shifted right by one, are below the bound.
// Using the same rule means a service that samples traces at ratio r and
// logs detail at ratio r picks the same traces.
func ratioBound(fraction float64) uint64 {
	switch {
	case fraction <= 0:
		return 0
	case fraction >= 1:
		return 1 << 63 // every x (at most 1<<63 - 1) is below it
	default:
		return uint64(fraction * (1 << 63))
	}
}

// ratioSampled reports whether id falls in the sampled fraction given by
// bound. The decision depends on the trace ID alone, so every service and
// every policy with the same ratio decides the same way for the same trace.
func ratioSampled(id trace.TraceID, bound uint64) bool {
	return binary.BigEndian.Uint64(id[8:16])>>1 < bound
}

// RatioSampled reports whether a trace ID falls in the sampled fraction
// (0 to 1), by the rule of OpenTelemetry's TraceIDRatioBased sampler. It is
// the decision [Request.Enabled] makes for ratio sampling, exposed so other
// components can agree with it.
func RatioSampled(id trace.TraceID, fraction float64) bool {
	return ratioSampled(id, ratioBound(fraction))
}
