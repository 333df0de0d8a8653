package logbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// keyCanary is a fake GitHub token naming door, to be used as a key.
func keyCanary(door string) string {
	s := "ghp_FAKE" + strings.ToUpper(door)
	for len(s) < 4+36 {
		s += "0"
	}
	return s
}

// hiddenCanary is a struct field the JSON form hides (json:"-") and that no
// value rule would find.
const hiddenCanary = "hidden-field-canary-42"

type withHidden struct {
	User     string `json:"user"`
	Internal string `json:"-"`
}

// keyDoor is one way a key reaches the sinks.
type keyDoor struct {
	name string
	log  func(ctx context.Context, l *slog.Logger, msg string)
	mask bool // the output must carry redact.KeyMask
}

var keyDoors = []keyDoor{
	{"toplevel", func(ctx context.Context, l *slog.Logger, m string) { l.InfoContext(ctx, m, keyCanary("toplevel"), "v") }, true},
	{"group", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(ctx, m, slog.Group(keyCanary("group"), "a", 1))
	}, true},
	{"nested", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(ctx, m, slog.Group("outer", slog.Group("mid", slog.Group(keyCanary("nested"), "a", 1))))
	}, true},
	{"withattrs", func(ctx context.Context, l *slog.Logger, m string) {
		l.With(keyCanary("withattrs"), "v").InfoContext(ctx, m)
	}, true},
	{"withgroup", func(ctx context.Context, l *slog.Logger, m string) {
		l.WithGroup(keyCanary("withgroup")).InfoContext(ctx, m, "a", 1)
	}, true},
	{"mapkey", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(ctx, m, slog.Any("cfg", map[string]any{"ok": 1, keyCanary("mapkey"): "v"}))
	}, true},
	{"fields", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(WithFields(ctx, slog.String(keyCanary("fields"), "v")), m)
	}, true},
	{"hidden", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(ctx, m, slog.Any("account", withHidden{User: "bob", Internal: hiddenCanary}))
	}, false},
	{"hiddenfield", func(ctx context.Context, l *slog.Logger, m string) {
		l.InfoContext(WithFields(ctx, slog.Any("account", withHidden{User: "bob", Internal: hiddenCanary})), m)
	}, false},
}

// keySinks writes to every kind of sink: console JSON and text, a file,
// syslog over UDP on 127.0.0.1, and OTLP through both of the OTLP sink's
// paths.
type keySinks struct {
	json, text bytes.Buffer
	file       string
	syslog     net.PacketConn
	otlp       *memExporter
	h          *Handler
}

func newKeySinks(t *testing.T, unique bool) *keySinks {
	t.Helper()
	s := &keySinks{otlp: &memExporter{}, file: filepath.Join(t.TempDir(), "app.log")}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	s.syslog = pc
	mk := func(opts ...sdklog.LoggerProviderOption) *sdklog.LoggerProvider {
		return sdklog.NewLoggerProvider(append(opts, sdklog.WithProcessor(NewProcessor(nil)),
			sdklog.WithProcessor(sdklog.NewSimpleProcessor(s.otlp)))...)
	}
	var otlpOpts []SinkOption
	if unique {
		otlpOpts = append(otlpOpts, SinkUniqueKeys(mk(sdklog.WithAllowKeyDuplication())))
	}
	s.h = NewHandler(WithConsole(&s.json), WithConsole(&s.text, SinkFormat(FormatText)),
		WithFile(s.file, FileOptions{}),
		WithSyslog(SyslogOptions{Network: "udp", Address: pc.LocalAddr().String(), AppName: "t", Hostname: "h"}, SinkFormat(FormatText)),
		WithOTLP(mk(), otlpOpts...))
	return s
}

// outputs closes the handler and returns, per sink, each record's text by
// its message.
func (s *keySinks) outputs(t *testing.T, n int) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	byMsg := func(sink, text string) {
		out[sink] = map[string]string{}
		for line := range strings.Lines(text) {
			for _, f := range strings.Fields(strings.NewReplacer(`"`, " ", "=", " ").Replace(line)) {
				if strings.HasPrefix(f, "door:") {
					out[sink][f] = line
				}
			}
		}
	}
	var dgrams []string
	buf := make([]byte, 65536)
	for len(dgrams) < n {
		_ = s.syslog.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _, err := s.syslog.ReadFrom(buf)
		if err != nil {
			t.Fatalf("syslog: %d of %d datagrams: %v", len(dgrams), n, err)
		}
		dgrams = append(dgrams, string(buf[:k])+"\n")
	}
	if err := s.h.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(s.file)
	if err != nil {
		t.Fatal(err)
	}
	byMsg("json", s.json.String())
	byMsg("text", s.text.String())
	byMsg("file", string(file))
	byMsg("syslog", strings.Join(dgrams, ""))
	out["otlp"] = map[string]string{}
	for _, r := range s.otlp.records {
		out["otlp"][r.Body().AsString()] = flatRecord(r)
	}
	return out
}

