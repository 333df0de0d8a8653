package otelsetuptest

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/otelsetup"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Recorder is a [otelsetup.Telemetry] whose telemetry stays in memory.
type Recorder struct {
	*otelsetup.Telemetry

	spans   *tracetest.InMemoryExporter
	reader  *sdkmetric.ManualReader
	logs    *memLogExporter
	console *syncBuffer
}

// New sets up telemetry in test mode and shuts it down in t.Cleanup. opts
// come after the test-mode options, so they can override them.
func New(t testing.TB, opts ...otelsetup.Option) *Recorder {
	t.Helper()
	r := &Recorder{
		spans:   tracetest.NewInMemoryExporter(),
		reader:  sdkmetric.NewManualReader(),
		logs:    &memLogExporter{},
		console: &syncBuffer{},
	}
	base := []otelsetup.Option{
		otelsetup.WithoutEnvironment(),
		otelsetup.WithServiceName("test"),
		otelsetup.WithLogLevel(-4),
		otelsetup.WithRuntimeMetrics(false),
		otelsetup.WithSyncExport(),
		otelsetup.WithConsole(r.console),
		otelsetup.WithSpanExporter(r.spans),
		otelsetup.WithMetricReader(r.reader),
		otelsetup.WithLogExporter(r.logs),
	}
	tel, err := otelsetup.Setup(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("otelsetuptest: %v", err)
	}
	r.Telemetry = tel
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("otelsetuptest: shutdown: %v", err)
		}
	})
	return r
}

// Spans returns the spans ended so far.
func (r *Recorder) Spans() tracetest.SpanStubs { return r.spans.GetSpans() }

// Metrics collects the current metrics.
func (r *Recorder) Metrics(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("otelsetuptest: collect metrics: %v", err)
	}
	return rm
}

// Records returns the log records exported over the OTLP path so far.
func (r *Recorder) Records() []sdklog.Record { return r.logs.get() }

// Console returns everything written to the console sink so far.
func (r *Recorder) Console() string { return r.console.String() }

// Reset forgets the spans, records and console output seen so far.
func (r *Recorder) Reset() {
	r.spans.Reset()
	r.logs.reset()
	r.console.reset()
}

type memLogExporter struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (e *memLogExporter) Export(_ context.Context, rs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		e.records = append(e.records, r.Clone())
	}
	return nil
}

func (e *memLogExporter) get() []sdklog.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdklog.Record(nil), e.records...)
}

func (e *memLogExporter) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records = nil
}

func (e *memLogExporter) Shutdown(context.Context) error   { return nil }
func (e *memLogExporter) ForceFlush(context.Context) error { return nil }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
