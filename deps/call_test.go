package deps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

func TestCall(t *testing.T) {
	errQuery := errors.New("query failed: password=tiger")
	for _, tc := range []struct {
		name    string
		fn      func(ctx context.Context) error
		ctx     func() (context.Context, context.CancelFunc)
		opts    []Option
		level   string
		errType string
		errMsg  string
		slow    bool
	}{
		{name: "success", fn: func(context.Context) error { return nil }, level: "INFO"},
		{name: "error", fn: func(context.Context) error { return errQuery },
			level: "ERROR", errType: CategoryOther, errMsg: "query failed: password=[REDACTED]"},
		{name: "typed_error", fn: func(context.Context) error { return fmt.Errorf("wrapped: %w", typedErr{}) },
			level: "ERROR", errType: "db_conflict", errMsg: "wrapped: conflict"},
		{name: "canceled", fn: func(ctx context.Context) error { return ctx.Err() },
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			level: "INFO", errType: CategoryCanceled, errMsg: "context canceled"},
		{name: "timeout", fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			level: "ERROR", errType: CategoryTimeout, errMsg: "context deadline exceeded"},
		{name: "slow", fn: func(context.Context) error { time.Sleep(20 * time.Millisecond); return nil },
			opts: []Option{WithSlowThreshold(5 * time.Millisecond)}, level: "WARN", slow: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			if tc.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tc.ctx()
				defer cancel()
			}
			var inner trace.SpanContext
			fn := func(ctx context.Context) error {
				inner = trace.SpanContextFromContext(ctx)
				return tc.fn(ctx)
			}
			err := Call(ctx, "postgres", "query_orders", fn, h.opts(tc.opts...)...)
			if (err != nil) != (tc.errType != "") {
				t.Fatalf("Call returned %v", err)
			}
			span := h.span()
			if span.Name != "postgres query_orders" || span.SpanKind != trace.SpanKindClient || !inner.Equal(span.SpanContext) {
				t.Errorf("span %q %v; fn got the span: %v", span.Name, span.SpanKind, inner.Equal(span.SpanContext))
			}
			wantSpan := map[string]any{"service.peer.name": "postgres", string(AttrOperation): "query_orders"}
			wantMetric := map[string]any{"service.peer.name": "postgres", string(AttrOperation): "query_orders"}
			want := map[string]any{
				FieldEvent: EventDependencyCall, FieldDependency: "postgres", FieldOperation: "query_orders",
				FieldDurationMS: wantMillis(span),
			}
			if tc.errType != "" {
				wantSpan["error.type"], wantMetric["error.type"] = tc.errType, tc.errType
				want[FieldErrorType], want[FieldError] = tc.errType, tc.errMsg
			}
			if tc.slow {
				want[FieldSlow] = true
			}
			checkMap(t, "span", attrMap(span.Attributes), wantSpan)
			wantCode := codes.Unset
			if tc.level == "ERROR" {
				wantCode = codes.Error
			}
			if span.Status.Code != wantCode || (wantCode == codes.Error && span.Status.Description != tc.errMsg) {
				t.Errorf("span status %v", span.Status)
			}
			rec := h.record(EventDependencyCall)
			if rec.Level != tc.level {
				t.Errorf("level %s, want %s", rec.Level, tc.level)
			}
			checkMap(t, "record", rec.Attrs, want)
			p := h.point(MetricCallDuration)
			if p.Count != 1 || p.Sum != span.EndTime.Sub(span.StartTime).Seconds() {
				t.Errorf("point count %d sum %v", p.Count, p.Sum)
			}
			checkMap(t, "metric", setMap(p.Attributes), wantMetric)
			if strings.Contains(h.everything(), "tiger") {
				t.Error("secret in the error leaked")
			}
		})
	}
}

type typedErr struct{}

func (typedErr) Error() string     { return "conflict" }
func (typedErr) ErrorType() string { return "db_conflict" }

func TestCallPanicGoesOn(t *testing.T) {
	h := newHarness(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = Call(context.Background(), "redis", "get", func(context.Context) error { panic("boom") }, h.opts()...)
	}()
	rec := h.record(EventDependencyCall)
	if rec.Level != "ERROR" || rec.Attrs[FieldErrorType] != CategoryPanic {
		t.Errorf("record %s %v", rec.Level, rec.Attrs)
	}
	if s := h.span(); s.Status.Code != codes.Error {
		t.Errorf("span status %v", s.Status)
	}
}

func TestCallNilFunc(t *testing.T) {
	if err := Call(context.Background(), "x", "y", nil); !errors.Is(err, errNilFunc) {
		t.Errorf("err %v", err)
	}
}

func TestStep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		cancel  bool
		opts    []Option
		sleep   time.Duration
		level   string
		errType string
		errMsg  string
		slow    bool
	}{
		{name: "success", level: "INFO"},
		{name: "error", err: errors.New("no customer, token=abc123"), level: "WARN",
			errType: CategoryOther, errMsg: "no customer, token=[REDACTED]"},
		{name: "canceled", err: context.Canceled, cancel: true, level: "INFO",
			errType: CategoryCanceled, errMsg: "context canceled"},
		{name: "slow", sleep: 20 * time.Millisecond, opts: []Option{WithSlowThreshold(5 * time.Millisecond)},
			level: "WARN", slow: true},
		{name: "level", opts: []Option{WithLevel(Success, slog.LevelDebug)}, level: "DEBUG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			parentCtx, parent := h.tp.Tracer("test").Start(context.Background(), "handler")
			ctx, cancel := context.WithCancel(parentCtx)
			defer cancel()
			sctx, end := Step(ctx, "fetch_customer", h.opts(tc.opts...)...)
			time.Sleep(tc.sleep)
			if tc.cancel {
				cancel()
			}
			end(tc.err)
			end(errors.New("ignored"))
			parent.End()
			spans := h.spans()
			if len(spans) != 2 {
				t.Fatalf("spans %v", spanNames(spans))
			}
			span := spans[0]
			if span.Name != "fetch_customer" || span.SpanKind != trace.SpanKindInternal ||
				span.Parent.SpanID() != parent.SpanContext().SpanID() ||
				!trace.SpanContextFromContext(sctx).Equal(span.SpanContext) {
				t.Errorf("span %q %v parent %v", span.Name, span.SpanKind, span.Parent.SpanID())
			}
			want := map[string]any{
				FieldEvent: EventStepTiming, FieldStep: "fetch_customer", FieldDurationMS: wantMillis(span),
			}
			if tc.errType != "" {
				want[FieldErrorType], want[FieldError] = tc.errType, tc.errMsg
				if attrMap(span.Attributes)["error.type"] != tc.errType {
					t.Errorf("span attributes %v", attrMap(span.Attributes))
				}
			}
			if tc.slow {
				want[FieldSlow] = true
			}
			rec := h.record(EventStepTiming)
			if rec.Level != tc.level || rec.Message != msgStepTiming {
				t.Errorf("level %s, want %s", rec.Level, tc.level)
			}
			checkMap(t, "record", rec.Attrs, want)
			if rec.SpanID != span.SpanContext.SpanID().String() {
				t.Error("record not on the step's span")
			}
		})
	}
}

func TestStepNilContext(t *testing.T) {
	h := newHarness(t)
	var nilCtx context.Context // a nil context must not panic
	ctx, end := Step(nilCtx, "x", h.opts()...)
	if ctx == nil {
		t.Fatal("nil context")
	}
	end(nil)
	if len(h.records(EventStepTiming)) != 1 {
		t.Error("no record")
	}
}
