package logbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/internal/escape/escapetest"
)

type hostileMarshaler string

func (m hostileMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(`{"k":` + escapetest.LooseJSON(string(m)) + `}`), nil
}

type hostileStringer string

func (s hostileStringer) String() string { return string(s) }

type hostileValuer string

func (v hostileValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String(string(v), string(v)))
}

type hostileInner struct{ Note string }

type hostileStruct struct {
	Name  string
	Tags  []string
	Inner *hostileInner
	Attrs map[string]string
}

// obj walks m along keys, each step a JSON object.
func obj(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		o, _ := v.(map[string]any)
		v = o[k]
	}
	return v
}

// lineCases log s at every place a string reaches a line; check, when not
// nil, finds s (as decoded) in the record's JSON object.
var lineCases = []struct {
	name  string
	log   func(h *Handler, s string)
	check func(m map[string]any, v string) bool
}{
	{"message", func(h *Handler, s string) { h.Logger("app").Info(s) },
		func(m map[string]any, v string) bool { return m["msg"] == v }},
	{"logger name", func(h *Handler, s string) { h.Logger(s).Info("m") },
		func(m map[string]any, v string) bool { return m["logger"] == v }},
	{"attr key", func(h *Handler, s string) { h.Logger("app").Info("m", slog.String(s, "v")) },
		func(m map[string]any, v string) bool { return m[v] == "v" }},
	{"attr value", func(h *Handler, s string) { h.Logger("app").Info("m", "k", s) },
		func(m map[string]any, v string) bool { return m["k"] == v }},
	{"group name", func(h *Handler, s string) { h.Logger("app").Info("m", slog.Group(s, "k", "v")) },
		func(m map[string]any, v string) bool { return obj(m, v, "k") == "v" }},
	{"nested group", func(h *Handler, s string) {
		h.Logger("app").Info("m", slog.Group("a", slog.Group(s, slog.String(s, s))))
	}, func(m map[string]any, v string) bool { return obj(m, "a", v, v) == v }},
	{"WithAttrs", func(h *Handler, s string) { h.Logger("app").With(s, s).Info("m") },
		func(m map[string]any, v string) bool { return m[v] == v }},
	{"WithGroup", func(h *Handler, s string) { h.Logger("app").WithGroup(s).With("w", s).WithGroup(s).Info("m", "k", s) },
		func(m map[string]any, v string) bool { return obj(m, v, "w") == v && obj(m, v, v, "k") == v }},
	{"context field", func(h *Handler, s string) {
		h.Logger("app").InfoContext(WithFields(context.Background(), slog.String(s, s)), "m")
	}, func(m map[string]any, v string) bool { return m[v] == v }},
	{"LogValuer", func(h *Handler, s string) { h.Logger("app").Info("m", "lv", hostileValuer(s)) },
		func(m map[string]any, v string) bool { return obj(m, "lv", v) == v }},
	{"map", func(h *Handler, s string) {
		h.Logger("app").Info("m", "map", map[string]any{s: s, "list": []any{s, map[string]any{s: s}}})
	}, func(m map[string]any, v string) bool { return obj(m, "map", v) == v }},
	{"map of strings", func(h *Handler, s string) { h.Logger("app").Info("m", "map", map[string]string{s: s}) },
		func(m map[string]any, v string) bool { return obj(m, "map", v) == v }},
	{"struct", func(h *Handler, s string) {
		h.Logger("app").Info("m", "st", hostileStruct{Name: s, Tags: []string{s}, Inner: &hostileInner{s}, Attrs: map[string]string{s: s}})
	}, func(m map[string]any, v string) bool {
		return obj(m, "st", "Name") == v && obj(m, "st", "Inner", "Note") == v && obj(m, "st", "Attrs", v) == v
	}},
	{"slice", func(h *Handler, s string) { h.Logger("app").Info("m", "sl", []string{s, s}) },
		func(m map[string]any, v string) bool { sl, _ := m["sl"].([]any); return len(sl) == 2 && sl[0] == v }},
	{"error", func(h *Handler, s string) { h.Logger("app").Info("m", "err", errors.New(s)) },
		func(m map[string]any, v string) bool { return obj(m, "err", "message") == v }},
	{"Stringer", func(h *Handler, s string) { h.Logger("app").Info("m", "str", hostileStringer(s)) },
		func(m map[string]any, v string) bool { return m["str"] == v }},
	{"MarshalJSON", func(h *Handler, s string) { h.Logger("app").Info("m", "mj", hostileMarshaler(s)) },
		func(m map[string]any, v string) bool { return obj(m, "mj", "k") == v }},
	{"json.RawMessage", func(h *Handler, s string) { h.Logger("app").Info("m", "raw", json.RawMessage(escapetest.LooseJSON(s))) },
		func(m map[string]any, v string) bool { return m["raw"] == v }},
}

