package deps

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Step times one step of the work in ctx, such as "fetch_customer": it
// starts a child span named name and returns its context and an end
// function. end writes a step_timing record with the step's name and
// duration_ms, and ends the span, both from one clock reading; pass it the
// step's error, or nil.
//
//	ctx, end := deps.Step(ctx, "fetch_customer")
//	customer, err := fetchCustomer(ctx, id)
//	end(err)
//
// The record is at the Success level (INFO), the Degraded level (WARN)
// when err is not nil, and the Canceled level when the context was
// canceled; a slow step (see WithSlowThreshold) is at least at the
// Degraded level, with slow=true. Only the first call of end counts; end is
// safe to call from any goroutine. Step never stops recording because ctx
// is done: the record says canceled or timeout instead.
func Step(ctx context.Context, name string, opts ...Option) (context.Context, func(err error)) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := configFor(opts)
	s := &step{cfg: cfg, parent: ctx, name: name, start: time.Now()}
	s.ctx, s.span = cfg.instruments().tracer.Start(ctx, name,
		internalSpan,
		trace.WithTimestamp(s.start))
	return s.ctx, s.end
}

type step struct {
	cfg    *config
	parent context.Context
	ctx    context.Context
	span   trace.Span
	name   string
	start  time.Time
	done   atomic.Bool
}

func (s *step) end(err error) {
	if !s.done.CompareAndSwap(false, true) {
		return
	}
	defer guard("step_timing")
	end := time.Now()
	d := end.Sub(s.start)
	cfg := s.cfg
	errType, msg := "", ""
	outcome := Success
	if err != nil {
		errType = ErrorType(s.parent, err)
		msg = cfg.policy().Error(err)
		outcome = Degraded
		if errType == CategoryCanceled {
			outcome = Canceled
		}
		s.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		if outcome != Canceled {
			s.span.SetStatus(codes.Error, msg)
		}
	}
	s.span.End(trace.WithTimestamp(end))

	slow := cfg.isSlow(d)
	level := cfg.levelFor(outcome, slow)
	h := cfg.log().Handler()
	if h == nil || !h.Enabled(s.ctx, level) {
		return
	}
	var buf [7]slog.Attr
	attrs := append(buf[:0],
		slog.String(FieldEvent, EventStepTiming),
		slog.String(FieldStep, s.name),
		slog.Float64(FieldDurationMS, millis(d)),
	)
	if slow {
		attrs = append(attrs, slog.Bool(FieldSlow, true))
	}
	if err != nil {
		attrs = append(attrs, slog.String(FieldErrorType, errType), slog.String(FieldError, msg))
	}
	handle(s.ctx, h, level, msgStepTiming, attrs)
}
