package otelsetup

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestCodeSamplerIsTheCodeLayer: WithTraceSampler is an option like any
// other, so traces.sampler from the file or the environment replaces it,
// and Settings tells the truth about the sampler in force.
func TestCodeSamplerIsTheCodeLayer(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		env         map[string]string
		wantSampled bool
		wantValue   string
		wantSource  Source
	}{
		{"code alone", "", nil, true, "WithTraceSampler: AlwaysOnSampler", SourceCode},
		{"file over code", "traces:\n  sampler: always_off\n", nil, false, "always_off", SourceFile},
		{"env over code", "", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, false, "always_off", SourceEnv},
		{"env over file over code", "traces:\n  sampler: always_off\n", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, true, "always_on", SourceEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := []Option{WithoutGlobals(), WithConsole(io.Discard), WithTracesExporter("console"),
				WithMetricsExporter("none"), WithRuntimeMetrics(false), WithTraceSampler(sdktrace.AlwaysSample())}
			if tt.file != "" {
				opts = append(opts, WithConfigFile(writeFile(t, tt.file)))
			}
			tel, err := Setup(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "x")
			span.End()
			if got := span.SpanContext().IsSampled(); got != tt.wantSampled {
				t.Errorf("sampled = %v, want %v", got, tt.wantSampled)
			}
			if s := findSetting(t, tel, "traces.sampler"); s.Value != tt.wantValue || s.Source != tt.wantSource {
				t.Errorf("traces.sampler = %q (%s), want %q (%s)", s.Value, s.Source, tt.wantValue, tt.wantSource)
			}
		})
	}
}

// otlpRequest is what an OTLP/HTTP receiver saw of one export.
type otlpRequest struct {
	path   string
	header http.Header
}

// otlpRecorder is an OTLP/HTTP receiver on 127.0.0.1 that records the
// requests it gets.
type otlpRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []otlpRequest
}

func newOTLPRecorder(t *testing.T) *otlpRecorder {
	r := &otlpRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, otlpRequest{path: req.URL.Path, header: req.Header.Clone()})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// first returns the first request to path.
func (r *otlpRecorder) first(t *testing.T, path string) http.Header {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.reqs {
		if q.path == path {
			return q.header
		}
	}
	var got []string
	for _, q := range r.reqs {
		got = append(got, q.path)
	}
	t.Fatalf("no request to %s (got %v)", path, got)
	return nil
}

// exportAll makes one span, one log record and one metric point and
// flushes them.
func exportAll(t *testing.T, tel *Telemetry) {
	t.Helper()
	_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "x")
	span.End()
	tel.Logger("app").Info("exported")
	c, _ := tel.MeterProvider().Meter("t").Int64Counter("c")
	c.Add(context.Background(), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tel.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPerSignalHeaders: OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_HEADERS
// reach the OTLP request and replace OTEL_EXPORTER_OTLP_HEADERS for their
// signal, as the specification says.
func TestPerSignalHeaders(t *testing.T) {
	rec := newOTLPRecorder(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-all=general")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-traces=t%20value")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-logs=l")
	var buf bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf), WithRuntimeMetrics(false),
		WithSyncExport(), WithErrorOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	exportAll(t, tel)
	traces, logs, metrics := rec.first(t, "/v1/traces"), rec.first(t, "/v1/logs"), rec.first(t, "/v1/metrics")
	if traces.Get("x-traces") != "t value" || traces.Get("x-all") != "" {
		t.Errorf("trace export headers: x-traces=%q x-all=%q, want %q and none", traces.Get("x-traces"), traces.Get("x-all"), "t value")
	}
	if logs.Get("x-logs") != "l" || logs.Get("x-all") != "" {
		t.Errorf("log export headers: x-logs=%q x-all=%q, want %q and none", logs.Get("x-logs"), logs.Get("x-all"), "l")
	}
	if metrics.Get("x-all") != "general" {
		t.Errorf("metric export header x-all=%q, want %q", metrics.Get("x-all"), "general")
	}
	if s := findSetting(t, tel, "exporter.traces_headers"); s.Value != "x-traces=****" || s.Source != SourceEnv {
		t.Errorf("exporter.traces_headers = %+v, want masked, from env", s)
	}
	if strings.Contains(buf.String(), "t value") || strings.Contains(buf.String(), "t%20value") {
		t.Errorf("start-up record shows a header value:\n%s", buf.String())
	}
}