// TestEveryLineIsOneRecord logs every hostile string at every place a
// string reaches a line (message, logger name, keys, values, group names
// at every level, WithAttrs, WithGroup, context fields, LogValuers, maps,
// structs, slices, errors, Stringers, Marshalers) to the console, a file
// and a syslog receiver, in JSON and text, with and without redaction.
// Each record is exactly one line (one datagram for syslog) by
// strings.Split and by Python's splitlines, no rune of the escaped set nor
// invalid UTF-8 is written raw, each JSON line decodes, and its strings
// decode to what was logged (invalid bytes as U+FFFD).
func TestEveryLineIsOneRecord(t *testing.T) {
	for _, f := range []Format{FormatJSON, FormatText} {
		for _, redacted := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/redacted=%v", f, redacted), func(t *testing.T) {
				testEveryLineIsOneRecord(t, f, redacted)
			})
		}
	}
}

func testEveryLineIsOneRecord(t *testing.T, f Format, redacted bool) {
	pc := udpSyslog(t)
	var console bytes.Buffer
	path := filepath.Join(t.TempDir(), "app.log")
	opts := []Option{WithConsole(&console, SinkFormat(f)), WithFile(path, FileOptions{}, SinkFormat(f)),
		WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), AppName: "app", Hostname: "host"}, SinkFormat(f))}
	if !redacted {
		opts = append(opts, WithoutRedaction())
	}
	h := NewHandler(opts...)
	var syslog []string
	for _, c := range lineCases {
		for _, s := range escapetest.Hostile {
			c.log(h, s)
		}
		// Read each case's datagrams before the next, so the socket's
		// buffer never overflows.
		for _, msg := range readDatagrams(t, pc, len(escapetest.Hostile), 5*time.Second) {
			syslog = append(syslog, syslogBody(t, msg)+"\n")
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := len(lineCases) * len(escapetest.Hostile)
	sinks := map[string][]string{"console": nil, "file": nil, "syslog": nil}
	for name, out := range map[string]string{"console": console.String(), "file": string(file)} {
		lines, err := escapetest.Lines(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sinks[name] = lines
	}
	for _, d := range syslog {
		lines, err := escapetest.Lines(d)
		if err != nil || len(lines) != 1 {
			t.Fatalf("syslog: datagram is not one line (%v): %q", err, d)
		}
		sinks["syslog"] = append(sinks["syslog"], lines[0])
	}
	for name, lines := range sinks {
		if len(lines) != want {
			t.Errorf("%s: %d lines for %d records", name, len(lines), want)
			continue
		}
		for i, line := range lines {
			c, s := lineCases[i/len(escapetest.Hostile)], escapetest.Hostile[i%len(escapetest.Hostile)]
			if err := escapetest.CheckLine(line); err != nil {
				t.Errorf("%s %s %q: %v", name, c.name, s, err)
				continue
			}
			if f == FormatText {
				if !strings.Contains(line, " INFO ") {
					t.Errorf("%s %s %q: not a record: %q", name, c.name, s, line)
				}
				continue
			}
			m := map[string]any{}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("%s %s %q: %v: %q", name, c.name, s, err, line)
				continue
			}
			if s != "" && !c.check(m, escapetest.Decoded(s)) {
				t.Errorf("%s %s %q: value lost or changed: %q", name, c.name, s, line)
			}
		}
	}
}
