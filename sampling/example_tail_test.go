package sampling_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/otelkit/otelkit/sampling"
)

// levelGate stands for logbridge: it writes records at or above its level,
// and asks the request state about the others.
type levelGate struct {
	policy *sampling.Policy
	min    slog.Level
	sink   slog.Handler // the handler past the sampling decision
}

func (g levelGate) Enabled(ctx context.Context, l slog.Level) bool {
	g.policy.ObserveLevel(ctx, l)
	return l >= g.min || g.policy.Wants(ctx, l)
}

func (g levelGate) Handle(ctx context.Context, r slog.Record) error {
	req := sampling.FromContext(ctx)
	switch {
	case r.Level >= g.min:
		return g.sink.Handle(ctx, r)
	case req.Enabled(ctx, r.Level):
		r.AddAttrs(slog.String(sampling.SampledByKey, req.SampledBy(ctx)))
		return g.sink.Handle(ctx, r)
	}
	req.Hold(ctx, r, g.sink)
	return nil
}

func (g levelGate) WithAttrs(as []slog.Attr) slog.Handler {
	return levelGate{g.policy, g.min, g.sink.WithAttrs(as)}
}

func (g levelGate) WithGroup(n string) slog.Handler {
	return levelGate{g.policy, g.min, g.sink.WithGroup(n)}
}

// DEBUG records of a request are held back and written only because the
// request failed.
func ExampleRequest_Finish() {
	policy, _ := sampling.New(sampling.WithTailBuffer(100, 64<<10))
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	})
	logger := slog.New(levelGate{policy: policy, min: slog.LevelInfo, sink: text})

	// A request that succeeds: its DEBUG records are discarded.
	ctx, req := policy.StartContext(context.Background())
	logger.DebugContext(ctx, "cache miss", "key", "order:7")
	logger.InfoContext(ctx, "request_completed", "status", 200)
	_ = req.Finish(200, 0, false)

	// A request that fails: its DEBUG records are written, in order.
	ctx, req = policy.StartContext(context.Background())
	logger.DebugContext(ctx, "cache miss", "key", "order:8")
	logger.DebugContext(ctx, "query", "rows", 0)
	logger.InfoContext(ctx, "request_completed", "status", 503)
	_ = req.Finish(503, 0, false)
	// Output:
	// level=INFO msg=request_completed status=200
	// level=INFO msg=request_completed status=503
	// level=DEBUG msg="cache miss" key=order:8 sampled_by=tail
	// level=DEBUG msg=query rows=0 sampled_by=tail
}
