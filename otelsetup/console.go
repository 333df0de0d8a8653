package otelsetup

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/escape"
)

// consoleSpanExporter prints one line per span:
//
//	2026-02-23T10:15:42.123Z SPAN GET /orders/{id} 12.3ms trace_id=… span_id=… parent_id=… status=Error http.route=/orders/{id}
//
// or, when the console's log format is JSON, one JSON object per span in
// the shape of a log line, so a JSON log stream stays parseable:
//
//	{"time":"…","level":"INFO","logger":"otelkit.traces","msg":"span","name":"GET /orders/{id}","duration_ms":12.3,"kind":"server","trace_id":"…",…,"attributes":{…}}
type consoleSpanExporter struct {
	w    io.Writer // shared with the other console outputs, and locked
	json bool
}

func (e *consoleSpanExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	var b []byte
	for _, s := range spans {
		if e.json {
			b = appendSpanJSON(b, s)
			continue
		}
		b = s.EndTime().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, " SPAN "...)
		b = escape.AppendText(b, s.Name())
		b = append(b, ' ')
		b = append(b, roundDuration(s.EndTime().Sub(s.StartTime())).String()...)
		b = append(b, " kind="...)
		b = append(b, s.SpanKind().String()...)
		b = append(b, " trace_id="...)
		b = append(b, s.SpanContext().TraceID().String()...)
		b = append(b, " span_id="...)
		b = append(b, s.SpanContext().SpanID().String()...)
		if p := s.Parent(); p.IsValid() {
			b = append(b, " parent_id="...)
			b = append(b, p.SpanID().String()...)
		}
		if st := s.Status(); st.Code == codes.Error {
			b = append(b, " status=Error"...)
			if st.Description != "" {
				b = append(b, " status_message="...)
				b = escape.AppendText(b, st.Description)
			}
		}
		for _, kv := range s.Attributes() {
			b = appendConsoleKV(b, kv)
		}
		if n := len(s.Events()); n > 0 {
			b = append(b, " events="...)
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, '\n')
	}
	_, err := e.w.Write(b)
	return err
}

func (e *consoleSpanExporter) Shutdown(context.Context) error { return nil }

// consoleMetricExporter prints one line per data point at each export:
//
//	METRIC http.server.request.duration{http.route=/orders/{id}} count=3 sum=0.042 unit=s
//
// or, when the console's log format is JSON, one JSON object per point:
//
//	{"time":"…","level":"INFO","logger":"otelkit.metrics","msg":"metric","name":"http.server.request.duration","attributes":{…},"count":3,"sum":0.042,"unit":"s"}
type consoleMetricExporter struct {
	w    io.Writer // shared with the other console outputs, and locked
	json bool
}

func (e *consoleMetricExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (e *consoleMetricExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e *consoleMetricExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	var b []byte
	now := time.Now()
	line := func(m metricdata.Metrics, set attribute.Set, fields ...metricField) {
		if e.json {
			b = appendMetricJSON(b, now, m, set, fields)
		} else {
			b = appendMetricText(b, m, set, fields)
		}
	}
	ints := func(n int64) string { return strconv.FormatInt(n, 10) }
	floats := func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"value", ints(p.Value)})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"value", floats(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"value", ints(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"value", floats(p.Value)})
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"count", ints(int64(p.Count))}, metricField{"sum", ints(p.Sum)})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"count", ints(int64(p.Count))}, metricField{"sum", floats(p.Sum)})
				}
			case metricdata.ExponentialHistogram[float64]:
				for _, p := range d.DataPoints {
					line(m, p.Attributes, metricField{"count", ints(int64(p.Count))}, metricField{"sum", floats(p.Sum)})
				}
			}
		}
	}
	if len(b) == 0 {
		return nil
	}
	_, err := e.w.Write(b)
	return err
}

// metricField is one number of a point (value, count, sum), formatted.
type metricField struct{ name, value string }

func appendMetricText(b []byte, m metricdata.Metrics, set attribute.Set, fields []metricField) []byte {
	b = append(b, "METRIC "...)
	b = escape.AppendText(b, m.Name)
	if set.Len() > 0 {
		b = append(b, '{')
		kvs := set.ToSlice()
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
		for i, kv := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = escape.AppendText(b, string(kv.Key))
			b = append(b, '=')
			b = escape.AppendText(b, kv.Value.String())
		}
		b = append(b, '}')
	}
	for _, f := range fields {
		b = append(b, ' ')
		b = append(b, f.name...)
		b = append(b, '=')
		b = append(b, f.value...)
	}
	if m.Unit != "" {
		b = append(b, " unit="...)
		b = escape.AppendText(b, m.Unit)
	}
	return append(b, '\n')
}

func (e *consoleMetricExporter) ForceFlush(context.Context) error { return nil }
func (e *consoleMetricExporter) Shutdown(context.Context) error   { return nil }

