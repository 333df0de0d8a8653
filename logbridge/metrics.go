package logbridge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// handlerMetrics owns the handler's own instruments:
// otelkit.log.records{severity,logger} and otelkit.log.dropped{sink,reason}. Both
// are observable counters over atomic totals, so counting a record costs an
// atomic add, not a trip through the metric SDK.
type handlerMetrics struct {
	reg metric.Registration

	mu      sync.Mutex
	loggers map[string]*levelCounts
}

var severityNames = [5]string{"DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"}

func newHandlerMetrics(mp metric.MeterProvider, sinks []*sinkState) *handlerMetrics {
	hm := &handlerMetrics{loggers: make(map[string]*levelCounts)}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter("github.com/otelkit/otelkit/logbridge")
	records, err := m.Int64ObservableCounter("otelkit.log.records",
		metric.WithDescription("Log records handled, by severity and logger."), metric.WithUnit("{record}"))
	if err != nil {
		otel.Handle(err)
		return hm
	}
	dropped, err := m.Int64ObservableCounter("otelkit.log.dropped",
		metric.WithDescription("Log records a sink dropped (queue full, still queued at shutdown) or failed to write, by sink and reason."),
		metric.WithUnit("{record}"))
	if err != nil {
		otel.Handle(err)
		return hm
	}
	hm.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		hm.mu.Lock()
		for name, lc := range hm.loggers {
			for i, sev := range severityNames {
				if n := lc.n[i].Load(); n > 0 {
					o.ObserveInt64(records, n, metric.WithAttributes(attribute.String("severity", sev), attribute.String("logger", name)))
				}
			}
		}
		hm.mu.Unlock()
		for _, s := range sinks {
			o.ObserveInt64(dropped, s.health.dropped.Load(), metric.WithAttributes(attribute.String("sink", s.cfg.name), attribute.String("reason", "queue_full")))
			o.ObserveInt64(dropped, s.health.failed.Load(), metric.WithAttributes(attribute.String("sink", s.cfg.name), attribute.String("reason", "write_failed")))
			if n := s.health.lost.Load(); n > 0 {
				o.ObserveInt64(dropped, n, metric.WithAttributes(attribute.String("sink", s.cfg.name), attribute.String("reason", "shutdown")))
			}
		}
		return nil
	}, records, dropped)
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

// levelCounts counts one logger's records by severity.
type levelCounts struct {
	n [5]atomic.Int64 // DEBUG, INFO, WARN, ERROR, CRITICAL
}

// counts returns the counters of a logger, shared by all its handlers.
func (m *handlerMetrics) counts(logger string) *levelCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	lc, ok := m.loggers[logger]
	if !ok {
		lc = &levelCounts{}
		m.loggers[logger] = lc
	}
	return lc
}

func (lc *levelCounts) add(_ context.Context, l slog.Level) {
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
	lc.n[i].Add(1)
}
