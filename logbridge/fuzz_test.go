package logbridge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
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
		slog.New(h).Info(msg, key, value, "g", slog.GroupValue(slog.String(key, value)))
		for name, out := range map[string]string{"json": jsonBuf.String(), "text": textBuf.String()} {
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("%s: not exactly one line: %q", name, out)
			}
			if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\r\x1b") {
				t.Fatalf("%s: control character in %q", name, out)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(jsonBuf.Bytes(), &m); err != nil {
			t.Fatalf("JSON line does not parse: %v: %q", err, jsonBuf.String())
		}
		// Each invalid byte becomes U+FFFD, as ranging over the string sees it.
		if got, ok := m["msg"].(string); !ok || strings.Map(func(r rune) rune { return r }, msg) != got {
			t.Fatalf("msg = %q, want %q", m["msg"], msg)
		}
	})
}
