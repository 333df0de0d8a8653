package otelsetup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func findSetting(t *testing.T, tel *Telemetry, key string) Setting {
	t.Helper()
	for _, s := range tel.Settings() {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no setting %q", key)
	return Setting{}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "otelkit.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrecedence checks environment > file > code > profile > default, one
// setting at a time.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		code       []Option
		file       string
		env        map[string]string
		key        string
		wantValue  string
		wantSource Source
	}{
		{"default", nil, "", nil, "metrics.interval", "1m0s", SourceDefault},
		{"profile", []Option{WithProfile(ProfileDevelopment)}, "", nil, "logs.level", "DEBUG", SourceProfile},
		{"profile from environment name", []Option{WithEnvironment("dev")}, "", nil, "logs.format", "text", SourceProfile},
		{"code over default", []Option{WithMetricInterval(2 * time.Second)}, "", nil, "metrics.interval", "2s", SourceCode},
		{"code over profile", []Option{WithProfile(ProfileDevelopment), WithLogLevel(slog.LevelWarn)}, "", nil, "logs.level", "WARN", SourceCode},
		{"file over code", []Option{WithServiceName("code")}, "service:\n  name: file\n", nil, "service.name", "file", SourceFile},
		{"env over file", []Option{WithServiceName("code")}, "service:\n  name: file\n", map[string]string{"OTEL_SERVICE_NAME": "env"}, "service.name", "env", SourceEnv},
		{"env over code", []Option{WithLogLevel(slog.LevelDebug)}, "", map[string]string{"LOG_LEVEL": "error"}, "logs.level", "ERROR", SourceEnv},
		{"flat dotted key in file", nil, "metrics.interval: 1500\n", nil, "metrics.interval", "1.5s", SourceFile},
		{"file profile picks defaults", nil, "profile: development\n", nil, "logs.format", "text", SourceProfile},
		{"headers masked", nil, "", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20fake-token"}, "exporter.headers", "authorization=****", SourceEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := append([]Option{WithoutGlobals(), WithConsole(&bytes.Buffer{}), WithTracesExporter("none"), WithMetricsExporter("none"), WithRuntimeMetrics(false)}, tt.code...)
			if tt.file != "" {
				opts = append(opts, WithConfigFile(writeFile(t, tt.file)))
			}
			tel, err := Setup(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			got := findSetting(t, tel, tt.key)
			if got.Value != tt.wantValue || got.Source != tt.wantSource {
				t.Errorf("%s = %q (%s), want %q (%s)", tt.key, got.Value, got.Source, tt.wantValue, tt.wantSource)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		file  string
		code  []Option
		wants []string // substrings of the error
	}{
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "", nil, []string{"OTEL_TRACES_EXPORTER", `"zipkin"`}},
		{"bad sampler arg", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "", nil, []string{"OTEL_TRACES_SAMPLER_ARG", `"1.5"`}},
		{"unknown sampler", map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, "", nil, []string{"OTEL_TRACES_SAMPLER", "sometimes"}},
		{"malformed endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "", nil, []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}},
		{"bad port", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:99999"}, "", nil, []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"}},
		{"malformed headers, value hidden", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "fake-secret-no-equals"}, "", nil, []string{"OTEL_EXPORTER_OTLP_HEADERS", "value hidden"}},
		{"negative interval", map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "-5"}, "", nil, []string{"OTEL_METRIC_EXPORT_INTERVAL", `"-5"`}},
		{"bad protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/xml"}, "", nil, []string{"OTEL_EXPORTER_OTLP_PROTOCOL"}},
		{"bad level", map[string]string{"LOG_LEVEL": "loud"}, "", nil, []string{"LOG_LEVEL", "loud"}},
		{"bad logger levels", map[string]string{"LOG_LEVELS": "deps"}, "", nil, []string{"LOG_LEVELS"}},
		{"bad propagator", map[string]string{"OTEL_PROPAGATORS": "tracecontext,zipkin"}, "", nil, []string{"OTEL_PROPAGATORS", "zipkin"}},
		{"bad bool", map[string]string{"OTEL_SDK_DISABLED": "maybe"}, "", nil, []string{"OTEL_SDK_DISABLED"}},
		{"bad rotation", map[string]string{"LOG_FILE_ROTATE": "weekly"}, "", nil, []string{"LOG_FILE_ROTATE", "weekly"}},
		{"syslog without address", map[string]string{"LOG_SYSLOG_NETWORK": "udp"}, "", nil, []string{"LOG_SYSLOG_ADDRESS"}},
		{"short debug secret, value hidden", map[string]string{"OTELKIT_DEBUG_HEADER_SECRET": "fake-secret"}, "", nil, []string{"OTELKIT_DEBUG_HEADER_SECRET", "16 bytes", "value hidden"}},
		{"bad debug peers", map[string]string{"OTELKIT_DEBUG_ALLOWED_PEERS": "10.0.0.0/8,not-an-ip"}, "", nil, []string{"OTELKIT_DEBUG_ALLOWED_PEERS", "not-an-ip"}},
		{"code option", nil, "", []Option{WithProtocol("carrier-pigeon")}, []string{"WithProtocol", "carrier-pigeon"}},
		{"unknown file key", nil, "service:\n  name: a\n  nmae: b\n", nil, []string{"otelkit.yaml:3", "service.nmae", "unknown key"}},
		{"bad file value", nil, "metrics:\n  interval: soon\n", nil, []string{"otelkit.yaml:2", "metrics.interval"}},
		{"bad yaml", nil, "service: [\n", nil, []string{"otelkit.yaml"}},
		{"missing file", nil, "", []Option{WithConfigFile("/nonexistent/otelkit.yaml")}, []string{"/nonexistent/otelkit.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := append([]Option{WithoutGlobals(), WithConsole(&bytes.Buffer{})}, tt.code...)
			if tt.file != "" {
				opts = append(opts, WithConfigFile(writeFile(t, tt.file)))
			}
			tel, err := Setup(context.Background(), opts...)
			if err == nil {
				tel.Shutdown(context.Background())
				t.Fatal("Setup succeeded, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "fake-secret") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestFileErrorType(t *testing.T) {
	_, err := Setup(context.Background(), WithoutGlobals(), WithConfigFile(writeFile(t, "bogus: 1\n")))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 1 || fe.Key != "bogus" {
		t.Fatalf("err = %v, want a *FileError for line 1, key bogus", err)
	}
}

func TestSecondSetupWhileGlobalsOwned(t *testing.T) {
	opts := []Option{WithConsole(&bytes.Buffer{}), WithoutEnvironment(), WithRuntimeMetrics(false)}
	tel, err := Setup(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Setup(context.Background(), opts...); !errors.Is(err, ErrGlobalsInUse) {
		t.Errorf("second Setup: err = %v, want ErrGlobalsInUse", err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	// After Shutdown the globals are free again.
	tel2, err := Setup(context.Background(), opts...)
	if err != nil {
		t.Fatalf("Setup after Shutdown: %v", err)
	}
	tel2.Shutdown(context.Background())
}

func TestRepeatedSetupShutdownLeavesNothing(t *testing.T) {
	for range 100 {
		tel, err := Setup(context.Background(), WithConsole(&bytes.Buffer{}), WithoutEnvironment(), WithMetricInterval(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// goleak in TestMain checks the goroutines.
}

func TestDisabled(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "true")
	var buf bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "x")
	if span.SpanContext().IsValid() {
		t.Error("disabled SDK made a real span")
	}
	tel.Logger("app").Info("still logging", "password", "fake-hunter2", "auth", "Bearer fake.jwt.token-abc123")
	if !strings.Contains(buf.String(), "still logging") {
		t.Errorf("console logger does not work when disabled: %q", buf.String())
	}
	// The SDK is off, not redaction.
	for _, secret := range []string{"fake-hunter2", "fake.jwt.token-abc123"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("secret %q on the console with the SDK disabled:\n%s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"traces":"disabled (OTEL_SDK_DISABLED)"`) {
		t.Errorf("start-up record does not say the SDK is disabled:\n%s", buf.String())
	}
}

func TestStartupRecordMasksSecrets(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=fake-key-123")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://fake-user:fake-pass@127.0.0.1:1")
	var buf bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf), WithRuntimeMetrics(false), WithErrorOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = tel.Shutdown(ctx)
	out := buf.String()
	if strings.Count(out, "telemetry started") != 1 {
		t.Fatalf("want one start-up record, got: %s", out)
	}
	for _, secret := range []string{"fake-key-123", "fake-pass", "fake-user"} {
		if strings.Contains(out, secret) {
			t.Errorf("start-up record shows %q: %s", secret, out)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil {
		t.Fatal(err)
	}
	cfg, _ := rec["config"].(map[string]any)
	if got, _ := cfg["exporter.headers"].(string); !strings.HasPrefix(got, "api-key=") || !strings.HasSuffix(got, " (env)") {
		t.Errorf("exporter.headers shown as %v", got)
	}
}

// TestTrustedDebugSamplesTrace: with a sampler that samples nothing, a
// request with a valid debug token still gets a sampled trace, DEBUG logs
// and its debug_sampled audit record, whatever the global level.
func TestTrustedDebugSamplesTrace(t *testing.T) {
	t.Setenv("OTELKIT_DEBUG_HEADER_SECRET", "fake-secret-for-tests-only")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		t.Run(level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf), WithRuntimeMetrics(false), WithLogLevel(level))
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			p := tel.Sampling()
			tok, err := p.SignToken(time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
			r.Header.Set("X-Debug-Log", tok)
			ctx, req := p.Start(r)
			ctx, span := tel.TracerProvider().Tracer("t").Start(ctx, "GET /orders/{id}")
			tel.Logger("app").DebugContext(ctx, "visible because trusted")
			span.End()
			_ = req.Finish(200, time.Millisecond, false)
			tel.Logger("app").Info("after the request")
			if !span.SpanContext().IsSampled() {
				t.Error("trusted debug request's trace not sampled")
			}
			if !strings.Contains(buf.String(), "visible because trusted") {
				t.Errorf("DEBUG record of the trusted request missing:\n%s", buf.String())
			}
			if !strings.Contains(buf.String(), `"event":"debug_sampled"`) {
				t.Errorf("no debug_sampled audit record:\n%s", buf.String())
			}
			if got := strings.Contains(buf.String(), "after the request"); got != (level <= slog.LevelInfo) {
				t.Errorf("INFO record outside the request written = %v at %v", got, level)
			}
		})
	}
}

func TestWithSetting(t *testing.T) {
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
		WithSetting("traces.batch.max_queue_size", "4096"), WithSetting("logs.levels", "deps=debug,http=warn"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	if s := findSetting(t, tel, "traces.batch.max_queue_size"); s.Value != "4096" || s.Source != SourceCode {
		t.Errorf("queue size = %+v", s)
	}
	if s := findSetting(t, tel, "logs.levels"); s.Value != "deps=DEBUG,http=WARN" {
		t.Errorf("levels = %+v", s)
	}
	for _, bad := range [][2]string{{"no.such.key", "1"}, {"logs.file.rotate", "weekly"}, {"redaction.hash_key", "fake-short"}} {
		_, err := Setup(context.Background(), WithoutGlobals(), WithSetting(bad[0], bad[1]))
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("WithSetting(%q, %q): err = %v", bad[0], bad[1], err)
		}
		if err != nil && strings.Contains(err.Error(), "fake-short") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

// TestRuntimeMetricsDoNotPileUp: each Setup's runtime metrics stop with its
// Shutdown, so a later Setup reports one series, not one per past Setup.
func TestRuntimeMetricsDoNotPileUp(t *testing.T) {
	for i := range 3 {
		reader := sdkmetric.NewManualReader()
		tel, err := Setup(context.Background(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}), WithMetricReader(reader))
		if err != nil {
			t.Fatal(err)
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		points := 0
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name == "go.goroutine.count" {
					points += len(m.Data.(metricdata.Sum[int64]).DataPoints)
				}
			}
		}
		if points != 1 {
			t.Errorf("Setup #%d: %d go.goroutine.count points, want 1", i+1, points)
		}
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
