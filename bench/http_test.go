package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/httplog/v3"
	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	sloghttp "github.com/samber/slog-http"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

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

// sdkProviders are the tracer and meter providers the otelhttp-based
// alternatives use: batching to discarding exporters, as otelkit's do.
func sdkProviders(b *testing.B) (*sdktrace.TracerProvider, *sdkmetric.MeterProvider) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(discardMetrics{}, sdkmetric.WithInterval(time.Hour))))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return tp, mp
}

// fullTelemetry is otelkit through Setup with every signal to discarding
// exporters.
func fullTelemetry(b *testing.B) *otelsetup.Telemetry {
	tel, err := otelsetup.Setup(context.Background(),
		otelsetup.WithoutGlobals(), otelsetup.WithoutEnvironment(),
		otelsetup.WithConsole(io.Discard), otelsetup.WithLogExporter(discardLogs{}),
		otelsetup.WithSpanExporter(discardSpans{}),
		otelsetup.WithMetricReader(sdkmetric.NewPeriodicReader(discardMetrics{}, sdkmetric.WithInterval(time.Hour))),
		otelsetup.WithRuntimeMetrics(false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func ordersMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`)
	})
	return mux
}

func serve(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/orders/o-1001?currency=EUR", nil)
		req.Header.Set("User-Agent", "bench/1.0")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkServer is one request through each server middleware a Go
// service would pick, all logging one line per request to io.Discard
// (and otelkit also to OTLP) and tracing/metering where they do.
func BenchmarkServer(b *testing.B) {
	jsonLogger := func() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
	b.Run("mw=bare", func(b *testing.B) { serve(b, ordersMux()) })
	b.Run("mw=otelhttp", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		serve(b, otelhttp.NewHandler(ordersMux(), "server", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	})
	b.Run("mw=otelhttp_slog", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		log := jsonLogger()
		inner := ordersMux()
		logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			inner.ServeHTTP(w, r)
			log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "duration_ms", time.Since(start).Milliseconds())
		})
		serve(b, otelhttp.NewHandler(logged, "server", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	})
	b.Run("mw=slog_http", func(b *testing.B) { serve(b, sloghttp.New(jsonLogger())(ordersMux())) })
	b.Run("mw=httplog", func(b *testing.B) {
		serve(b, httplog.RequestLogger(jsonLogger(), &httplog.Options{Schema: httplog.SchemaECS})(ordersMux()))
	})
	b.Run("mw=otelkit", func(b *testing.B) {
		tel := fullTelemetry(b)
		serve(b, httpmw.New(ordersMux(),
			httpmw.WithLogger(tel.Logger("http")), httpmw.WithTracerProvider(tel.TracerProvider()),
			httpmw.WithMeterProvider(tel.MeterProvider()), httpmw.WithSampling(tel.Sampling()),
			httpmw.WithRedaction(tel.Redaction())))
	})
}

// memTransport answers every request in memory.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"available":3}`)), Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// BenchmarkClient is one call through an in-memory RoundTripper: bare, the
// otelhttp transport, and the otelkit deps transport (span, metric and a
// dependency_call record through the whole pipeline).
// getStock is the call every client benchmark makes.
func getStock(b *testing.B, c *http.Client, ctx context.Context) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://inventory.internal/stock/sku-1", nil)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// otelhttpClient and otelkitClient are the two instrumented clients over
// memTransport, as users set them up.
func otelhttpClient(tp *sdktrace.TracerProvider, mp *sdkmetric.MeterProvider) *http.Client {
	return &http.Client{Transport: otelhttp.NewTransport(memTransport{}, otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))}
}

func otelkitClient(tel *otelsetup.Telemetry) *http.Client {
	return deps.NewClient("inventory", &http.Client{Transport: memTransport{}},
		deps.WithLogger(tel.Logger("deps")), deps.WithTracerProvider(tel.TracerProvider()),
		deps.WithMeterProvider(tel.MeterProvider()), deps.WithRedaction(tel.Redaction()))
}