func appendConsoleKV(b []byte, kv attribute.KeyValue) []byte {
	b = append(b, ' ')
	b = escape.AppendText(b, string(kv.Key))
	b = append(b, '=')
	return escape.AppendText(b, kv.Value.String())
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// appendJSONHead starts a JSON console line shaped like a log record's.
func appendJSONHead(b []byte, t time.Time, logger, msg string) []byte {
	b = append(b, `{"time":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","level":"INFO","logger":`...)
	b = escape.AppendJSONString(b, logger)
	b = append(b, `,"msg":`...)
	return escape.AppendJSONString(b, msg)
}

// appendJSONAttrs appends ,"attributes":{…} when there are any.
func appendJSONAttrs(b []byte, kvs []attribute.KeyValue) []byte {
	if len(kvs) == 0 {
		return b
	}
	b = append(b, `,"attributes":`...)
	return appendJSONObject(b, kvs)
}

// appendJSONObject appends kvs as one JSON object.
func appendJSONObject(b []byte, kvs []attribute.KeyValue) []byte {
	b = append(b, '{')
	for i, kv := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = escape.AppendJSONString(b, string(kv.Key))
		b = append(b, ':')
		b = appendJSONAttrValue(b, kv.Value)
	}
	return append(b, '}')
}

// appendJSONAttrValue appends v as JSON: numbers and booleans as such
// (NaN and ±Inf, which JSON lacks, as strings), byte slices as base64 as
// encoding/json writes them, slices as arrays and maps as objects.
func appendJSONAttrValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return appendJSONFloat(b, v.AsFloat64())
	case attribute.STRING:
		return escape.AppendJSONString(b, v.AsString())
	case attribute.BYTESLICE:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.AsByteSlice())
		return append(b, '"')
	case attribute.BOOLSLICE:
		return appendJSONArray(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendJSONArray(b, v.AsInt64Slice(), func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) })
	case attribute.FLOAT64SLICE:
		return appendJSONArray(b, v.AsFloat64Slice(), appendJSONFloat)
	case attribute.STRINGSLICE:
		return appendJSONArray(b, v.AsStringSlice(), escape.AppendJSONString)
	case attribute.SLICE:
		return appendJSONArray(b, v.AsSlice(), appendJSONAttrValue)
	case attribute.MAP:
		return appendJSONObject(b, v.AsMap())
	}
	return append(b, "null"...)
}

func appendJSONArray[T any](b []byte, vs []T, appendOne func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, v)
	}
	return append(b, ']')
}

func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return escape.AppendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func appendSpanJSON(b []byte, s sdktrace.ReadOnlySpan) []byte {
	b = appendJSONHead(b, s.EndTime(), "otelkit.traces", "span")
	b = append(b, `,"name":`...)
	b = escape.AppendJSONString(b, s.Name())
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(s.EndTime().Sub(s.StartTime()).Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"kind":`...)
	b = escape.AppendJSONString(b, s.SpanKind().String())
	b = append(b, `,"trace_id":"`...)
	b = append(b, s.SpanContext().TraceID().String()...)
	b = append(b, `","span_id":"`...)
	b = append(b, s.SpanContext().SpanID().String()...)
	b = append(b, '"')
	if p := s.Parent(); p.IsValid() {
		b = append(b, `,"parent_id":"`...)
		b = append(b, p.SpanID().String()...)
		b = append(b, '"')
	}
	if st := s.Status(); st.Code == codes.Error {
		b = append(b, `,"status":"Error"`...)
		if st.Description != "" {
			b = append(b, `,"status_message":`...)
			b = escape.AppendJSONString(b, st.Description)
		}
	}
	b = appendJSONAttrs(b, s.Attributes())
	if n := len(s.Events()); n > 0 {
		b = append(b, `,"events":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '}', '\n')
}

// appendMetricJSON writes one point as a JSON line.
func appendMetricJSON(b []byte, t time.Time, m metricdata.Metrics, set attribute.Set, fields []metricField) []byte {
	b = appendJSONHead(b, t, "otelkit.metrics", "metric")
	b = append(b, `,"name":`...)
	b = escape.AppendJSONString(b, m.Name)
	kvs := set.ToSlice()
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	b = appendJSONAttrs(b, kvs)
	for _, f := range fields {
		b = append(b, ',')
		b = escape.AppendJSONString(b, f.name)
		b = append(b, ':')
		if json.Valid([]byte(f.value)) { // a number; NaN and ±Inf are not JSON
			b = append(b, f.value...)
		} else {
			b = escape.AppendJSONString(b, f.value)
		}
	}
	if m.Unit != "" {
		b = append(b, `,"unit":`...)
		b = escape.AppendJSONString(b, m.Unit)
	}
	return append(b, '}', '\n')
}
