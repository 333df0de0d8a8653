package otelsetup

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// consoleSpanExporter prints one line per span:
//
//	2026-02-23T10:15:42.123Z SPAN GET /orders/{id} 12.3ms trace_id=… span_id=… parent_id=… status=Error http.route=/orders/{id}
type consoleSpanExporter struct {
	w io.Writer // shared with the other console outputs, and locked
}

func (e *consoleSpanExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	var b []byte
	for _, s := range spans {
		b = s.EndTime().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, " SPAN "...)
		b = appendConsoleValue(b, s.Name())
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
				b = appendConsoleValue(b, st.Description)
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
type consoleMetricExporter struct {
	w io.Writer // shared with the other console outputs, and locked
}

func (e *consoleMetricExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (e *consoleMetricExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e *consoleMetricExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	var b []byte
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, "value="+strconv.FormatInt(p.Value, 10))
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, "value="+strconv.FormatFloat(p.Value, 'g', 6, 64))
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, "value="+strconv.FormatInt(p.Value, 10))
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, "value="+strconv.FormatFloat(p.Value, 'g', 6, 64))
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, fmt.Sprintf("count=%d sum=%d", p.Count, p.Sum))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, fmt.Sprintf("count=%d sum=%.6g", p.Count, p.Sum))
				}
			case metricdata.ExponentialHistogram[float64]:
				for _, p := range d.DataPoints {
					b = appendMetricLine(b, m, p.Attributes, fmt.Sprintf("count=%d sum=%.6g", p.Count, p.Sum))
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

func appendMetricLine(b []byte, m metricdata.Metrics, set attribute.Set, value string) []byte {
	b = append(b, "METRIC "...)
	b = append(b, m.Name...)
	if set.Len() > 0 {
		b = append(b, '{')
		kvs := set.ToSlice()
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
		for i, kv := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, kv.Key...)
			b = append(b, '=')
			b = appendConsoleValue(b, kv.Value.String())
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = append(b, value...)
	if m.Unit != "" {
		b = append(b, " unit="...)
		b = append(b, m.Unit...)
	}
	return append(b, '\n')
}

func (e *consoleMetricExporter) ForceFlush(context.Context) error { return nil }
func (e *consoleMetricExporter) Shutdown(context.Context) error   { return nil }

func appendConsoleKV(b []byte, kv attribute.KeyValue) []byte {
	b = append(b, ' ')
	b = append(b, kv.Key...)
	b = append(b, '=')
	return appendConsoleValue(b, kv.Value.String())
}

// appendConsoleValue quotes values that contain spaces or control characters.
func appendConsoleValue(b []byte, s string) []byte {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f || !strconv.IsPrint(r) }) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
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
