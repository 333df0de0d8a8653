package logbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
	"unicode/utf8"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// udpSyslog listens for syslog datagrams on the loopback interface.
func udpSyslog(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// readDatagrams reads datagrams until none arrives for quiet; it stops
// early once max have arrived (max <= 0: no limit).
func readDatagrams(t *testing.T, pc net.PacketConn, max int, quiet time.Duration) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 64<<10)
	for max <= 0 || len(out) < max {
		_ = pc.SetReadDeadline(time.Now().Add(quiet))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			t.Fatal(err)
		}
		out = append(out, string(buf[:n]))
	}
	return out
}

// syslogBody returns the MSG part of an RFC 5424 message written by the
// syslog sink: what follows "<PRI>1 TIMESTAMP HOST APP PROCID - - ".
func syslogBody(t *testing.T, msg string) string {
	t.Helper()
	_, body, ok := strings.Cut(msg, " - - ")
	if !ok || !strings.HasPrefix(msg, "<") {
		t.Fatalf("not an RFC 5424 message: %q", msg)
	}
	return body
}

func syslogJSON(t *testing.T, msg string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(syslogBody(t, msg)), &m); err != nil {
		t.Fatalf("syslog body of %q is not JSON: %v", msg, err)
	}
	return m
}

// TestTraceIDsOnFileAndSyslog completes TestTraceIDsOnEverySink: the file
// and syslog sinks carry the IDs of an unsampled span and the context
// fields too, in JSON and text.
func TestTraceIDsOnFileAndSyslog(t *testing.T) {
	pc := udpSyslog(t)
	dir := t.TempDir()
	jsonPath, textPath := filepath.Join(dir, "app.json.log"), filepath.Join(dir, "app.text.log")
	h := NewHandler(WithoutConsole(),
		WithFile(jsonPath, FileOptions{}),
		WithFile(textPath, FileOptions{}, SinkFormat(FormatText)),
		WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), AppName: "orders", Hostname: "host-1"}))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	ctx = WithFields(ctx, slog.String("request_id", "req-1"))
	h.Logger("app.auth").ErrorContext(ctx, "boom", "k", "v")
	h.Logger("app").Log(ctx, LevelCritical, "down")
	span.End()
	msgs := readDatagrams(t, pc, 2, 5*time.Second)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	if !sc.IsValid() || sc.IsSampled() {
		t.Fatal("want a valid, unsampled span")
	}
	traceID, spanID := sc.TraceID().String(), sc.SpanID().String()

	fileBytes, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	fileLines := parseLines(t, fileBytes)
	if len(fileLines) != 2 || len(msgs) != 2 {
		t.Fatalf("got %d file lines and %d syslog messages, want 2 each:\n%s\n%q", len(fileLines), len(msgs), fileBytes, msgs)
	}
	for i := range 2 {
		for sink, rec := range map[string]map[string]any{"file": fileLines[i], "syslog": syslogJSON(t, msgs[i])} {
			if rec["trace_id"] != traceID || rec["span_id"] != spanID || rec["request_id"] != "req-1" {
				t.Errorf("%s record %d: trace_id %v span_id %v request_id %v, want %s %s req-1", sink, i, rec["trace_id"], rec["span_id"], rec["request_id"], traceID, spanID)
			}
		}
	}
	textBytes, err := os.ReadFile(textPath)
	if err != nil {
		t.Fatal(err)
	}
	textLines := strings.Split(strings.TrimSpace(string(textBytes)), "\n")
	if len(textLines) != 2 {
		t.Fatalf("text file: %d lines, want 2:\n%s", len(textLines), textBytes)
	}
	for i, l := range textLines {
		if !strings.Contains(l, "trace_id="+traceID) || !strings.Contains(l, "span_id="+spanID) || !strings.Contains(l, "request_id=req-1") {
			t.Errorf("text file line %d lacks IDs or fields: %q", i, l)
		}
	}
}

// TestEachLevelOnSyslog completes TestEachLevelOnEachSink for the syslog
// sink: the RFC 5424 severity in PRI and the level name in the body, JSON
// and text.
func TestEachLevelOnSyslog(t *testing.T) {
	levels := []struct {
		level slog.Level
		name  string
		pri   string // facility 16 (local0) * 8 + severity
	}{
		{slog.LevelDebug, "DEBUG", "<135>1 "},
		{slog.LevelInfo, "INFO", "<134>1 "},
		{slog.LevelWarn, "WARN", "<132>1 "},
		{slog.LevelError, "ERROR", "<131>1 "},
		{LevelCritical, "CRITICAL", "<130>1 "},
	}
	for _, f := range []Format{FormatJSON, FormatText} {
		t.Run(f.String(), func(t *testing.T) {
			pc := udpSyslog(t)
			h := NewHandler(WithLevel(slog.LevelDebug), WithoutConsole(),
				WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), Facility: 16, AppName: "orders", Hostname: "host-1"}, SinkFormat(f)))
			defer h.Close()
			for _, l := range levels {
				slog.New(h).Log(context.Background(), l.level, "at "+l.name)
			}
			msgs := readDatagrams(t, pc, len(levels), 5*time.Second)
			if len(msgs) != len(levels) {
				t.Fatalf("got %d syslog messages, want %d: %q", len(msgs), len(levels), msgs)
			}
			for i, l := range levels {
				msg := msgs[i]
				if !strings.HasPrefix(msg, l.pri) {
					t.Errorf("%s: message %q, want PRI %q", l.name, msg, l.pri)
				}
				if f == FormatJSON {
					rec := syslogJSON(t, msg)
					if rec["level"] != l.name || rec["msg"] != "at "+l.name {
						t.Errorf("%s: body %v", l.name, rec)
					}
					continue
				}
				// Text body: "TIME LEVEL msg".
				if fields := strings.Fields(syslogBody(t, msg)); len(fields) < 3 || fields[1] != l.name || !strings.HasSuffix(msg, "at "+l.name) {
					t.Errorf("%s: text body of %q", l.name, msg)
				}
			}
		})
	}
}

