package logbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/internal/escape/escapetest"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// FuzzHandler logs fuzzed messages, keys and values through the JSON and
// text sinks: never a panic, always exactly one line per record, and the
// JSON line is valid JSON that gives back the message.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "a\rb", "\x1b[31mred", "\xff\xfe", "\u2028", "k=v \"q\"", "{\"x\":1}", "\\n"} {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		var jsonBuf, textBuf bytes.Buffer
		h := NewHandler(WithConsole(&jsonBuf), WithConsole(&textBuf, SinkFormat(FormatText)), WithoutRedaction())
		slog.New(h).Info(msg, key, value, "g", slog.GroupValue(slog.String(key, value)), "m", map[string]string{key: value})
		for name, out := range map[string]string{"json": jsonBuf.String(), "text": textBuf.String()} {
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("%s: not exactly one line: %q", name, out)
			}
			if err := escapetest.CheckLine(strings.TrimSuffix(out, "\n")); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		// msg once; key and value twice (top level and in group g), and
		// once more in map m, which the text format writes as quoted JSON:
		// there one byte becomes at most 7 (\u003c as \\u003c).
		in, nested := len(msg)+2*len(key)+2*len(value), len(key)+len(value)
		checkLineGrowth(t, "json", in+nested, jsonBuf.String(), jsonEscapeMax, recordOverhead)
		checkLineGrowth(t, "text", in, textBuf.String(), textEscapeMax, recordOverhead+textNestedEscapeMax*nested)
		var m map[string]any
		if err := json.Unmarshal(jsonBuf.Bytes(), &m); err != nil {
			t.Fatalf("JSON line does not parse: %v: %q", err, jsonBuf.String())
		}
		// Each invalid byte becomes U+FFFD, as ranging over the string sees it.
		// An attribute named "msg" repeats the key, as slog.JSONHandler
		// does, and the last one wins when decoding.
		if got, ok := m["msg"].(string); key != "msg" && (!ok || strings.Map(func(r rune) rune { return r }, msg) != got) {
			t.Fatalf("msg = %q, want %q", m["msg"], msg)
		}
	})
}

// Output bounds for one record, without redaction. JSON escapes one input
// byte into at most 6 (\u00XX for a control byte, \ufffd for an invalid
// one; a two-byte C1 control becomes 6 too). Text quotes with Go escapes:
// at most 4 per byte (\xff, \x1b); a non-printable rune of 2, 3 or 4
// bytes becomes \u00XX, \uXXXX or \UXXXXXXXX (at most 3 per byte). A
// value nested in slog.Any is written in text as its JSON, quoted: at
// most 7 per byte (\u003c becomes \\u003c). What
// does not depend on the input (time, level, the fixed keys, quotes around
// each string) is 87 bytes of JSON and 47 of text for empty strings, well
// inside recordOverhead. With redaction, a redacted span of at least one
// byte becomes at most redactSpanMax bytes ("REDACTED:REDACTED" for URL
// userinfo), which is not escaped, so the factor is redactSpanMax.
const (
	jsonEscapeMax       = 6
	textEscapeMax       = 4
	textNestedEscapeMax = 7
	redactSpanMax       = 17
	recordOverhead      = 256
)

func checkLineGrowth(t *testing.T, sink string, in int, out string, k, c int) {
	t.Helper()
	lines := max(strings.Count(out, "\n"), 1)
	if limit := k*in + c*lines; len(out) > limit {
		t.Fatalf("%s: %d bytes out for %d bytes in, over %d*in+%d*lines: %q", sink, len(out), in, k, c, out)
	}
}

// Canaries planted in the redacted handler's input: under sensitive keys,
// inside Bearer credentials and key=value text, and in a map value. None may
// reach any sink, whatever fuzzed text surrounds them.
const (
	canaryPrefix   = "CANARY"
	canaryWith     = "CANARYwith0000fake"
	canaryBearer   = "CANARYbearer0000fake"
	canaryPassword = "CANARYpassword0000fake"
	canaryNote     = "CANARYnote0000fake"
	canaryErr      = "CANARYerr0000fake"
	canaryMap      = "CANARYmap0000fake"
	canaryGroup    = "CANARYgroup0000fake"
)

