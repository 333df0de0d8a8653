package sampling

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// scope is the instrumentation scope name of the package's meter.
const scope = "github.com/otelkit/otelkit/sampling"

// Metric names. Every counter is also kept in [Stats].
const (
	metricDebugRequests = "otelkit.sampling.debug.requests"
	metricTailRecords   = "otelkit.sampling.tail.records"
	metricNoisyDropped  = "otelkit.sampling.noisy.dropped"
)

// Outcomes of tail-buffered records, the "outcome" attribute of
// otelkit.sampling.tail.records.
const (
	outcomeEmitted   = "emitted"
	outcomeDiscarded = "discarded"
	outcomeDropped   = "dropped"
)

// meters holds the instruments, created on first use so that the global
// meter provider installed by Setup after New is still the one used.
type meters struct {
	once     sync.Once
	mp       metric.MeterProvider
	debug    metric.Int64Counter
	tail     metric.Int64Counter
	noisy    metric.Int64Counter
	emitted  metric.AddOption
	discard  metric.AddOption
	dropped  metric.AddOption
	byReason sync.Map // reason string -> metric.AddOption
}

func (m *meters) init() {
	m.once.Do(func() {
		mp := m.mp
		if mp == nil {
			mp = otel.GetMeterProvider()
		}
		meter := mp.Meter(scope)
		var err error
		m.debug, err = meter.Int64Counter(metricDebugRequests,
			metric.WithDescription("Requests that carried the debug header, by trust and reason."),
			metric.WithUnit("{request}"))
		handle(err)
		m.tail, err = meter.Int64Counter(metricTailRecords,
			metric.WithDescription("Tail-buffered records by outcome: emitted, discarded at the end of a request, dropped on overflow."),
			metric.WithUnit("{record}"))
		handle(err)
		m.noisy, err = meter.Int64Counter(metricNoisyDropped,
			metric.WithDescription("Noisy records dropped by 1-in-N sampling."),
			metric.WithUnit("{record}"))
		handle(err)
		m.emitted = outcome(outcomeEmitted)
		m.discard = outcome(outcomeDiscarded)
		m.dropped = outcome(outcomeDropped)
	})
}

// handle reports an instrument error that cannot be returned. The SDK still
// returns a usable no-op instrument with such an error.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

func outcome(s string) metric.AddOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", s)))
}

func (m *meters) debugRequest(ctx context.Context, trusted bool, reason string) {
	m.init()
	key := reason
	if trusted {
		key = "+" + reason
	}
	opt, ok := m.byReason.Load(key)
	if !ok {
		opt, _ = m.byReason.LoadOrStore(key, metric.WithAttributeSet(attribute.NewSet(
			attribute.Bool("trusted", trusted), attribute.String("reason", reason))))
	}
	m.debug.Add(ctx, 1, opt.(metric.AddOption))
}

func (m *meters) tailRecords(ctx context.Context, emitted, discarded, dropped int64) {
	if emitted == 0 && discarded == 0 && dropped == 0 {
		return
	}
	m.init()
	if emitted > 0 {
		m.tail.Add(ctx, emitted, m.emitted)
	}
	if discarded > 0 {
		m.tail.Add(ctx, discarded, m.discard)
	}
	if dropped > 0 {
		m.tail.Add(ctx, dropped, m.dropped)
	}
}

func (m *meters) noisyDropped(ctx context.Context) {
	m.init()
	m.noisy.Add(ctx, 1)
}

// Stats is a snapshot of a Policy's counters since New. The same numbers are
// exported as OpenTelemetry metrics.
type Stats struct {
	// DebugHonoured counts requests whose debug header was trusted.
	DebugHonoured uint64
	// DebugUntrusted counts requests whose debug header was ignored.
	DebugUntrusted uint64
	// TailEmitted counts tail-buffered records emitted at the end of a request.
	TailEmitted uint64
	// TailDiscarded counts tail-buffered records discarded at the end of a
	// request that needed no detail.
	TailDiscarded uint64
	// TailDropped counts records dropped because a tail buffer was full.
	TailDropped uint64
	// NoisyDropped counts records dropped by [Policy.KeepNoisy].
	NoisyDropped uint64
}

type counters struct {
	honoured, untrusted                atomic.Uint64
	tailEmitted, tailDiscard, tailDrop atomic.Uint64
	noisyDropped                       atomic.Uint64
}

// Stats returns a snapshot of the policy's counters. It is safe for
// concurrent use.
func (p *Policy) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	return Stats{
		DebugHonoured:  p.stats.honoured.Load(),
		DebugUntrusted: p.stats.untrusted.Load(),
		TailEmitted:    p.stats.tailEmitted.Load(),
		TailDiscarded:  p.stats.tailDiscard.Load(),
		TailDropped:    p.stats.tailDrop.Load(),
		NoisyDropped:   p.stats.noisyDropped.Load(),
	}
}
