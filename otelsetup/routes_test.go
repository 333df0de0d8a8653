package otelsetup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
)

// routeBuffer is a console that may be read while Setup's handler holds it.
type routeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *routeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *routeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// routeSetup runs Setup with a JSON console into a buffer, nothing else
// exported, and the environment left to the test.
func routeSetup(t *testing.T, opts ...Option) (*Telemetry, *routeBuffer) {
	t.Helper()
	console := &routeBuffer{}
	base := []Option{WithoutGlobals(), WithConsole(console), WithLogFormat(logbridge.FormatJSON),
		WithTracesExporter("none"), WithMetricsExporter("none"), WithLogsExporter("none"), WithRuntimeMetrics(false)}
	tel, err := Setup(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, console
}

// jsonLines parses JSON log lines, keyed by their msg.
func jsonLines(t *testing.T, s string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if msg, ok := m["msg"].(string); ok {
			out[msg] = m
		}
	}
	return out
}

func readLines(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return jsonLines(t, string(b))
}

func TestStackTracesSetting(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		env  string
		want bool
	}{
		{"default", nil, "", false},
		{"option", []Option{WithStackTraces(true)}, "", true},
		{"file", []Option{WithConfigFile(writeFile(t, "logs:\n  stack_traces: true\n"))}, "", true},
		{"env over option", []Option{WithStackTraces(true)}, "false", false},
		{"env", nil, "true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOG_STACK_TRACES", tt.env)
			tel, console := routeSetup(t, tt.opts...)
			log := tel.Logger("app")
			log.Warn("warned")
			log.Error("failed")
			log.Log(context.Background(), logbridge.LevelCritical, "critical")
			lines := jsonLines(t, console.String())
			for _, msg := range []string{"failed", "critical"} {
				rec, ok := lines[msg]
				if !ok {
					t.Fatalf("no %q record in %s", msg, console)
				}
				stack, has := rec[logbridge.StackKey].(string)
				if has != tt.want {
					t.Errorf("%s: stack present = %v, want %v", msg, has, tt.want)
				}
				if has && !strings.Contains(stack, "TestStackTracesSetting") {
					t.Errorf("%s: stack does not show the caller:\n%s", msg, stack)
				}
			}
			if _, has := lines["warned"][logbridge.StackKey]; has {
				t.Error("a WARN record got a stack trace")
			}
			if s := findSetting(t, tel, "logs.stack_traces"); s.Value != fmt.Sprint(tt.want) {
				t.Errorf("logs.stack_traces = %q, want %v", s.Value, tt.want)
			}
		})
	}
}

// TestLoggerRoutes: a named logger and its children write to a file of
// their own; with propagate false, nowhere else (console, the main file).
func TestLoggerRoutes(t *testing.T) {
	for _, propagate := range []bool{false, true} {
		t.Run(fmt.Sprintf("propagate=%v", propagate), func(t *testing.T) {
			dir := t.TempDir()
			audit, main := filepath.Join(dir, "audit.log"), filepath.Join(dir, "main.log")
			tel, console := routeSetup(t, WithoutEnvironment(), WithLogFile(main), WithLoggerFile("audit", audit, propagate))
			tel.Logger("audit").Info("audit record")
			tel.Logger("audit.login").Info("child record")
			tel.Logger("auditor").Info("other record") // not a child of audit
			tel.Logger("app").Info("app record")
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			inAudit, inMain, inConsole := readLines(t, audit), readLines(t, main), jsonLines(t, console.String())
			for _, msg := range []string{"audit record", "child record"} {
				if _, ok := inAudit[msg]; !ok {
					t.Errorf("%q not in the audit file", msg)
				}
				if _, ok := inConsole[msg]; ok != propagate {
					t.Errorf("%q on the console = %v, want %v", msg, ok, propagate)
				}
				if _, ok := inMain[msg]; ok != propagate {
					t.Errorf("%q in the main file = %v, want %v", msg, ok, propagate)
				}
			}
			if got := inAudit["child record"]["logger"]; got != "audit.login" {
				t.Errorf("child record's logger = %v, want audit.login", got)
			}
			for _, msg := range []string{"other record", "app record"} {
				if _, ok := inAudit[msg]; ok {
					t.Errorf("%q in the audit file", msg)
				}
				if _, ok := inConsole[msg]; !ok {
					t.Errorf("%q not on the console", msg)
				}
			}
			want := "audit=" + audit
			if !propagate {
				want += ";propagate=false"
			}
			if s := findSetting(t, tel, "logs.loggers"); s.Value != want || s.Source != SourceCode {
				t.Errorf("logs.loggers = %q (%s), want %q (code)", s.Value, s.Source, want)
			}
			start, ok := inConsole["telemetry started"]
			if !ok {
				t.Fatal("no start-up record")
			}
			if cfg, _ := start["config"].(map[string]any); cfg["logs.loggers"] != want+" (code)" {
				t.Errorf("start-up record shows logs.loggers = %v, want %q", cfg["logs.loggers"], want+" (code)")
			}
		})
	}
}

