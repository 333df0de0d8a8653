package deps

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

// pipeline is the real pipeline with discarding exporters: batching span
// and log processors, a metric reader, logbridge with its OTLP sink.
type pipeline struct {
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	logger *slog.Logger
}

func newPipeline(b *testing.B, logOpts ...sdklog.LoggerProviderOption) *pipeline {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	procs := []sdklog.LoggerProviderOption{
		sdklog.WithProcessor(logbridge.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})),
	}
	lp := sdklog.NewLoggerProvider(append(procs, logOpts...)...)
	// As otelsetup.Setup builds it: a twin provider over the same
	// processors for records with unique keys.
	unique := sdklog.NewLoggerProvider(append(procs, sdklog.WithAllowKeyDuplication())...)
	h := logbridge.NewHandler(logbridge.WithoutConsole(), logbridge.WithOTLP(lp, logbridge.SinkUniqueKeys(unique)))
	b.Cleanup(func() {
		_ = h.Close()
		_ = lp.Shutdown(context.Background())
		_ = unique.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return &pipeline{tp: tp, mp: mp, logger: h.Logger(LoggerName)}
}

// BenchmarkTransport compares one GET against an in-memory RoundTripper:
// bare, through otelhttp's transport alone (span and metric), and through
// a deps transport (span, metric and a dependency_call record through
// logbridge), all to discarding exporters, inside a server span as in a
// handler. deps_no_record sends the record to slog.DiscardHandler.
func BenchmarkTransport(b *testing.B) {
	p := newPipeline(b)
	prop := propagation.TraceContext{}
	base := staticRT{status: http.StatusOK}
	impls := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"bare", base},
		{"otelhttp", otelhttp.NewTransport(base,
			otelhttp.WithTracerProvider(p.tp), otelhttp.WithMeterProvider(p.mp), otelhttp.WithPropagators(prop))},
		{"deps", NewTransport("inventory", base,
			WithLogger(p.logger), WithTracerProvider(p.tp), WithMeterProvider(p.mp), WithPropagators(prop))},
		{"deps_no_record", NewTransport("inventory", base,
			WithLogger(slog.New(slog.DiscardHandler)), WithTracerProvider(p.tp), WithMeterProvider(p.mp), WithPropagators(prop))},
	}
	ctx, span := p.tp.Tracer("bench").Start(context.Background(), "GET /orders/{id}")
	defer span.End()
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://inventory.internal:8080/items/42?page=2", nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := impl.rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
}

// BenchmarkTransportRatio interleaves otelhttp's transport and a deps
// transport call by call, so both see the same load on a shared machine,
// and reports each one's time per call and their ratio (the goal is at most
// 1.2). The deps record goes through logbridge to the OTLP sink
// (record=otlp), the same with the log SDK's attribute deduplication off
// (record=otlp_dup_keys), or nowhere (record=none).
func BenchmarkTransportRatio(b *testing.B) {
	p := newPipeline(b)
	dup := newPipeline(b, sdklog.WithAllowKeyDuplication())
	prop := propagation.TraceContext{}
	base := staticRT{status: http.StatusOK}
	otel := otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(p.tp), otelhttp.WithMeterProvider(p.mp), otelhttp.WithPropagators(prop))
	ctx, span := p.tp.Tracer("bench").Start(context.Background(), "GET /orders/{id}")
	defer span.End()
	for _, v := range []struct {
		name   string
		logger *slog.Logger
	}{
		{"otlp", p.logger},
		{"otlp_dup_keys", dup.logger},
		{"none", slog.New(slog.DiscardHandler)},
	} {
		b.Run("record="+v.name, func(b *testing.B) {
			dt := NewTransport("inventory", base,
				WithLogger(v.logger), WithTracerProvider(p.tp), WithMeterProvider(p.mp), WithPropagators(prop))
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://inventory.internal:8080/items/42?page=2", nil)
			if err != nil {
				b.Fatal(err)
			}
			call := func(rt http.RoundTripper) time.Duration {
				start := time.Now()
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_ = resp.Body.Close()
				return time.Since(start)
			}
			var dOtel, dDeps time.Duration
			n := 0
			for b.Loop() {
				dOtel += call(otel)
				dDeps += call(dt)
				n++
			}
			b.ReportMetric(float64(dOtel.Nanoseconds())/float64(n), "otelhttp-ns/call")
			b.ReportMetric(float64(dDeps.Nanoseconds())/float64(n), "deps-ns/call")
			b.ReportMetric(float64(dDeps)/float64(dOtel), "deps/otelhttp")
		})
	}
}

// BenchmarkStep measures a Step with its span and step_timing record.
func BenchmarkStep(b *testing.B) {
	p := newPipeline(b)
	opts := []Option{WithLogger(p.logger), WithTracerProvider(p.tp), WithMeterProvider(p.mp)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, end := Step(ctx, "fetch_customer", opts...)
		end(nil)
	}
}

// BenchmarkCall measures a Call of a function that does nothing.
func BenchmarkCall(b *testing.B) {
	p := newPipeline(b)
	opts := []Option{WithLogger(p.logger), WithTracerProvider(p.tp), WithMeterProvider(p.mp)}
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		_ = Call(ctx, "postgres", "query_orders", fn, opts...)
	}
}