func BenchmarkClient(b *testing.B) {
	call := func(b *testing.B, c *http.Client, ctx context.Context) {
		b.ReportAllocs()
		for b.Loop() {
			getStock(b, c, ctx)
		}
	}
	b.Run("impl=bare", func(b *testing.B) { call(b, &http.Client{Transport: memTransport{}}, context.Background()) })
	b.Run("impl=otelhttp", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		ctx, span := tp.Tracer("bench").Start(context.Background(), "handler")
		defer span.End()
		call(b, otelhttpClient(tp, mp), ctx)
	})
	b.Run("impl=otelkit", func(b *testing.B) {
		tel := fullTelemetry(b)
		ctx, span := tel.TracerProvider().Tracer("bench").Start(context.Background(), "handler")
		defer span.End()
		call(b, otelkitClient(tel), ctx)
	})
}

// BenchmarkRedact is the redaction stage on a clean and a dirty record.
func BenchmarkRedact(b *testing.B) {
	p := redact.New()
	for _, tc := range []struct {
		name  string
		attrs []slog.Attr
	}{
		{"clean", []slog.Attr{slog.String("order_id", "o-1001"), slog.Int("items", 3), slog.String("path", "/orders/o-1001")}},
		{"dirty", []slog.Attr{slog.String("order_id", "o-1001"), slog.String("password", "fake-hunter2"), slog.String("url", "https://u:p@h.example/?sig=abc")}},
	} {
		b.Run("record="+tc.name, func(b *testing.B) {
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "order fetched", 0)
			r.AddAttrs(tc.attrs...)
			b.ReportAllocs()
			for b.Loop() {
				p.Record(r)
			}
		})
	}
}

// BenchmarkSamplingDecision is the per-request decision made before the
// server span starts, for a request without the debug header.
func BenchmarkSamplingDecision(b *testing.B) {
	p, err := sampling.New(sampling.WithRatio(0.1))
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/orders/o-1", nil)
	b.ReportAllocs()
	for b.Loop() {
		_, req := p.Start(r)
		_ = req.Finish(200, time.Millisecond, false)
	}
}

// BenchmarkRatio interleaves otelhttp and otelkit request by request (server)
// and call by call (client), so both see the same load on a shared
// machine, and reports each one's time and otelkit's ratio to otelhttp
// alone (the goals are at most 1.2). Each side is set up as in
// BenchmarkServer and BenchmarkClient: otelhttp to discarding span and
// metric exporters; otelkit through Setup, its records to the console
// (io.Discard) and OTLP (a discarding exporter) as well.
func BenchmarkRatio(b *testing.B) {
	report := func(b *testing.B, dOtel, dKit time.Duration, n int) {
		b.ReportMetric(float64(dOtel.Nanoseconds())/float64(n), "otelhttp-ns/op")
		b.ReportMetric(float64(dKit.Nanoseconds())/float64(n), "otelkit-ns/op")
		b.ReportMetric(float64(dKit)/float64(dOtel), "otelkit/otelhttp")
	}
	b.Run("side=server", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		otel := otelhttp.NewHandler(ordersMux(), "server", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))
		tel := fullTelemetry(b)
		kit := httpmw.New(ordersMux(),
			httpmw.WithLogger(tel.Logger("http")), httpmw.WithTracerProvider(tel.TracerProvider()),
			httpmw.WithMeterProvider(tel.MeterProvider()), httpmw.WithSampling(tel.Sampling()),
			httpmw.WithRedaction(tel.Redaction()))
		one := func(h http.Handler) time.Duration {
			req := httptest.NewRequest(http.MethodGet, "/orders/o-1001?currency=EUR", nil)
			req.Header.Set("User-Agent", "bench/1.0")
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
			return d
		}
		var dOtel, dKit time.Duration
		n := 0
		for b.Loop() {
			dOtel += one(otel)
			dKit += one(kit)
			n++
		}
		report(b, dOtel, dKit, n)
	})
	b.Run("side=client", func(b *testing.B) {
		tp, mp := sdkProviders(b)
		octx, ospan := tp.Tracer("bench").Start(context.Background(), "handler")
		defer ospan.End()
		otel := otelhttpClient(tp, mp)
		tel := fullTelemetry(b)
		kctx, kspan := tel.TracerProvider().Tracer("bench").Start(context.Background(), "handler")
		defer kspan.End()
		kit := otelkitClient(tel)
		one := func(c *http.Client, ctx context.Context) time.Duration {
			start := time.Now()
			getStock(b, c, ctx)
			return time.Since(start)
		}
		var dOtel, dKit time.Duration
		n := 0
		for b.Loop() {
			dOtel += one(otel, octx)
			dKit += one(kit, kctx)
			n++
		}
		report(b, dOtel, dKit, n)
	})
}