func TestLoggerRoutesFromTheFile(t *testing.T) {
	dir := t.TempDir()
	audit, payments := filepath.Join(dir, "audit.log"), filepath.Join(dir, "payments.log")
	file := writeFile(t, fmt.Sprintf(`logs:
  levels:
    audit: debug
  loggers:
    audit:
      file: %s
      level: warn
      propagate: false
    payments: %s
`, audit, payments))
	tel, console := routeSetup(t, WithoutEnvironment(), WithConfigFile(file))
	tel.Logger("audit.login").Info("audit info")
	tel.Logger("audit.login").Warn("audit warn")
	tel.Logger("payments").Info("payment")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	inAudit, inPayments, inConsole := readLines(t, audit), readLines(t, payments), jsonLines(t, console.String())
	if _, ok := inAudit["audit info"]; ok {
		t.Error("a record below the route's level reached its file")
	}
	if _, ok := inAudit["audit warn"]; !ok {
		t.Error("audit warn not in the audit file")
	}
	for _, msg := range []string{"audit info", "audit warn"} {
		if _, ok := inConsole[msg]; ok {
			t.Errorf("%q on the console", msg)
		}
	}
	if _, ok := inPayments["payment"]; !ok {
		t.Error("payment not in its file")
	}
	if _, ok := inConsole["payment"]; !ok {
		t.Error("payment not on the console (propagate is true by default)")
	}
	want := "audit=" + audit + ";level=WARN;propagate=false,payments=" + payments
	if s := findSetting(t, tel, "logs.loggers"); s.Value != want || s.Source != SourceFile {
		t.Errorf("logs.loggers = %q (%s), want %q (file)", s.Value, s.Source, want)
	}
}

// TestLoggerRoutesPrecedence: environment > file > code, the whole value
// replaced by the higher layer.
func TestLoggerRoutesPrecedence(t *testing.T) {
	dir := t.TempDir()
	code, fromFile, fromEnv := filepath.Join(dir, "code.log"), filepath.Join(dir, "file.log"), filepath.Join(dir, "env.log")
	file := writeFile(t, "logs:\n  loggers:\n    audit: "+fromFile+"\n")

	tel, _ := routeSetup(t, WithLoggerFile("audit", code, false), WithConfigFile(file))
	if s := findSetting(t, tel, "logs.loggers"); s.Value != "audit="+fromFile || s.Source != SourceFile {
		t.Errorf("file over code: logs.loggers = %q (%s)", s.Value, s.Source)
	}

	t.Setenv("LOG_LOGGERS", "audit="+fromEnv+";propagate=false;level=error")
	tel, console := routeSetup(t, WithLoggerFile("audit", code, true), WithConfigFile(file))
	if s := findSetting(t, tel, "logs.loggers"); s.Value != "audit="+fromEnv+";level=ERROR;propagate=false" || s.Source != SourceEnv {
		t.Errorf("env over file: logs.loggers = %q (%s)", s.Value, s.Source)
	}
	tel.Logger("audit").Error("from env")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := readLines(t, fromEnv)["from env"]; !ok {
		t.Error("record not in the file LOG_LOGGERS names")
	}
	if strings.Contains(console.String(), "from env") {
		t.Error("record on the console despite propagate=false")
	}
	for _, p := range []string{code, fromFile} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written though a higher layer replaced it", p)
		}
	}
}