// FuzzHandlerRedacted logs fuzzed messages, keys and values with the
// default redaction policy to a JSON console, a text console and an OTLP
// sink (an in-memory exporter): no canary in any sink, every record exactly
// one line, every JSON line valid, and output linear in the input.
func FuzzHandlerRedacted(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", ""}, {"plain", "k", "v"}, {"a\nb", "password", "hunter2"}, {"Authorization:", "authorization", "Bearer"},
		{"\"", "\"", "\\"}, {"token=", "token", "="}, {"\xff\xfe", "\u2028", "\x1b[31m"}, {"https://u:p@h/?sig=", "url.full", "?"},
		{"Bearer", "Bearer", "Bearer "}, {"{\"password\":", "g", "}"}, {"[REDACTED]", "hmac:0123456789abcdef", "REDACTED"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	var jsonBuf, textBuf bytes.Buffer
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	h := NewHandler(WithConsole(&jsonBuf), WithConsole(&textBuf, SinkFormat(FormatText)), WithOTLP(lp))
	log := slog.New(h)
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		for _, s := range []string{msg, key, value} {
			if strings.Contains(s, canaryPrefix) {
				return
			}
		}
		jsonBuf.Reset()
		textBuf.Reset()
		exp.records = nil

		const records = 3
		l := log.With("api_key", canaryWith).WithGroup(key)
		m1 := msg + " Authorization: Bearer " + canaryBearer + " " + msg
		note := value + " Bearer " + canaryBearer + " password=" + canaryNote + " " + value
		l.Info(m1, key, value, "password", canaryPassword, "note", note)
		errText := value + " token=" + canaryErr
		l.Error(msg, "err", errors.New(errText), "cfg", map[string]any{key: value, "secret": canaryMap})
		log.Warn(value, slog.Group(key+"_g", "password", canaryGroup, "v", value), key, msg)

		// Everything passed in; the group name key prefixes each of the
		// group's keys in text (at most 5 of them in one record).
		in := 2*len(m1) + len(key)*(6+5) + len(value)*4 + len(note) + len(errText) + len(msg)*2 +
			len(canaryWith+canaryPassword+canaryMap+canaryGroup)
		for name, sink := range map[string]struct {
			out string
			k   int
		}{"json": {jsonBuf.String(), redactSpanMax}, "text": {textBuf.String(), redactSpanMax}} {
			out := sink.out
			for _, c := range allCanaries {
				if strings.Contains(out, c) {
					t.Fatalf("%s: canary %q in output:\n%s", name, c, out)
				}
			}
			if strings.Count(out, "\n") != records || !strings.HasSuffix(out, "\n") {
				t.Fatalf("%s: want %d lines, got %q", name, records, out)
			}
			for line := range strings.Lines(out) {
				if err := escapetest.CheckLine(strings.TrimSuffix(line, "\n")); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			checkLineGrowth(t, name, in, out, sink.k, recordOverhead)
		}
		for line := range strings.Lines(jsonBuf.String()) {
			if !json.Valid([]byte(line)) {
				t.Fatalf("JSON line does not parse: %q", line)
			}
		}
		if len(exp.records) != records {
			t.Fatalf("OTLP: %d records, want %d", len(exp.records), records)
		}
		for _, r := range exp.records {
			flat := flatRecord(r)
			if !strings.Contains(flat, "[REDACTED]") {
				t.Fatalf("OTLP: no redacted value in record (flattening lost it?):\n%s", flat)
			}
			for _, c := range allCanaries {
				if strings.Contains(flat, c) {
					t.Fatalf("OTLP: canary %q in record:\n%s", c, flat)
				}
			}
		}
	})
}

var allCanaries = []string{canaryWith, canaryBearer, canaryPassword, canaryNote, canaryErr, canaryMap, canaryGroup}

// flatRecord is everything an exporter would send of r, as text.
func flatRecord(r sdklog.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "body=%s severity=%s\n", r.Body().String(), r.SeverityText())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		fmt.Fprintf(&b, "%s=%s %v\n", kv.Key, kv.Value.String(), kv.Value.AsInterface())
		return true
	})
	return b.String()
}
