package otelsetup

import (
	"context"
	"fmt"
	"slices"

	"github.com/otelkit/otelkit/internal/wire"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Protobuf refuses to marshal a string field that is not valid UTF-8, and
// the OTLP exporters then lose the whole batch, not the one item. So every
// exporter Setup builds or is given sits behind a wrapper that makes the
// strings of what it exports valid UTF-8 (wire.String: each run of invalid
// bytes becomes U+FFFD). The wrappers run last, after redaction, so
// whatever an earlier stage did the wire is valid. Valid strings are
// checked, not copied; only an item with something to mend is copied, and
// what the SDK passes in is never modified (it still owns it: the log
// batch processor its records, the metric reader its data between
// collections, the exemplar reservoirs their attribute slices).

// validSpanExporter exports spans with valid UTF-8 strings: name,
// attributes, events, links' attributes, status description and scope.
// (Trace state holds only what trace.ParseTraceState accepts: ASCII.)
type validSpanExporter struct{ sdktrace.SpanExporter }

func (e validSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.SpanExporter.ExportSpans(ctx, wire.RewriteSpans(spans, wire.UTF8{}))
}

// validLogExporter exports records with valid UTF-8 strings: body (at any
// depth), attributes, event name and severity text. Scopes are made valid
// where loggers are made (validLoggerProvider, logbridge); a record cannot
// be given another scope.
type validLogExporter struct{ sdklog.Exporter }

func (e validLogExporter) Export(ctx context.Context, records []sdklog.Record) error {
	return e.Exporter.Export(ctx, validRecords(records))
}

// validRecords returns records, or a copy with the records that have
// invalid strings replaced by mended clones.
func validRecords(records []sdklog.Record) []sdklog.Record {
	var out []sdklog.Record
	for i := range records {
		if recordValid(&records[i]) {
			continue
		}
		if out == nil {
			out = slices.Clone(records)
		}
		out[i] = records[i].Clone()
		mendRecord(&out[i])
	}
	if out == nil {
		return records
	}
	return out
}

func recordValid(r *sdklog.Record) bool {
	if _, ch := wire.Value(r.Body()); ch {
		return false
	}
	if _, ch := wire.String(r.EventName()); ch {
		return false
	}
	if _, ch := wire.String(r.SeverityText()); ch {
		return false
	}
	ok := true
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		ok = wire.ValidKeyValue(&kv)
		return ok
	})
	return ok
}

// mendRecord makes r's strings valid; r shares nothing with the SDK (a
// clone). Two keys that differ only in invalid bytes become one (the SDK
// keeps the last, unless the record allows duplicates); the count of
// attributes the SDK dropped for its limits is not kept, as SetAttributes
// resets it.
func mendRecord(r *sdklog.Record) {
	if v, ch := wire.Value(r.Body()); ch {
		r.SetBody(v)
	}
	if s, ch := wire.String(r.EventName()); ch {
		r.SetEventName(s)
	}
	if s, ch := wire.String(r.SeverityText()); ch {
		r.SetSeverityText(s)
	}
	kvs := make([]attribute.KeyValue, 0, r.AttributesLen())
	changed := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv, ch := wire.KeyValue(kv)
		kvs, changed = append(kvs, kv), changed || ch
		return true
	})
	if changed {
		r.SetAttributes(kvs...)
	}
}

// validLoggerProvider gives its loggers a valid UTF-8 scope: name, version,
// schema URL and attributes. It is the provider Telemetry hands out and
// installs as the global one, for code that names loggers itself
// (otelslog, bridges).
type validLoggerProvider struct{ *sdklog.LoggerProvider }

func (p validLoggerProvider) Logger(name string, opts ...log.LoggerOption) log.Logger {
	name, _ = wire.String(name)
	cfg := log.NewLoggerConfig(opts...)
	version, c1 := wire.String(cfg.InstrumentationVersion())
	schema, c2 := wire.String(cfg.SchemaURL())
	attrs, c3 := wire.Set(cfg.InstrumentationAttributes())
	if c1 || c2 || c3 {
		opts = []log.LoggerOption{log.WithInstrumentationVersion(version), log.WithSchemaURL(schema), log.WithInstrumentationAttributeSet(attrs)}
	}
	return p.LoggerProvider.Logger(name, opts...)
}