// TestSlogtestSyslogSink runs the conformance suite against the syslog
// sink, JSON and text, reading the bodies of the datagrams back.
func TestSlogtestSyslogSink(t *testing.T) {
	for _, f := range []Format{FormatJSON, FormatText} {
		t.Run(f.String(), func(t *testing.T) {
			pc := udpSyslog(t)
			h := NewHandler(WithoutConsole(), WithLevel(slog.LevelDebug),
				WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), AppName: "orders", Hostname: "host-1"}, SinkFormat(f)))
			defer h.Close()
			results := func() []map[string]any {
				var out []map[string]any
				for _, msg := range readDatagrams(t, pc, 0, 500*time.Millisecond) {
					if f == FormatJSON {
						out = append(out, syslogJSON(t, msg))
					} else {
						out = append(out, parseTextLine(t, syslogBody(t, msg)))
					}
				}
				return out
			}
			if err := slogtest.TestHandler(h, results); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestInjectionEscapedOnEverySink extends TestInjectionStaysOnOneLine to
// the file and syslog sinks and checks what the console test does not:
// invalid UTF-8, U+2028, U+2029 and C1 controls never reach the output raw
// but as escapes, and the JSON still decodes to the value logged (invalid
// bytes as U+FFFD).
func TestInjectionEscapedOnEverySink(t *testing.T) {
	const evil = "a\nb\rc\x1b[31md\xffe\u2028f\u2029g\u0085h"
	decoded := strings.ToValidUTF8(evil, "\ufffd")
	for _, f := range []Format{FormatJSON, FormatText} {
		t.Run(f.String(), func(t *testing.T) {
			pc := udpSyslog(t)
			var console bytes.Buffer
			path := filepath.Join(t.TempDir(), "app.log")
			h := NewHandler(WithConsole(&console, SinkFormat(f)),
				WithFile(path, FileOptions{}, SinkFormat(f)),
				WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), AppName: "orders", Hostname: "host-1"}, SinkFormat(f)))
			slog.New(h).Info(evil, "k", evil, "g", slog.GroupValue(slog.String("inner", evil)))
			msgs := readDatagrams(t, pc, 1, 5*time.Second)
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			fileBytes, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("got %d syslog messages, want 1", len(msgs))
			}
			outputs := map[string]string{
				"console": console.String(),
				"file":    string(fileBytes),
				"syslog":  msgs[0] + "\n", // the sink drops the newline; one datagram is one record
			}
			for sink, out := range outputs {
				line, ok := strings.CutSuffix(out, "\n")
				if !ok || strings.Contains(line, "\n") {
					t.Errorf("%s: not one line: %q", sink, out)
					continue
				}
				if !utf8.ValidString(line) {
					t.Errorf("%s: invalid UTF-8 written raw: %q", sink, line)
				}
				for _, raw := range []string{"\r", "\x1b", "\u2028", "\u2029", "\u0085"} {
					if strings.Contains(line, raw) {
						t.Errorf("%s: raw %U in %q", sink, []rune(raw)[0], line)
					}
				}
				var escapes []string
				if f == FormatJSON {
					escapes = []string{`\n`, `\r`, `\u001b`, `\ufffd`, `\u2028`, `\u2029`, `\u0085`}
				} else {
					escapes = []string{`\n`, `\r`, `\x1b`, `\xff`, `\u2028`, `\u2029`, `\u0085`}
				}
				for _, esc := range escapes {
					// Three times: in the message, the value and the
					// grouped value.
					if n := strings.Count(line, esc); n < 3 {
						t.Errorf("%s: escape %s found %d times, want 3 or more: %q", sink, esc, n, line)
					}
				}
				if f != FormatJSON {
					continue
				}
				if sink == "syslog" {
					line = syslogBody(t, line)
				}
				rec := map[string]any{}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("%s: %v: %q", sink, err, line)
				}
				g, _ := rec["g"].(map[string]any)
				if rec["msg"] != decoded || rec["k"] != decoded || g["inner"] != decoded {
					t.Errorf("%s: decoded msg %q k %q g.inner %q, want %q", sink, rec["msg"], rec["k"], g["inner"], decoded)
				}
			}
		})
	}
}