func TestLoggerRoutesBadValues(t *testing.T) {
	files := []struct {
		name, body, want string
	}{
		{"bad level", "logs:\n  loggers:\n    audit:\n      file: /tmp/a.log\n      level: loud\n",
			`otelkit.yaml:5: logs.loggers.audit.level: logbridge: invalid level "loud"`},
		{"bad propagate", "logs:\n  loggers:\n    audit:\n      file: /tmp/a.log\n      propagate: maybe\n",
			"otelkit.yaml:5: logs.loggers.audit.propagate: want true or false"},
		{"unknown field", "logs:\n  loggers:\n    audit:\n      path: /tmp/a.log\n",
			"otelkit.yaml:4: logs.loggers.audit.path: unknown key (want file, level, propagate)"},
		{"no file", "logs:\n  loggers:\n    audit:\n      level: info\n",
			"otelkit.yaml:3: logs.loggers.audit: no file"},
		{"list value", "logs:\n  loggers:\n    audit:\n      file: [a, b]\n",
			"otelkit.yaml:4: logs.loggers.audit.file: want a single value"},
		{"no value", "logs:\n  loggers:\n    audit:\n",
			"otelkit.yaml:3: logs.loggers.audit: want a file path, or a mapping of file, level and propagate"},
		{"same file as logs.file.path", "logs:\n  file:\n    path: /tmp/x.log\n  loggers:\n    audit: /tmp/x.log\n",
			`LOG_LOGGERS (logs.loggers, file): logger "audit" writes to /tmp/x.log, as LOG_FILE (logs.file.path) does`},
	}
	for _, tt := range files {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Setup(context.Background(), WithoutEnvironment(), WithoutGlobals(), WithConsole(&routeBuffer{}),
				WithConfigFile(writeFile(t, tt.body)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	t.Run("env", func(t *testing.T) {
		t.Setenv("LOG_LOGGERS", "audit=/tmp/a.log;level=loud")
		_, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&routeBuffer{}))
		want := `LOG_LOGGERS="audit=/tmp/a.log;level=loud": audit.level: logbridge: invalid level "loud"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to contain %q", err, want)
		}
	})
	t.Run("env without a path", func(t *testing.T) {
		t.Setenv("LOG_LOGGERS", "audit")
		_, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&routeBuffer{}))
		if err == nil || !strings.Contains(err.Error(), "LOG_LOGGERS=\"audit\": want name=path") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("option", func(t *testing.T) {
		_, err := Setup(context.Background(), WithoutEnvironment(), WithoutGlobals(), WithConsole(&routeBuffer{}),
			WithLoggerFile("audit", "", false))
		if err == nil || !strings.Contains(err.Error(), `WithLoggerFile("audit", "", false): audit.file: want a file path`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("two routes, one file", func(t *testing.T) {
		_, err := Setup(context.Background(), WithoutEnvironment(), WithoutGlobals(), WithConsole(&routeBuffer{}),
			WithLoggerFile("a", "/tmp/same.log", true), WithLoggerFile("b", "/tmp/./same.log", true))
		if err == nil || !strings.Contains(err.Error(), `logger "b" writes to /tmp/./same.log, as logger "a" does`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestLoggerRouteFilesClosedAtShutdown: the route's file is open while
// Setup's handler runs and closed by Shutdown, like the main file.
func TestLoggerRouteFilesClosedAtShutdown(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	audit := filepath.Join(t.TempDir(), "audit.log")
	tel, _ := routeSetup(t, WithoutEnvironment(), WithLoggerFile("audit", audit, false))
	tel.Logger("audit").Info("x")
	if !fileOpen(t, audit) {
		t.Fatal("the route's file is not open after a record (the check would prove nothing)")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fileOpen(t, audit) {
		t.Error("the route's file is still open after Shutdown")
	}
}

func fileOpen(t *testing.T, path string) bool {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