// validMetricExporter exports metrics with valid UTF-8 strings: scopes,
// metric names, descriptions and units, data point attributes and
// exemplars' filtered attributes.
type validMetricExporter struct{ sdkmetric.Exporter }

func (e validMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	return e.Exporter.Export(ctx, rewriteResourceMetrics(rm, utf8Metrics{}))
}

// validProducer hands the Prometheus exporter the meter provider's metrics,
// collected by r, redacted by red (unless nil) and made valid UTF-8:
// client_golang refuses a label value that is not, which fails the whole
// scrape.
type validProducer struct {
	r   *sdkmetric.ManualReader
	red *metricRedactor
}

func (p validProducer) Produce(ctx context.Context) ([]metricdata.ScopeMetrics, error) {
	var rm metricdata.ResourceMetrics
	if err := p.r.Collect(ctx, &rm); err != nil {
		return nil, err
	}
	if p.red != nil {
		return p.red.rewrite(&rm).ScopeMetrics, nil
	}
	return rewriteResourceMetrics(&rm, utf8Metrics{}).ScopeMetrics, nil
}

// metricRewriter is what rewriteResourceMetrics applies to metric data.
// Each method returns its argument itself and false when it has nothing
// to change, and never modifies its argument.
type metricRewriter interface {
	// scope rewrites a scope.
	scope(s instrumentation.Scope) (instrumentation.Scope, bool)
	// text rewrites a metric's name, description and unit.
	text(s string) (string, bool)
	// set rewrites a data point's attributes.
	set(s attribute.Set) (attribute.Set, bool)
	// keyValues rewrites an exemplar's filtered attributes.
	keyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool)
}

// utf8Metrics makes metric data valid UTF-8.
type utf8Metrics struct{}

func (utf8Metrics) scope(s instrumentation.Scope) (instrumentation.Scope, bool) { return wire.Scope(s) }
func (utf8Metrics) text(s string) (string, bool)                                { return wire.String(s) }
func (utf8Metrics) set(s attribute.Set) (attribute.Set, bool)                   { return wire.Set(s) }
func (utf8Metrics) keyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	return wire.KeyValues(kvs)
}

// rewriteResourceMetrics returns rm, or a copy of it with the parts rw
// changed replaced; rm is not modified (its resource is left as it is).
func rewriteResourceMetrics(rm *metricdata.ResourceMetrics, rw metricRewriter) *metricdata.ResourceMetrics {
	sms, ch := mendEach(rm.ScopeMetrics, rw, rewriteScopeMetrics)
	if !ch {
		return rm
	}
	out := *rm
	out.ScopeMetrics = sms
	return &out
}

func rewriteScopeMetrics(rw metricRewriter, in, out *metricdata.ScopeMetrics) bool {
	scope, c1 := rw.scope(in.Scope)
	ms, c2 := mendEach(in.Metrics, rw, rewriteMetrics)
	if !c1 && !c2 {
		return false
	}
	*out = *in
	out.Scope, out.Metrics = scope, ms
	return true
}

func rewriteMetrics(rw metricRewriter, in, out *metricdata.Metrics) bool {
	name, c1 := rw.text(in.Name)
	desc, c2 := rw.text(in.Description)
	unit, c3 := rw.text(in.Unit)
	data, c4 := rewriteAggregation(rw, in.Data)
	if !c1 && !c2 && !c3 && !c4 {
		return false
	}
	*out = *in
	out.Name, out.Description, out.Unit, out.Data = name, desc, unit, data
	return true
}