// TestPerSignalProtocol: a signal's protocol overrides the general one, for
// the default path and for the start-up record.
func TestPerSignalProtocol(t *testing.T) {
	rec := newOTLPRecorder(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
	var buf bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf), WithRuntimeMetrics(false),
		WithSyncExport(), WithErrorOutput(io.Discard), WithLogsExporter("none"), WithMetricsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	exportAll(t, tel)
	rec.first(t, "/v1/traces")
	if want := `"traces":"otlp http/protobuf ` + rec.srv.URL + `/v1/traces"`; !strings.Contains(buf.String(), want) {
		t.Errorf("start-up record does not show %s:\n%s", want, buf.String())
	}
	if s := findSetting(t, tel, "exporter.traces_protocol"); s.Value != "http/protobuf" || s.Source != SourceEnv {
		t.Errorf("exporter.traces_protocol = %+v", s)
	}
}

// TestWithoutEnvironmentReachesTheExporters: with the environment ignored,
// the OTLP exporters do not pick up OTEL_EXPORTER_OTLP_* variables
// themselves either (headers, compression).
func TestWithoutEnvironmentReachesTheExporters(t *testing.T) {
	rec := newOTLPRecorder(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-env=fake-leaked")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-env-traces=fake-leaked")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithRuntimeMetrics(false), WithSyncExport(), WithErrorOutput(io.Discard), WithEndpoint(rec.srv.URL),
		WithHeaders(map[string]string{"x-code": "c"}))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	exportAll(t, tel)
	for _, path := range []string{"/v1/traces", "/v1/logs", "/v1/metrics"} {
		h := rec.first(t, path)
		if h.Get("x-env") != "" || h.Get("x-env-traces") != "" || h.Get("x-code") != "c" {
			t.Errorf("%s: headers x-env=%q x-env-traces=%q x-code=%q, want only x-code=c", path, h.Get("x-env"), h.Get("x-env-traces"), h.Get("x-code"))
		}
		if ce := h.Get("Content-Encoding"); ce != "" {
			t.Errorf("%s: Content-Encoding %q from the ignored environment", path, ce)
		}
	}
}

