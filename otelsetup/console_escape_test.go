package otelsetup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/escape/escapetest"
	"github.com/otelkit/otelkit/logbridge"
)

// hostileAttrs puts s in keys and values of every attribute type that
// holds strings.
func hostileAttrs(s string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String(s, s),
		attribute.String("v", s),
		attribute.StringSlice("list."+s, []string{s, s}),
		attribute.Slice("slice."+s, attribute.StringValue(s), attribute.Int64Value(1)),
		attribute.Map("map."+s, attribute.String(s, s), attribute.Bool("b", true)),
	}
}

// TestConsoleSpanAndMetricLinesAreOneRecord sends every hostile string
// through Setup's console exporters, in text and JSON, as span names,
// tracer and meter scope names, span, event and metric attribute keys and
// values, event names, status descriptions, error events and metric units,
// and logs it as well: every span, point and record is exactly one line
// by strings.Split and by Python's splitlines, no rune of the escaped set
// nor invalid UTF-8 is written raw, and every JSON line decodes with the
// strings given back.
func TestConsoleSpanAndMetricLinesAreOneRecord(t *testing.T) {
	for _, f := range []logbridge.Format{logbridge.FormatJSON, logbridge.FormatText} {
		t.Run(f.String(), func(t *testing.T) {
			var buf bytes.Buffer
			tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&buf),
				WithLogFormat(f), WithTracesExporter("console"), WithMetricsExporter("console"), WithRuntimeMetrics(false))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range escapetest.Hostile {
				_, span := tel.TracerProvider().Tracer(s).Start(context.Background(), s, trace.WithAttributes(hostileAttrs(s)...))
				span.AddEvent(s, trace.WithAttributes(hostileAttrs(s)...))
				span.RecordError(errors.New(s))
				span.SetStatus(codes.Error, s)
				span.End()
				m := tel.MeterProvider().Meter(s)
				c, err := m.Int64Counter("hostile.count", metric.WithUnit(s))
				if err != nil {
					t.Fatal(err)
				}
				c.Add(context.Background(), 1, metric.WithAttributes(attribute.String(s, s), attribute.String("v", s)))
				hist, err := m.Float64Histogram("hostile.seconds", metric.WithUnit("s"))
				if err != nil {
					t.Fatal(err)
				}
				hist.Record(context.Background(), 0.5, metric.WithAttributes(attribute.String(s, s)))
				tel.Logger(s).Info(s, s, s)
			}
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines, err := escapetest.Lines(buf.String())
			if err != nil {
				t.Fatal(err)
			}
			spans, points := 0, 0
			for _, line := range lines {
				if err := escapetest.CheckLine(line); err != nil {
					t.Error(err)
					continue
				}
				if f == logbridge.FormatText {
					switch {
					case strings.Contains(line, " SPAN "):
						spans++
					case strings.HasPrefix(line, "METRIC hostile."):
						points++
					}
					continue
				}
				m := map[string]any{}
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Errorf("%v: %q", err, line)
					continue
				}
				switch name, _ := m["name"].(string); {
				case m["msg"] == "span":
					spans++
					attrs, _ := m["attributes"].(map[string]any)
					if attrs["v"] != name || (name != "" && (m["status_message"] != name || attrs[name] != name)) {
						t.Errorf("span strings lost or changed: %q", line)
					}
				case m["msg"] == "metric" && strings.HasPrefix(name, "hostile."):
					points++
				}
			}
			if want := len(escapetest.Hostile); spans != want || points != 2*want {
				t.Errorf("%d span lines, %d metric lines; want %d and %d in:\n%s", spans, points, want, 2*want, buf.String())
			}
		})
	}
}