// rewriteAggregation rewrites the points of every aggregation the SDK
// makes: gauges, sums, histograms and exponential histograms of int64 and
// float64, and summaries.
func rewriteAggregation(rw metricRewriter, a metricdata.Aggregation) (metricdata.Aggregation, bool) {
	var ch bool
	switch d := a.(type) {
	case metricdata.Gauge[int64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewritePoint[int64]); ch {
			a = d
		}
	case metricdata.Gauge[float64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewritePoint[float64]); ch {
			a = d
		}
	case metricdata.Sum[int64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewritePoint[int64]); ch {
			a = d
		}
	case metricdata.Sum[float64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewritePoint[float64]); ch {
			a = d
		}
	case metricdata.Histogram[int64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewriteHistogramPoint[int64]); ch {
			a = d
		}
	case metricdata.Histogram[float64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewriteHistogramPoint[float64]); ch {
			a = d
		}
	case metricdata.ExponentialHistogram[int64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewriteExpHistogramPoint[int64]); ch {
			a = d
		}
	case metricdata.ExponentialHistogram[float64]:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewriteExpHistogramPoint[float64]); ch {
			a = d
		}
	case metricdata.Summary:
		if d.DataPoints, ch = mendEach(d.DataPoints, rw, rewriteSummaryPoint); ch {
			a = d
		}
	}
	return a, ch
}

func rewritePoint[N int64 | float64](rw metricRewriter, in, out *metricdata.DataPoint[N]) bool {
	attrs, c1 := rw.set(in.Attributes)
	ex, c2 := mendEach(in.Exemplars, rw, rewriteExemplar[N])
	if !c1 && !c2 {
		return false
	}
	*out = *in
	out.Attributes, out.Exemplars = attrs, ex
	return true
}

func rewriteHistogramPoint[N int64 | float64](rw metricRewriter, in, out *metricdata.HistogramDataPoint[N]) bool {
	attrs, c1 := rw.set(in.Attributes)
	ex, c2 := mendEach(in.Exemplars, rw, rewriteExemplar[N])
	if !c1 && !c2 {
		return false
	}
	*out = *in
	out.Attributes, out.Exemplars = attrs, ex
	return true
}

func rewriteExpHistogramPoint[N int64 | float64](rw metricRewriter, in, out *metricdata.ExponentialHistogramDataPoint[N]) bool {
	attrs, c1 := rw.set(in.Attributes)
	ex, c2 := mendEach(in.Exemplars, rw, rewriteExemplar[N])
	if !c1 && !c2 {
		return false
	}
	*out = *in
	out.Attributes, out.Exemplars = attrs, ex
	return true
}

func rewriteSummaryPoint(rw metricRewriter, in, out *metricdata.SummaryDataPoint) bool {
	attrs, ch := rw.set(in.Attributes)
	if !ch {
		return false
	}
	*out = *in
	out.Attributes = attrs
	return true
}

func rewriteExemplar[N int64 | float64](rw metricRewriter, in, out *metricdata.Exemplar[N]) bool {
	attrs, ch := rw.keyValues(in.FilteredAttributes)
	if !ch {
		return false
	}
	*out = *in
	out.FilteredAttributes = attrs
	return true
}

// mendEach returns s with each element passed through mend: s itself when
// nothing changed, else a new slice. mend reports whether it changed in,
// and then writes the changed copy to out; s is never modified.
func mendEach[T, R any](s []T, r R, mend func(r R, in, out *T) bool) ([]T, bool) {
	var out []T
	var m T
	for i := range s {
		if mend(r, &s[i], &m) {
			if out == nil {
				out = slices.Clone(s)
			}
			out[i] = m
		}
	}
	if out == nil {
		return s, false
	}
	return out, true
}

// validResource returns res with valid UTF-8 attributes and schema URL.
func validResource(res *resource.Resource) *resource.Resource {
	attrs, c1 := wire.KeyValues(res.Attributes())
	schema, c2 := wire.String(res.SchemaURL())
	if !c1 && !c2 {
		return res
	}
	return resource.NewWithAttributes(schema, attrs...)
}

// promErrorLog passes the errors of a Prometheus scrape to the
// OpenTelemetry error handler (Setup's drop report when it owns the
// globals).
type promErrorLog struct{}

func (promErrorLog) Println(v ...any) {
	otel.Handle(fmt.Errorf("otelsetup: prometheus scrape: %s", fmt.Sprint(v...)))
}