// TestSecretKeysOnEverySink: a secret used as a key at any level, and a
// field the JSON form hides, reach no sink.
func TestSecretKeysOnEverySink(t *testing.T) {
	for _, unique := range []bool{false, true} {
		s := newKeySinks(t, unique)
		l := slog.New(s.h)
		for _, d := range keyDoors {
			d.log(context.Background(), l, "door:"+d.name)
		}
		out := s.outputs(t, len(keyDoors))
		for sink, recs := range out {
			for _, d := range keyDoors {
				rec, ok := recs["door:"+d.name]
				if !ok {
					t.Errorf("unique=%v %s: no record for door %s", unique, sink, d.name)
					continue
				}
				for _, c := range []string{keyCanary(d.name), strings.TrimPrefix(keyCanary(d.name), "ghp_"), hiddenCanary} {
					if strings.Contains(rec, c) {
						t.Errorf("unique=%v %s, door %s: %q leaked: %s", unique, sink, d.name, c, rec)
					}
				}
				if d.mask && !strings.Contains(rec, redact.KeyMask) {
					t.Errorf("unique=%v %s, door %s: no %s: %s", unique, sink, d.name, redact.KeyMask, rec)
				}
				if !d.mask && !strings.Contains(rec, "bob") {
					t.Errorf("unique=%v %s, door %s: the struct's visible field is missing: %s", unique, sink, d.name, rec)
				}
			}
		}
	}
}

// TestOTLPPrintsValuesAsTheConsole: a struct, a map and a Stringer in
// slog.Any reach OTLP in the form the console prints: structured from the
// JSON (tags honoured), or the String() text.
func TestOTLPPrintsValuesAsTheConsole(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	l := slog.New(NewHandler(WithoutConsole(), WithOTLP(lp)))
	type inner struct {
		N int     `json:"n"`
		F float64 `json:"f,omitempty"`
	}
	l.Info("m",
		slog.Any("s", struct {
			Name  string   `json:"name"`
			Skip  string   `json:"-"`
			In    inner    `json:"in"`
			Tags  []string `json:"tags"`
			Empty *int     `json:"empty"`
		}{"x", hiddenCanary, inner{N: 3, F: 1.5}, []string{"a"}, nil}),
		slog.Any("m", map[string]int{"b": 2, "a": 1}),
		slog.Any("d", 90*time.Second),
		slog.Any("ip", net.IPv4(127, 0, 0, 1)),
	)
	if len(exp.records) != 1 {
		t.Fatalf("%d records", len(exp.records))
	}
	got := map[string]attribute.Value{}
	exp.records[0].WalkAttributes(func(kv attribute.KeyValue) bool {
		got[string(kv.Key)] = kv.Value
		return true
	})
	want := map[string]string{
		"s":  `{"empty":null,"in":{"f":1.5,"n":3},"name":"x","tags":["a"]}`,
		"m":  `{"a":1,"b":2}`,
		"ip": `"127.0.0.1"`,
	}
	for k, w := range want {
		if s := attrJSON(got[k]); s != w {
			t.Errorf("%s = %s, want %s", k, s, w)
		}
	}
}

// attrJSON prints v as JSON, map keys sorted (the SDK's deduplication
// sorts them).
func attrJSON(v attribute.Value) string {
	switch v.Type() {
	case attribute.MAP:
		var parts []string
		for _, kv := range v.AsMap() {
			k, _ := json.Marshal(string(kv.Key))
			parts = append(parts, string(k)+":"+attrJSON(kv.Value))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ",") + "}"
	case attribute.SLICE:
		var parts []string
		for _, e := range v.AsSlice() {
			parts = append(parts, attrJSON(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case attribute.EMPTY:
		return "null"
	}
	b, _ := json.Marshal(v.AsInterface())
	return string(b)
}

type codedError struct{ code, dsn string }

func (e *codedError) Error() string { return "query failed at " + e.dsn }

// TestErrorFieldKeepsItsShape: an error whose text is redacted reaches
// every sink in the shape of an error whose text is not: an object
// {message, type} in JSON, error= and error.type= in text, and
// exception.message and exception.type (no "error" attribute) in OTLP, with
// the original type.
func TestErrorFieldKeepsItsShape(t *testing.T) {
	var js, text bytes.Buffer
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	l := slog.New(NewHandler(WithConsole(&js), WithConsole(&text, SinkFormat(FormatText)), WithOTLP(lp)))
	clean := &codedError{"c1", "db:5432/orders"}
	dirty := &codedError{"c2", "postgres://app:" + "hunter2" + "@db:5432/orders"}
	l.Error("clean", "error", clean)
	l.Error("dirty", "error", dirty)
	lines := parseLines(t, js.Bytes())
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines", len(lines))
	}
	var types []any
	for _, rec := range lines {
		obj, ok := rec["error"].(map[string]any)
		if !ok {
			t.Fatalf("JSON %s: error is %T (%v), want an object", rec["msg"], rec["error"], rec["error"])
		}
		types = append(types, obj["type"])
	}
	if types[0] != types[1] || types[0] != "*logbridge.codedError" {
		t.Errorf("JSON types %v, want both *logbridge.codedError", types)
	}
	if strings.Contains(js.String()+text.String(), "hunter2") {
		t.Errorf("secret leaked:\n%s%s", js.String(), text.String())
	}
	for line := range strings.Lines(text.String()) {
		if !strings.Contains(line, "error.type=*logbridge.codedError") {
			t.Errorf("text: %s", line)
		}
	}
	if len(exp.records) != 2 {
		t.Fatalf("%d OTLP records", len(exp.records))
	}
	for _, r := range exp.records {
		attrs := map[string]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			attrs[string(kv.Key)] = kv.Value.Emit()
			return true
		})
		if _, ok := attrs["error"]; ok || attrs["exception.type"] != "*logbridge.codedError" || attrs["exception.message"] == "" {
			t.Errorf("OTLP %s: attributes %v, want exception.message and exception.type only", r.Body().AsString(), attrs)
		}
		if strings.Contains(attrs["exception.message"], "hunter2") {
			t.Errorf("OTLP: secret leaked: %v", attrs)
		}
	}
}
