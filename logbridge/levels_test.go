package logbridge

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/slogtest"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// TestEachLevelOnEachSink logs every level and checks its name on the
// console (JSON and text), a file and OTLP (severity number and text).
func TestEachLevelOnEachSink(t *testing.T) {
	levels := []struct {
		level    slog.Level
		name     string
		severity int
	}{
		{slog.LevelDebug, "DEBUG", 5},
		{slog.LevelInfo, "INFO", 9},
		{slog.LevelWarn, "WARN", 13},
		{slog.LevelError, "ERROR", 17},
		{LevelCritical, "CRITICAL", 21},
	}
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	var jsonBuf, textBuf bytes.Buffer
	path := filepath.Join(t.TempDir(), "app.log")
	h := NewHandler(WithLevel(slog.LevelDebug), WithConsole(&jsonBuf), WithConsole(&textBuf, SinkFormat(FormatText)),
		WithFile(path, FileOptions{}), WithOTLP(lp))
	for _, l := range levels {
		slog.New(h).Log(context.Background(), l.level, "at "+l.name)
	}
	h.Close()
	fileBytes, _ := os.ReadFile(path)
	jsonLines, fileLines := parseLines(t, jsonBuf.Bytes()), parseLines(t, fileBytes)
	textLines := strings.Split(strings.TrimSpace(textBuf.String()), "\n")
	if len(jsonLines) != len(levels) || len(fileLines) != len(levels) || len(textLines) != len(levels) || len(exp.records) != len(levels) {
		t.Fatalf("counts: json %d file %d text %d otlp %d", len(jsonLines), len(fileLines), len(textLines), len(exp.records))
	}
	for i, l := range levels {
		if jsonLines[i]["level"] != l.name || fileLines[i]["level"] != l.name {
			t.Errorf("%s: json %v file %v", l.name, jsonLines[i]["level"], fileLines[i]["level"])
		}
		if f := strings.Fields(textLines[i]); len(f) < 2 || f[1] != l.name {
			t.Errorf("%s: text line %q", l.name, textLines[i])
		}
		if r := exp.records[i]; int(r.Severity()) != l.severity || r.SeverityText() != l.name {
			t.Errorf("%s: OTLP severity %d %q", l.name, r.Severity(), r.SeverityText())
		}
	}
}

// TestSlogtestOTLPSink runs the conformance suite against the OTLP sink,
// reading the exported records back into maps.
func TestSlogtestOTLPSink(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	h := NewHandler(WithoutConsole(), WithOTLP(lp), WithLevel(slog.LevelDebug))
	results := func() []map[string]any {
		var out []map[string]any
		for _, r := range exp.records {
			m := map[string]any{slog.LevelKey: r.SeverityText(), slog.MessageKey: r.Body().AsString()}
			if !r.Timestamp().IsZero() {
				m[slog.TimeKey] = r.Timestamp()
			}
			r.WalkAttributes(func(kv attribute.KeyValue) bool {
				m[string(kv.Key)] = otlpValue(kv.Value)
				return true
			})
			out = append(out, m)
		}
		return out
	}
	if err := slogtest.TestHandler(h, results); err != nil {
		t.Fatal(err)
	}
}

func otlpValue(v attribute.Value) any {
	if v.Type() == attribute.MAP {
		m := map[string]any{}
		for _, kv := range v.AsMap() {
			m[string(kv.Key)] = otlpValue(kv.Value)
		}
		return m
	}
	return v.String()
}
