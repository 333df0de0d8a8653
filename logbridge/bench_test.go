package logbridge

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

func benchProvider(b *testing.B, extra ...sdklog.LoggerProviderOption) *sdklog.LoggerProvider {
	lp := sdklog.NewLoggerProvider(append([]sdklog.LoggerProviderOption{
		sdklog.WithProcessor(NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardExporter{}))}, extra...)...)
	b.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp
}

func spanContext(b *testing.B) context.Context {
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("bench").Start(context.Background(), "op")
	b.Cleanup(func() { span.End() })
	return ctx
}

func logFour(ctx context.Context, l *slog.Logger) {
	l.InfoContext(ctx, "order fetched", "order_id", "o-1001", "items", 3, "total", 42.5, "cached", true)
}

// BenchmarkRecord compares one INFO record with 4 attributes in a span
// context through: slog's JSON handler, the plain otelslog bridge, and the
// whole otelkit pipeline (JSON console + OTLP, both discarding).
func BenchmarkRecord(b *testing.B) {
	impls := []struct {
		name string
		new  func(b *testing.B) *slog.Logger
	}{
		{"slog_json", func(*testing.B) *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }},
		{"otelslog", func(b *testing.B) *slog.Logger {
			return slog.New(otelslog.NewHandler("bench", otelslog.WithLoggerProvider(benchProvider(b))))
		}},
		{"otelkit", func(b *testing.B) *slog.Logger {
			// As Setup builds it: an SDK MeterProvider for the record counter.
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			unique := benchProvider(b, sdklog.WithAllowKeyDuplication())
			return NewHandler(WithConsole(io.Discard), WithOTLP(benchProvider(b), SinkUniqueKeys(unique)), WithMeterProvider(mp)).Logger("bench")
		}},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			l := impl.new(b)
			ctx := spanContext(b)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				logFour(ctx, l)
			}
		})
	}
}

// BenchmarkDisabled measures a DEBUG record below the level.
func BenchmarkDisabled(b *testing.B) {
	policy, err := sampling.New(sampling.WithTailBuffer(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	impls := []struct {
		name string
		l    *slog.Logger
	}{
		{"slog_json", slog.New(slog.NewJSONHandler(io.Discard, nil))},
		{"otelkit", NewHandler(WithConsole(io.Discard)).Logger("bench")},
		// As Setup builds it: a sampling policy, with no request open.
		{"otelkit_sampling", NewHandler(WithConsole(io.Discard), WithSampling(policy)).Logger("bench")},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				impl.l.DebugContext(ctx, "hidden", "k", 1)
			}
		})
	}
}

// BenchmarkDebugNotSampled measures a DEBUG record in a request that ratio
// sampling did not pick, while another request in flight is picked (so
// the policy must look the request up), against slog's disabled record
// with the same context. The context is shaped like a request's under
// httpmw: server values, the sampling request, the context fields, the
// server span, and the sampling request again on top.
func BenchmarkDebugNotSampled(b *testing.B) {
	policy, err := sampling.New(sampling.WithRatio(0.1))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		ctx = context.WithValue(ctx, benchKey(i), i)
	}
	ctx, req := policy.StartContext(ctx)
	defer req.Finish(200, 0, false)
	ctx = WithFields(ctx, slog.String("request_id", "r-1"))
	unpicked := trace.TraceID{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: unpicked, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled}))
	ctx = sampling.NewContext(ctx, req) // innermost again, as httpmw leaves it
	// Another request, picked: the policy's gate is open.
	octx, other := policy.StartContext(context.Background())
	defer other.Finish(200, 0, false)
	octx = trace.ContextWithSpanContext(octx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled}))
	if !other.Enabled(octx, slog.LevelDebug) || req.Enabled(ctx, slog.LevelDebug) {
		b.Fatal("benchmark traces picked wrongly")
	}
	impls := []struct {
		name string
		l    *slog.Logger
	}{
		{"slog_json", slog.New(slog.NewJSONHandler(io.Discard, nil))},
		{"otelkit", NewHandler(WithConsole(io.Discard), WithSampling(policy)).Logger("bench")},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.l.DebugContext(ctx, "cache miss")
			}
		})
	}
}

type benchKey int

// BenchmarkRedaction is a clean 10-attribute record through the whole
// pipeline (JSON console to io.Discard + OTLP, as Setup builds it) with the
// redaction stage and without it: what redaction costs where users meet it.
func BenchmarkRedaction(b *testing.B) {
	attrs := []slog.Attr{
		slog.String("method", "GET"), slog.String("path", "/orders/o-1001"), slog.String("route", "/orders/{id}"),
		slog.Int("status", 200), slog.Float64("duration_ms", 3.25), slog.Int64("bytes_in", 0), slog.Int64("bytes_out", 56),
		slog.String("content_type", "application/json"), slog.String("user_agent", "Go-http-client/1.1"), slog.Bool("cached", true),
	}
	for _, impl := range []struct {
		name string
		opt  Option
	}{{"without", WithoutRedaction()}, {"with", WithRedaction(nil)}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			unique := benchProvider(b, sdklog.WithAllowKeyDuplication())
			l := NewHandler(WithConsole(io.Discard), WithOTLP(benchProvider(b), SinkUniqueKeys(unique)), impl.opt).Logger("bench")
			ctx := spanContext(b)
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "request completed", attrs...)
			}
		})
	}
}

// BenchmarkNestedJSON is a record holding a map, a struct and a slice
// through slog.Any to a JSON console (io.Discard, no redaction): the cost
// of bringing encoding/json's output under the escaping rules, for clean
// strings and for strings that need escapes.
func BenchmarkNestedJSON(b *testing.B) {
	type item struct {
		SKU   string
		Count int
	}
	for _, bc := range []struct{ name, note string }{{"clean", "gift wrapped, ünïcödé"}, {"hostile", "gift\u0085wrapped\u202e"}} {
		b.Run(bc.name, func(b *testing.B) {
			l := NewHandler(WithConsole(io.Discard), WithoutRedaction()).Logger("bench")
			order := map[string]any{"id": "o-1001", "note": bc.note, "tags": []string{"express", "gift"}}
			items := []item{{"apple", 2}, {"pear", 1}}
			b.ReportAllocs()
			for b.Loop() {
				l.Info("order placed", "order", order, "items", items)
			}
		})
	}
}