// consoleLine checks that out is exactly one line with no raw escaped
// rune and, for JSON, that it decodes; it returns the decoded object.
func consoleLine(t *testing.T, out string, isJSON bool) map[string]any {
	t.Helper()
	lines, err := escapetest.Lines(out)
	if err != nil || len(lines) != 1 {
		t.Fatalf("not exactly one line (%v): %q", err, out)
	}
	if err := escapetest.CheckLine(lines[0]); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if isJSON {
		if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
			t.Fatalf("%v: %q", err, lines[0])
		}
	}
	return m
}

// FuzzConsoleSpanLine exports one span whose name, attribute keys and
// values, event name and status description are fuzzed, through the
// console span exporter in text and JSON: always exactly one line, no raw
// escaped rune, JSON that decodes with the name and status given back.
func FuzzConsoleSpanLine(f *testing.F) {
	for _, s := range escapetest.Hostile {
		f.Add(s, s, s)
	}
	f.Add("GET /orders/{id}", "http.route", "/orders/{id}")
	tid, sid := trace.TraceID{1}, trace.SpanID{2}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	f.Fuzz(func(t *testing.T, name, key, value string) {
		start := time.Date(2026, 2, 23, 10, 15, 42, 0, time.UTC)
		span := tracetest.SpanStub{
			Name: name, SpanContext: sc, Parent: sc, SpanKind: trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(12 * time.Millisecond),
			Attributes:           append(hostileAttrs(value), attribute.String(key, value), attribute.StringSlice(key+".list", []string{key, value})),
			Events:               []sdktrace.Event{{Name: name, Attributes: []attribute.KeyValue{attribute.String(key, value)}}},
			Status:               sdktrace.Status{Code: codes.Error, Description: value},
			InstrumentationScope: instrumentation.Scope{Name: key},
		}.Snapshot()
		for _, isJSON := range []bool{false, true} {
			var buf bytes.Buffer
			if err := (&consoleSpanExporter{w: &buf, json: isJSON}).ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{span}); err != nil {
				t.Fatal(err)
			}
			m := consoleLine(t, buf.String(), isJSON)
			if isJSON && (m["name"] != escapetest.Decoded(name) || (value != "" && m["status_message"] != escapetest.Decoded(value))) {
				t.Fatalf("name or status lost: %q", buf.String())
			}
		}
	})
}

// FuzzConsoleMetricLine exports one point of each kind whose metric name,
// unit and attribute keys and values are fuzzed, through the console
// metric exporter in text and JSON: exactly one line per point, no raw
// escaped rune, JSON that decodes with the name and attribute given back.
func FuzzConsoleMetricLine(f *testing.F) {
	for _, s := range escapetest.Hostile {
		f.Add(s, s, s)
	}
	f.Add("http.server.request.duration", "http.route", "/orders/{id}")
	f.Fuzz(func(t *testing.T, name, key, value string) {
		set := attribute.NewSet(attribute.String(key, value), attribute.String("v", value), attribute.StringSlice(key+".list", []string{key, value}))
		rm := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{
			Scope: instrumentation.Scope{Name: key},
			Metrics: []metricdata.Metrics{
				{Name: name, Unit: value, Data: metricdata.Sum[int64]{DataPoints: []metricdata.DataPoint[int64]{{Attributes: set, Value: 3}}}},
				{Name: name, Unit: key, Data: metricdata.Histogram[float64]{DataPoints: []metricdata.HistogramDataPoint[float64]{{Attributes: set, Count: 2, Sum: 0.5}}}},
			},
		}}}
		for _, isJSON := range []bool{false, true} {
			var buf bytes.Buffer
			if err := (&consoleMetricExporter{w: &buf, json: isJSON}).Export(context.Background(), rm); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			i := strings.IndexByte(out, '\n') + 1
			for _, line := range []string{out[:i], out[i:]} {
				m := consoleLine(t, line, isJSON)
				attrs, _ := m["attributes"].(map[string]any)
				if isJSON && (m["name"] != escapetest.Decoded(name) || attrs["v"] != escapetest.Decoded(value)) {
					t.Fatalf("name or attribute lost: %q", line)
				}
			}
		}
	})
}
