package logbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func parseLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSlogtestJSON(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf), WithLevel(slog.LevelDebug))
	if err := slogtest.TestHandler(h, func() []map[string]any { return parseLines(t, buf.Bytes()) }); err != nil {
		t.Fatal(err)
	}
}

func TestSlogtestText(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf, SinkFormat(FormatText)), WithLevel(slog.LevelDebug))
	results := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			out = append(out, parseTextLine(t, line))
		}
		return out
	}
	if err := slogtest.TestHandler(h, results); err != nil {
		t.Fatal(err)
	}
}

// parseTextLine turns "TIME LEVEL msg k=v g.k=v" into the map slogtest wants.
func parseTextLine(t *testing.T, line string) map[string]any {
	t.Helper()
	m := map[string]any{}
	fields := strings.Fields(line)
	if len(fields) > 0 && strings.Contains(fields[0], "T") && strings.HasSuffix(fields[0], "Z") {
		m[slog.TimeKey] = fields[0]
		fields = fields[1:]
	}
	m[slog.LevelKey] = fields[0]
	fields = fields[1:]
	var msg []string
	for len(fields) > 0 && !strings.Contains(fields[0], "=") {
		msg = append(msg, fields[0])
		fields = fields[1:]
	}
	m[slog.MessageKey] = strings.Join(msg, " ")
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		cur := m
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := cur[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				cur[p] = sub
			}
			cur = sub
		}
		cur[parts[len(parts)-1]] = v
	}
	return m
}

type memExporter struct{ records []sdklog.Record }

func (e *memExporter) Export(_ context.Context, rs []sdklog.Record) error {
	for _, r := range rs {
		e.records = append(e.records, r.Clone())
	}
	return nil
}
func (e *memExporter) Shutdown(context.Context) error   { return nil }
func (e *memExporter) ForceFlush(context.Context) error { return nil }

func TestTraceIDsOnEverySink(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
	)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	var jsonBuf, textBuf bytes.Buffer
	h := NewHandler(WithConsole(&jsonBuf), WithConsole(&textBuf, SinkFormat(FormatText)), WithOTLP(lp))
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	ctx = WithFields(ctx, slog.String("request_id", "req-1"))
	h.Logger("app.auth").ErrorContext(ctx, "boom", "k", "v")
	h.Logger("app").Log(ctx, LevelCritical, "down")
	span.End()

	sc := span.SpanContext()
	if sc.IsSampled() {
		t.Fatal("span should be unsampled for this test")
	}
	lines := parseLines(t, jsonBuf.Bytes())
	if len(lines) != 2 || len(exp.records) != 2 {
		t.Fatalf("got %d console and %d OTLP records, want 2 each", len(lines), len(exp.records))
	}
	for i, l := range lines {
		if l["trace_id"] != sc.TraceID().String() || l["span_id"] != sc.SpanID().String() {
			t.Errorf("console record %d IDs = %v/%v, want %s/%s", i, l["trace_id"], l["span_id"], sc.TraceID(), sc.SpanID())
		}
		if exp.records[i].TraceID() != sc.TraceID() || exp.records[i].SpanID() != sc.SpanID() {
			t.Errorf("OTLP record %d has IDs %s/%s", i, exp.records[i].TraceID(), exp.records[i].SpanID())
		}
		if l["request_id"] != "req-1" {
			t.Errorf("console record %d lacks request_id: %v", i, l)
		}
	}
	if lines[0]["logger"] != "app.auth" || lines[0]["level"] != "ERROR" {
		t.Errorf("first record = %v", lines[0])
	}
	if lines[1]["level"] != "CRITICAL" {
		t.Errorf("critical record level = %v", lines[1]["level"])
	}
	if got := exp.records[1].SeverityText(); got != "CRITICAL" {
		t.Errorf("OTLP severity text = %q, want CRITICAL", got)
	}
	if got := exp.records[1].Severity(); got != 21 {
		t.Errorf("OTLP severity = %d, want 21", got)
	}
	if got := exp.records[0].InstrumentationScope().Name; got != "app.auth" {
		t.Errorf("OTLP scope = %q, want app.auth", got)
	}
	var found bool
	exp.records[0].WalkAttributes(func(kv attribute.KeyValue) bool {
		found = found || (string(kv.Key) == "request_id" && kv.Value.AsString() == "req-1")
		return true
	})
	if !found {
		t.Error("OTLP record lacks request_id")
	}
	if !strings.Contains(textBuf.String(), "trace_id="+sc.TraceID().String()) {
		t.Errorf("text sink lacks trace_id: %s", textBuf.String())
	}
}

func TestLevelsInherit(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf), WithLevel(slog.LevelWarn),
		WithLoggerLevels(map[string]slog.Level{"app": slog.LevelDebug, "app.noisy": slog.LevelError}))
	tests := []struct {
		logger string
		level  slog.Level
		want   bool
	}{
		{"", slog.LevelInfo, false},
		{"", slog.LevelWarn, true},
		{"app", slog.LevelDebug, true},
		{"app.db", slog.LevelDebug, true},
		{"app.noisy", slog.LevelWarn, false},
		{"app.noisy.x", slog.LevelError, true},
		{"apple", slog.LevelInfo, false},
	}
	for _, tt := range tests {
		if got := h.Named(tt.logger).Enabled(context.Background(), tt.level); got != tt.want {
			t.Errorf("logger %q level %v: enabled = %v, want %v", tt.logger, tt.level, got, tt.want)
		}
	}
	// A change at run time reaches existing loggers.
	db := h.Named("app.db")
	_ = h.Levels().Set("app.db", slog.LevelError)
	if db.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("run-time level change did not reach an existing logger")
	}
}

func TestInjectionStaysOnOneLine(t *testing.T) {
	evil := "a\nb\rc\x1b[31md\xff\u2028e"
	for _, f := range []Format{FormatJSON, FormatText} {
		var buf bytes.Buffer
		h := NewHandler(WithConsole(&buf, SinkFormat(f)))
		slog.New(h).Info(evil, evil, evil, "g", slog.GroupValue(slog.String(evil, evil)))
		out := buf.String()
		if strings.Count(out, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\n\r\x1b") || strings.Contains(out, "\u2028") {
			t.Errorf("%v: record not confined to one clean line: %q", f, out)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestHandleRedacted: a logbridge handler skips its redaction pass over the
// record (the caller vouches for it) but still redacts the context fields;
// any other handler gets Handle, whatever it does.
func TestHandleRedacted(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf))
	ctx := WithFields(context.Background(), slog.String("api_key", "fake-field-secret"))
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
	rec.AddAttrs(slog.String("password", "fake-record-value"))
	if err := HandleRedacted(ctx, h, rec); err != nil {
		t.Fatal(err)
	}
	line := parseLines(t, buf.Bytes())[0]
	if line["password"] != "fake-record-value" {
		t.Errorf("record attribute redacted again: %v", line)
	}
	if out := buf.String(); strings.Contains(out, "fake-field-secret") {
		t.Errorf("context field not redacted: %s", out)
	}

	buf.Reset()
	other := slog.NewJSONHandler(&buf, nil)
	if err := HandleRedacted(ctx, other, rec); err != nil {
		t.Fatal(err)
	}
	if got := parseLines(t, buf.Bytes())[0]["password"]; got != "fake-record-value" {
		t.Errorf("other handler: %v", got)
	}
}
