package otelsetup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelkit/otelkit/logbridge"
)

// consoleRun sets up console-only telemetry in format, makes one span with
// awkward attribute values and one counter point, and returns the console.
func consoleRun(t *testing.T, format logbridge.Format) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&buf),
		WithLogFormat(format), WithTracesExporter("console"), WithMetricsExporter("console"), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), `GET /orders/{id}`)
	span.SetAttributes(attribute.String("note", "quote \" and\nnewline"), attribute.Int("n", 7), attribute.Float64("ratio", 0.5))
	span.SetStatus(codes.Error, "boom")
	span.End()
	c, err := tel.MeterProvider().Meter("t").Int64Counter("orders.placed")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 3)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return buf.String(), span.SpanContext().TraceID().String()
}

// TestConsoleSpansAndMetricsAsJSON: with JSON logs on the console, spans and
// metric points are JSON lines too, so the stream stays parseable.
func TestConsoleSpansAndMetricsAsJSON(t *testing.T) {
	out, traceID := consoleRun(t, logbridge.FormatJSON)
	var sawSpan, sawMetric bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("console line is not JSON: %v\n%s", err, sc.Text())
		}
		switch line["msg"] {
		case "span":
			sawSpan = true
			attrs, _ := line["attributes"].(map[string]any)
			if line["name"] != "GET /orders/{id}" || line["trace_id"] != traceID || line["status"] != "Error" ||
				line["status_message"] != "boom" || attrs["note"] != "quote \" and\nnewline" || attrs["n"] != 7.0 || attrs["ratio"] != 0.5 {
				t.Errorf("span line: %s", sc.Text())
			}
		case "metric":
			if line["name"] == "orders.placed" {
				sawMetric = true
				if line["value"] != 3.0 {
					t.Errorf("metric line: %s", sc.Text())
				}
			}
		}
	}
	if !sawSpan || !sawMetric {
		t.Errorf("span line %v, metric line %v in:\n%s", sawSpan, sawMetric, out)
	}
}

// TestConsoleSpansAndMetricsAsText: with text logs, one readable line per
// span and per point.
func TestConsoleSpansAndMetricsAsText(t *testing.T) {
	out, traceID := consoleRun(t, logbridge.FormatText)
	var span, metric string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(l, " SPAN "):
			span = l
		case strings.HasPrefix(l, "METRIC orders.placed"):
			metric = l
		}
	}
	for _, want := range []string{`SPAN "GET /orders/{id}"`, "trace_id=" + traceID, "status=Error", `note="quote \" and\nnewline"`, "n=7"} {
		if !strings.Contains(span, want) {
			t.Errorf("span line %q lacks %q", span, want)
		}
	}
	if metric != "METRIC orders.placed value=3" {
		t.Errorf("metric line %q", metric)
	}
	if strings.Contains(out, `{"time"`) {
		t.Error("JSON lines in text mode")
	}
}

func TestAppendMetricJSONNonFinite(t *testing.T) {
	b := appendMetricJSON(nil, time.Time{}, metricdata.Metrics{Name: "x"}, attribute.NewSet(), []metricField{{"value", "NaN"}})
	if !json.Valid(bytes.TrimSpace(b)) {
		t.Errorf("not JSON: %s", b)
	}
}
