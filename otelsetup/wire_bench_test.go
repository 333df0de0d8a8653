package otelsetup

import (
	"context"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// benchRequestRecords returns n request_completed records as httpmw logs
// them (12 attributes), the last string of each made invalid when dirty.
func benchRequestRecords(b *testing.B, n int, dirty bool) []sdklog.Record {
	var out []sdklog.Record
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exportLogs(func(rs []sdklog.Record) {
		for i := range rs {
			out = append(out, rs[i].Clone())
		}
	}))))
	logger := lp.Logger("github.com/otelkit/otelkit/httpmw")
	for i := range n {
		ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
		if dirty {
			ua += "\xff"
		}
		var r log.Record
		r.SetTimestamp(time.Now())
		r.SetSeverity(log.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue("request completed"))
		r.AddAttributes(
			attribute.String("event", "request_completed"),
			attribute.String("request_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
			attribute.String("method", "GET"),
			attribute.String("path", "/orders/"+strconv.Itoa(i)),
			attribute.String("route", "/orders/{id}"),
			attribute.Int("status", 200),
			attribute.Float64("duration_ms", 1.25),
			attribute.Int("bytes_out", 512),
			attribute.String("client_ip", "10.0.0.7"),
			attribute.String("content_type", "application/json"),
			attribute.String("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
			attribute.String("user_agent", ua))
		logger.Emit(context.Background(), r)
	}
	_ = lp.Shutdown(context.Background())
	return out
}

// benchServerSpans returns n server spans with the attributes httpmw sets
// (10), the user agent made invalid when dirty.
func benchServerSpans(n int, dirty bool) []sdktrace.ReadOnlySpan {
	rec := &spanRecorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec))
	tr := tp.Tracer("github.com/otelkit/otelkit/httpmw")
	for i := range n {
		ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
		if dirty {
			ua += "\xff"
		}
		_, sp := tr.Start(context.Background(), "GET /orders/{id}", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", "GET"),
			attribute.String("url.path", "/orders/"+strconv.Itoa(i)),
			attribute.String("url.scheme", "http"),
			attribute.String("http.route", "/orders/{id}"),
			attribute.Int("http.response.status_code", 200),
			attribute.String("server.address", "orders.internal"),
			attribute.Int("server.port", 8080),
			attribute.String("client.address", "10.0.0.7"),
			attribute.String("user_agent.original", ua),
			attribute.String("request_id", "4bf92f3577b34da6a3ce929d0e0e4736")))
		sp.End()
	}
	_ = tp.Shutdown(context.Background())
	return rec.spans
}

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

// BenchmarkValidLogExporter measures the UTF-8 wrapper on one
// request_completed record (a batch of one, so the figures are per record):
// all valid, the common case, and with an invalid user agent.
func BenchmarkValidLogExporter(b *testing.B) {
	for _, dirty := range []bool{false, true} {
		b.Run("dirty="+strconv.FormatBool(dirty), func(b *testing.B) {
			recs := benchRequestRecords(b, 64, dirty)
			exp := validLogExporter{discardLogs{}}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = exp.Export(ctx, recs[i:i+1])
				i = (i + 1) % len(recs)
			}
		})
	}
}

// BenchmarkValidSpanExporter measures the UTF-8 wrapper on one server span
// with 10 attributes (a batch of one).
func BenchmarkValidSpanExporter(b *testing.B) {
	for _, dirty := range []bool{false, true} {
		b.Run("dirty="+strconv.FormatBool(dirty), func(b *testing.B) {
			spans := benchServerSpans(64, dirty)
			exp := validSpanExporter{exportFunc(func([]sdktrace.ReadOnlySpan) {})}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = exp.ExportSpans(ctx, spans[i:i+1])
				i = (i + 1) % len(spans)
			}
		})
	}
}

// BenchmarkValidMetricExporter measures the UTF-8 wrapper on one export of
// a request-duration histogram and a counter with 50 series each of 5
// attributes, all valid.
func BenchmarkValidMetricExporter(b *testing.B) {
	rm := benchMetrics(b)
	exp := validMetricExporter{metricExporterFunc(func(*metricdata.ResourceMetrics) {})}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = exp.Export(ctx, rm)
	}
}

// benchMetrics collects a request-duration histogram and a counter with 50
// series each of 5 attributes, all valid and clean.
func benchMetrics(b *testing.B) *metricdata.ResourceMetrics {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("github.com/otelkit/otelkit/httpmw")
	h, _ := m.Float64Histogram("http.server.request.duration", metric.WithUnit("s"))
	c, _ := m.Int64Counter("orders.created")
	for i := range 50 {
		attrs := metric.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("http.route", "/r/"+strconv.Itoa(i)),
			attribute.Int("http.response.status_code", 200), attribute.String("url.scheme", "http"), attribute.String("network.protocol.version", "1.1"))
		h.Record(context.Background(), 0.01, attrs)
		c.Add(context.Background(), 1, attrs)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	return &rm
}
