package httpmw

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

type discardMetrics struct{}

func (discardMetrics) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}
func (discardMetrics) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}
func (discardMetrics) Export(context.Context, *metricdata.ResourceMetrics) error { return nil }
func (discardMetrics) ForceFlush(context.Context) error                          { return nil }
func (discardMetrics) Shutdown(context.Context) error                            { return nil }

// benchWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handlers rather than a recorder.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(int)             {}
func (w *benchWriter) Flush()                      {}

// BenchmarkServe compares, in one run, the bare handler, the handler under
// otelhttp alone, and under the full httpmw stack: span, metrics, sampling
// policy and a request_completed record through logbridge to a discarded
// console and OTLP through a batch processor to a discarding exporter.
// Spans are sampled and exported through a batch processor in both
// instrumented cases.
func BenchmarkServe(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(discardMetrics{})))
	// As otelsetup.Setup builds it: a twin provider over the same
	// processors for records with unique keys.
	procs := []sdklog.LoggerProviderOption{
		sdklog.WithProcessor(logbridge.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{}))}
	lp := sdklog.NewLoggerProvider(procs...)
	unique := sdklog.NewLoggerProvider(append(procs, sdklog.WithAllowKeyDuplication())...)
	policy, err := sampling.New(sampling.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	lh := logbridge.NewHandler(logbridge.WithConsole(io.Discard), logbridge.WithOTLP(lp, logbridge.SinkUniqueKeys(unique)),
		logbridge.WithMeterProvider(mp), logbridge.WithSampling(policy))
	b.Cleanup(func() {
		_ = lh.Close()
		ctx := context.Background()
		_ = lp.Shutdown(ctx)
		_ = unique.Shutdown(ctx)
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`)
	})
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux},
		{"otelhttp", otelhttp.NewHandler(mux, "http.server", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))},
		{"httpmw", New(mux, WithTracerProvider(tp), WithMeterProvider(mp), WithSampling(policy),
			WithLogger(slog.New(lh)))},
		// The same without the request log, to show what the log costs.
		{"httpmw_nolog", New(mux, WithTracerProvider(tp), WithMeterProvider(mp), WithSampling(policy),
			WithLogger(slog.New(slog.DiscardHandler)))},
	}
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/orders/42", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("X-Request-ID", "bench-request-id")
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := &benchWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkRequestCompletedRecord measures the request_completed record
// alone through logbridge, by sink, to show where the request log's cost
// lies: console (JSON to io.Discard), OTLP (otelslog, logbridge.Processor,
// batch processor, discarding exporter), and both as Setup wires them.
func BenchmarkRequestCompletedRecord(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	mp := sdkmetric.NewMeterProvider()
	procs := []sdklog.LoggerProviderOption{
		sdklog.WithProcessor(logbridge.NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{}))}
	lp := sdklog.NewLoggerProvider(procs...)
	unique := sdklog.NewLoggerProvider(append(procs, sdklog.WithAllowKeyDuplication())...)
	b.Cleanup(func() {
		ctx := context.Background()
		_ = lp.Shutdown(ctx)
		_ = unique.Shutdown(ctx)
		_ = tp.Shutdown(ctx)
		_ = mp.Shutdown(ctx)
	})
	sinks := []struct {
		name string
		opts []logbridge.Option
	}{
		{"console", []logbridge.Option{logbridge.WithConsole(io.Discard)}},
		{"otlp", []logbridge.Option{logbridge.WithoutConsole(), logbridge.WithOTLP(lp)}},
		{"otlp_unique_keys", []logbridge.Option{logbridge.WithoutConsole(), logbridge.WithOTLP(lp, logbridge.SinkUniqueKeys(unique))}},
		{"both", []logbridge.Option{logbridge.WithConsole(io.Discard), logbridge.WithOTLP(lp, logbridge.SinkUniqueKeys(unique))}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/orders/42", nil)
	for _, s := range sinks {
		b.Run(s.name, func(b *testing.B) {
			lh := logbridge.NewHandler(append(s.opts, logbridge.WithMeterProvider(mp))...)
			defer lh.Close()
			m := New(mux, WithLogger(slog.New(lh)), WithTracerProvider(tp), WithMeterProvider(mp)).(*middleware)
			st := &requestState{Context: context.Background(), cfg: m.cfg, id: "bench-request-id"}
			ctx, span := tp.Tracer("bench").Start(logbridge.WithFields(st,
				slog.String(FieldRequestID, st.id), slog.Any(FieldUserID, userField{st})), "span")
			defer span.End()
			st.w = responseWriter{w: &benchWriter{h: make(http.Header)}}
			b.ReportAllocs()
			for b.Loop() {
				st.start = time.Now() // not slow: an INFO record
				m.logCompleted(ctx, req, st, "/orders/{id}", 200)
			}
		})
	}
}
