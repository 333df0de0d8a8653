package logbridge

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// handlerMetrics owns the handler's own instruments:
// otelkit.log.records{severity,logger} and otelkit.log.dropped{sink}.
type handlerMetrics struct {
	records metric.Int64Counter
	reg     metric.Registration
}

func newHandlerMetrics(mp metric.MeterProvider, sinks []*sinkState) *handlerMetrics {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter("github.com/otelkit/otelkit/logbridge")
	hm := &handlerMetrics{}
	var err error
	hm.records, err = m.Int64Counter("otelkit.log.records",
		metric.WithDescription("Log records handled, by severity and logger."), metric.WithUnit("{record}"))
	if err != nil {
		otel.Handle(err)
	}
	dropped, err := m.Int64ObservableCounter("otelkit.log.dropped",
		metric.WithDescription("Log records a sink dropped (queue full) or failed to write, by sink and reason."),
		metric.WithUnit("{record}"))
	if err != nil {
		otel.Handle(err)
		return hm
	}
	hm.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, s := range sinks {
			o.ObserveInt64(dropped, s.health.dropped.Load(), metric.WithAttributes(attribute.String("sink", s.cfg.name), attribute.String("reason", "queue_full")))
			o.ObserveInt64(dropped, s.health.failed.Load(), metric.WithAttributes(attribute.String("sink", s.cfg.name), attribute.String("reason", "write_failed")))
		}
		return nil
	}, dropped)
	if err != nil {
		otel.Handle(err)
	}
	return hm
}

func (m *handlerMetrics) close() error {
	if m.reg == nil {
		return nil
	}
	return m.reg.Unregister()
}

// levelCounts holds the precomputed attribute sets of one logger, so
// counting a record allocates nothing.
type levelCounts struct {
	counter metric.Int64Counter
	// DEBUG, INFO, WARN, ERROR, CRITICAL. Slices made once: passing one
	// option variadically would allocate a slice on every call.
	opts [5][]metric.AddOption
}

func (m *handlerMetrics) counts(logger string) *levelCounts {
	if m.records == nil {
		return nil
	}
	lc := &levelCounts{counter: m.records}
	for i, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, LevelCritical} {
		lc.opts[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(
			attribute.String("severity", LevelName(l)), attribute.String("logger", logger)))}
	}
	return lc
}

func (lc *levelCounts) add(ctx context.Context, l slog.Level) {
	if lc == nil {
		return
	}
	i := 0
	switch {
	case l >= LevelCritical:
		i = 4
	case l >= slog.LevelError:
		i = 3
	case l >= slog.LevelWarn:
		i = 2
	case l >= slog.LevelInfo:
		i = 1
	}
	lc.counter.Add(ctx, 1, lc.opts[i]...)
}
