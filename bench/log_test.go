package bench

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/otelkit/otelkit/otelsetup"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// discardLogs is an OTLP log exporter that drops everything.
type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

// spanCtx returns a context with a recording span, as inside a request.
func spanCtx(b *testing.B) context.Context {
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("bench").Start(context.Background(), "op")
	b.Cleanup(func() { span.End(); _ = tp.Shutdown(context.Background()) })
	return ctx
}

// otelkitTelemetry is the whole otelkit pipeline as Setup builds it: JSON
// console to io.Discard, OTLP through the batch processor to a discarding
// exporter, redaction, sampling, counters.
func otelkitTelemetry(b *testing.B, level slog.Level) *otelsetup.Telemetry {
	tel, err := otelsetup.Setup(context.Background(),
		otelsetup.WithoutGlobals(), otelsetup.WithoutEnvironment(),
		otelsetup.WithConsole(io.Discard), otelsetup.WithLogLevel(level),
		otelsetup.WithLogExporter(discardLogs{}),
		otelsetup.WithTracesExporter("none"),
		otelsetup.WithMetricReader(sdkmetric.NewManualReader()),
		otelsetup.WithRuntimeMetrics(false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func otelslogLogger(b *testing.B) *slog.Logger {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
	b.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return slog.New(otelslog.NewHandler("bench", otelslog.WithLoggerProvider(lp)))
}

func zapLogger(level zapcore.Level) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), level))
}

// BenchmarkLog is one INFO record with 4 attributes, in a span context.
func BenchmarkLog(b *testing.B) {
	b.Run("impl=slog_json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		ctx := spanCtx(b)
		b.ReportAllocs()
		for b.Loop() {
			l.InfoContext(ctx, "order fetched", "order_id", "o-1001", "items", 3, "total", 42.5, "cached", true)
		}
	})
	b.Run("impl=zap", func(b *testing.B) {
		l := zapLogger(zapcore.InfoLevel)
		b.ReportAllocs()
		for b.Loop() {
			l.Info("order fetched", zap.String("order_id", "o-1001"), zap.Int("items", 3), zap.Float64("total", 42.5), zap.Bool("cached", true))
		}
	})
	b.Run("impl=otelslog", func(b *testing.B) {
		l := otelslogLogger(b)
		ctx := spanCtx(b)
		b.ReportAllocs()
		for b.Loop() {
			l.InfoContext(ctx, "order fetched", "order_id", "o-1001", "items", 3, "total", 42.5, "cached", true)
		}
	})
	b.Run("impl=otelkit", func(b *testing.B) {
		l := otelkitTelemetry(b, slog.LevelInfo).Logger("bench")
		ctx := spanCtx(b)
		b.ReportAllocs()
		for b.Loop() {
			l.InfoContext(ctx, "order fetched", "order_id", "o-1001", "items", 3, "total", 42.5, "cached", true)
		}
	})
}

// BenchmarkLogDisabled is a DEBUG record below the level.
func BenchmarkLogDisabled(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=slog_json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			l.DebugContext(ctx, "hidden", "k", 1)
		}
	})
	b.Run("impl=zap", func(b *testing.B) {
		l := zapLogger(zapcore.InfoLevel)
		b.ReportAllocs()
		for b.Loop() {
			l.Debug("hidden", zap.Int("k", 1))
		}
	})
	b.Run("impl=otelslog", func(b *testing.B) {
		l := otelslogLogger(b)
		b.ReportAllocs()
		for b.Loop() {
			l.DebugContext(ctx, "hidden", "k", 1)
		}
	})
	b.Run("impl=otelkit", func(b *testing.B) {
		l := otelkitTelemetry(b, slog.LevelInfo).Logger("bench")
		b.ReportAllocs()
		for b.Loop() {
			l.DebugContext(ctx, "hidden", "k", 1)
		}
	})
}
