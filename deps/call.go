package deps

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// AttrOperation is the span and metric attribute that names the operation
// of a [Call]; the dependency is service.peer.name.
const AttrOperation = attribute.Key("otelkit.dependency.operation")

var errNilFunc = errors.New("deps: Call with a nil function")

// Call runs fn as the operation op of the dependency dep (a database,
// a queue, a cache, an SDK) and times it as the HTTP transport times a
// request: a client span named "dep op" with service.peer.name and
// otelkit.dependency.operation, a point of otelkit.dependency.duration,
// and a dependency_call record with dependency, operation, duration_ms and,
// when fn fails, error.type and the redacted error. All three come from one
// measurement.
//
//	err := deps.Call(ctx, "postgres", "query_orders", func(ctx context.Context) error {
//		rows, err = db.QueryContext(ctx, q, id)
//		return err
//	})
//
// fn gets the span's context. Call returns fn's error as it is. The record
// is at the Failed level (ERROR) when fn returns an error, at the Canceled
// level when the caller canceled ctx, else at the Success level, raised to
// the Degraded level when slow. If fn panics, the call is recorded with
// error.type "panic" and the panic goes on, untouched.
func Call(ctx context.Context, dep, op string, fn func(ctx context.Context) error, opts ...Option) error {
	if fn == nil {
		return errNilFunc
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := configFor(opts)
	in := cfg.instruments()
	start := time.Now()
	cctx, span := in.tracer.Start(ctx, dep+" "+op,
		clientSpan,
		trace.WithTimestamp(start),
		trace.WithAttributes(semconv.ServicePeerName(dep), AttrOperation.String(op)))
	panicked := true
	defer func() {
		// No recover: a panic of fn goes on with its own stack.
		if panicked {
			finishCall(ctx, cctx, cfg, in, span, dep, op, start, nil, true)
		}
	}()
	err := fn(cctx)
	panicked = false
	finishCall(ctx, cctx, cfg, in, span, dep, op, start, err, false)
	return err
}

func finishCall(ctx, cctx context.Context, cfg *config, in *instruments, span trace.Span,
	dep, op string, start time.Time, err error, panicked bool) {
	defer guard("dependency_call")
	end := time.Now()
	d := end.Sub(start)
	errType, msg := "", ""
	outcome := Success
	switch {
	case panicked:
		errType, msg, outcome = CategoryPanic, "panic", Failed
	case err != nil:
		errType, msg, outcome = ErrorType(ctx, err), cfg.policy().Error(err), Failed
		if errType == CategoryCanceled {
			outcome = Canceled
		}
	}
	if errType != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		if outcome == Failed {
			span.SetStatus(codes.Error, msg)
		}
	}
	span.End(trace.WithTimestamp(end))

	var kv [3]attribute.KeyValue
	m := append(kv[:0], semconv.ServicePeerName(dep), AttrOperation.String(op))
	if errType != "" {
		m = append(m, semconv.ErrorTypeKey.String(errType))
	}
	in.callDur.Record(cctx, d.Seconds(), metric.WithAttributeSet(attribute.NewSet(m...)))

	slow := cfg.isSlow(d)
	level := cfg.levelFor(outcome, slow)
	h := cfg.log().Handler()
	if h == nil || !h.Enabled(cctx, level) {
		return
	}
	var buf [7]slog.Attr
	attrs := append(buf[:0],
		slog.String(FieldEvent, EventDependencyCall),
		slog.String(FieldDependency, dep),
		slog.String(FieldOperation, op),
		slog.Float64(FieldDurationMS, millis(d)),
	)
	if slow {
		attrs = append(attrs, slog.Bool(FieldSlow, true))
	}
	if errType != "" {
		attrs = append(attrs, slog.String(FieldErrorType, errType), slog.String(FieldError, msg))
	}
	handle(cctx, h, level, msgDependencyCall, attrs)
}