// TestPropagatorsOfTheSpecification: OTEL_PROPAGATORS takes the
// specification's names; unknown names are errors naming the variable.
func TestPropagatorsOfTheSpecification(t *testing.T) {
	t.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage,b3,b3multi,jaeger,xray,ottrace")
	tel, err := Setup(context.Background(), WithConsole(io.Discard), WithRuntimeMetrics(false),
		WithTracesExporter("none"), WithMetricsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	fields := strings.Join(otel.GetTextMapPropagator().Fields(), ",")
	for _, f := range []string{"traceparent", "baggage", "b3", "x-b3-traceid", "uber-trace-id", "X-Amzn-Trace-Id", "ot-tracer-traceid"} {
		if !strings.Contains(fields, f) {
			t.Errorf("global propagator fields %q lack %q", fields, f)
		}
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	if !strings.HasPrefix(carrier["b3"], sc.TraceID().String()) {
		t.Errorf("b3 header = %q, want the trace ID", carrier["b3"])
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		env  string
		opts []Option
		want []string
	}{
		{"tracecontext,zipkin", nil, []string{"OTEL_PROPAGATORS", `"tracecontext,zipkin"`, `"zipkin"`}},
		{"", []Option{WithPropagators("b3,carrier-pigeon")}, []string{"OTEL_PROPAGATORS", "carrier-pigeon", "(code)"}},
	} {
		t.Setenv("OTEL_PROPAGATORS", tt.env)
		_, err := Setup(context.Background(), append([]Option{WithoutGlobals(), WithConsole(io.Discard)}, tt.opts...)...)
		if err == nil {
			t.Fatalf("OTEL_PROPAGATORS=%q: Setup succeeded, want an error", tt.env)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %s", err, w)
			}
		}
	}
}

// TestProfileFromResourceAttributes: deployment.environment.name set
// through OTEL_RESOURCE_ATTRIBUTES (or WithResourceAttributes) picks the
// profile, below service.environment and an explicit profile.
func TestProfileFromResourceAttributes(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		code        []Option
		wantProfile string
	}{
		{"OTEL_RESOURCE_ATTRIBUTES", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=a,deployment.environment.name=dev"}, nil, ProfileDevelopment},
		{"deprecated key", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=local"}, nil, ProfileDevelopment},
		{"WithResourceAttributes", nil, []Option{WithResourceAttributes(attribute.String("deployment.environment.name", "test"))}, ProfileDevelopment},
		{"production name", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod"}, nil, ProfileProduction},
		{"service.environment wins", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=dev", "OTELKIT_ENVIRONMENT": "production"}, nil, ProfileProduction},
		{"explicit profile wins", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=dev"}, []Option{WithProfile(ProfileProduction)}, ProfileProduction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := append([]Option{WithoutGlobals(), WithConsole(io.Discard), WithTracesExporter("none"),
				WithMetricsExporter("none"), WithRuntimeMetrics(false)}, tt.code...)
			tel, err := Setup(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			if s := findSetting(t, tel, "profile"); s.Value != tt.wantProfile {
				t.Errorf("profile = %q, want %q", s.Value, tt.wantProfile)
			}
			wantFormat := "json"
			if tt.wantProfile == ProfileDevelopment {
				wantFormat = "text"
			}
			if s := findSetting(t, tel, "logs.format"); s.Value != wantFormat {
				t.Errorf("logs.format = %q, want %q", s.Value, wantFormat)
			}
		})
	}
}

// TestStartupRecordWhateverTheLevel: at LOG_LEVEL=warn (or a level set for
// the otelkit logger) the start-up record is still written, at INFO, and
// the levels are as configured afterwards.
func TestStartupRecordWhateverTheLevel(t *testing.T) {
	for _, env := range []map[string]string{
		{"LOG_LEVEL": "warn"},
		{"LOG_LEVEL": "error", "LOG_LEVELS": "otelkit=critical"},
	} {
		t.Run(env["LOG_LEVEL"], func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			var buf bytes.Buffer
			tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&buf), WithTracesExporter("none"),
				WithMetricsExporter("none"), WithRuntimeMetrics(false))
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			line, _, _ := strings.Cut(buf.String(), "\n")
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] != "telemetry started" {
				t.Fatalf("no start-up record at LOG_LEVEL=%s:\n%s", env["LOG_LEVEL"], buf.String())
			}
			if rec["level"] != "INFO" || rec["logger"] != "otelkit" {
				t.Errorf("start-up record level %v logger %v, want INFO otelkit", rec["level"], rec["logger"])
			}
			// The level is back as configured.
			levels := tel.Handler().Levels()
			lv, had := levels.Get("otelkit")
			if want, ok := env["LOG_LEVELS"]; ok {
				if !had || logbridge.LevelName(lv) != strings.ToUpper(strings.TrimPrefix(want, "otelkit=")) {
					t.Errorf("otelkit level after Setup = %v (%v), want %s", lv, had, want)
				}
			} else if had {
				t.Errorf("otelkit level left set to %v after Setup", lv)
			}
			buf.Reset()
			tel.Logger("otelkit").Info("after start")
			tel.Logger("otelkit.sampling").Info("after start")
			if buf.Len() != 0 {
				t.Errorf("INFO written after Setup at LOG_LEVEL=%s:\n%s", env["LOG_LEVEL"], buf.String())
			}
		})
	}
}

// TestGRPCEndpointAsDocumented: the gRPC endpoint WithEndpoint's comment
// gives is accepted (":4317", the old example, is not a URL).
func TestGRPCEndpointAsDocumented(t *testing.T) {
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithRuntimeMetrics(false), WithErrorOutput(io.Discard), WithLogsExporter("none"), WithMetricsExporter("none"),
		WithProtocol("grpc"), WithEndpoint("http://127.0.0.1:4317"))
	if err != nil {
		t.Fatalf("documented gRPC endpoint: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = tel.Shutdown(ctx)
	if _, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithEndpoint(":4317")); err == nil {
		t.Error(`WithEndpoint(":4317") accepted`)
	}
}
