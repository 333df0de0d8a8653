package otelsetup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// levelsExporter records the severity and body of every exported log
// record.
type levelsExporter struct {
	mu   sync.Mutex
	recs []levelsRecord
}

type levelsRecord struct {
	severity otellog.Severity
	text     string
	body     string
}

func (e *levelsExporter) Export(_ context.Context, rs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		e.recs = append(e.recs, levelsRecord{r.Severity(), r.SeverityText(), r.Body().AsString()})
	}
	return nil
}
func (e *levelsExporter) Shutdown(context.Context) error   { return nil }
func (e *levelsExporter) ForceFlush(context.Context) error { return nil }

func (e *levelsExporter) records() []levelsRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.recs)
}

// TestLevelsInfoKeepsDebugOffOTLPAndErrorFile: with LOG_LEVEL=info (over a
// DEBUG level given in code), no DEBUG record is exported over OTLP while
// INFO and above are, and the error file (LOG_ERROR_FILE,
// logs.file.error_path) gets ERROR and CRITICAL only.
func TestLevelsInfoKeepsDebugOffOTLPAndErrorFile(t *testing.T) {
	errPath := filepath.Join(t.TempDir(), "errors.log")
	t.Setenv("LOG_LEVEL", "info")
	t.Setenv("LOG_ERROR_FILE", errPath)
	t.Setenv("LOG_FORMAT", "json")
	exp := &levelsExporter{}
	var console bytes.Buffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&console), WithErrorOutput(io.Discard),
		WithTracesExporter("none"), WithMetricsExporter("none"), WithRuntimeMetrics(false),
		WithLogLevel(slog.LevelDebug), WithLogExporter(exp), WithSyncExport())
	if err != nil {
		t.Fatal(err)
	}
	if s := findSetting(t, tel, "logs.level"); s.Value != "INFO" || s.Source != SourceEnv {
		t.Errorf("logs.level = %+v, want INFO from the environment", s)
	}
	if s := findSetting(t, tel, "logs.file.error_path"); s.Value != errPath || s.Source != SourceEnv {
		t.Errorf("logs.file.error_path = %+v, want %s from the environment", s, errPath)
	}
	ctx := context.Background()
	// Plain records take the sink's direct path; a group and a repeated
	// key take the otelslog bridge: both must respect the level.
	for _, log := range []*slog.Logger{tel.Logger("app"), tel.Logger("app").WithGroup("g"), tel.Logger("app").With("k", 1)} {
		log.Debug("debug record", "k", 2)
		log.Info("info record", "k", 2)
		log.Warn("warn record", "k", 2)
		log.Error("error record", "k", 2)
		log.Log(ctx, slog.Level(12), "critical record", "k", 2)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	got := map[string]int{}
	for _, r := range exp.records() {
		if r.severity < otellog.SeverityInfo || r.body == "debug record" {
			t.Errorf("exported below INFO: %+v", r)
		}
		got[r.body+"/"+r.text]++
	}
	for _, want := range []string{"info record/INFO", "warn record/WARN", "error record/ERROR", "critical record/CRITICAL"} {
		if got[want] != 3 {
			t.Errorf("exported %q %d times, want 3 (all exported: %v)", want, got[want], got)
		}
	}
	if strings.Contains(console.String(), "debug record") {
		t.Errorf("DEBUG record on the console at INFO:\n%s", console.String())
	}

	b, err := os.ReadFile(errPath)
	if err != nil {
		t.Fatal(err)
	}
	levels := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("error file line %q: %v", line, err)
		}
		level, _ := rec["level"].(string)
		levels[level]++
		if level != "ERROR" && level != "CRITICAL" {
			t.Errorf("error file holds a %s record: %s", level, line)
		}
		if msg := rec["msg"]; msg != strings.ToLower(level)+" record" {
			t.Errorf("error file record %v", rec)
		}
	}
	if levels["ERROR"] != 3 || levels["CRITICAL"] != 3 {
		t.Errorf("error file levels = %v, want 3 ERROR and 3 CRITICAL:\n%s", levels, b)
	}
}

// TestGapsRuntimeMetricsStopAtShutdown is what TestRuntimeMetricsDoNotPileUp
// cannot be (each Setup there gets a fresh provider and reader, so piled-up
// callbacks would never show): a MeterProvider that outlives every Setup
// is installed as the global, and after several Setup/Shutdown rounds it
// must hold no runtime metric (runtime.Start has no stop: its callbacks
// end only with the provider they were registered on, which must be the
// Setup's own), while each Setup's provider reports one set of runtime
// series and, after Shutdown, can no longer be collected.
func TestGapsRuntimeMetricsStopAtShutdown(t *testing.T) {
	outerReader := sdkmetric.NewManualReader()
	outer := sdkmetric.NewMeterProvider(sdkmetric.WithReader(outerReader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(outer)
	t.Cleanup(func() {
		if isGlobalDelegate(prev) {
			prev = metricnoop.NewMeterProvider()
		}
		otel.SetMeterProvider(prev)
		_ = outer.Shutdown(context.Background())
	})

	var firstSeries int
	for i := 1; i <= 3; i++ {
		reader := sdkmetric.NewManualReader()
		tel, err := Setup(context.Background(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
			WithMetricReader(reader), WithMetricInterval(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := otel.GetMeterProvider(); got != tel.MeterProvider() {
			t.Fatalf("Setup #%d did not install its MeterProvider as the global", i)
		}
		series, goroutines := runtimeSeries(t, reader)
		if goroutines != 1 || series == 0 {
			t.Errorf("Setup #%d: %d runtime series, %d go.goroutine.count points, want some and 1", i, series, goroutines)
		}
		if i == 1 {
			firstSeries = series
		} else if series != firstSeries {
			t.Errorf("Setup #%d: %d runtime series, the first Setup had %d", i, series, firstSeries)
		}
		if n, _ := runtimeSeries(t, outerReader); n != 0 {
			t.Errorf("Setup #%d: %d runtime series on the provider that outlives it", i, n)
		}
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := otel.GetMeterProvider(); got != metric.MeterProvider(outer) {
			t.Fatalf("Shutdown #%d did not give the global MeterProvider back", i)
		}
		// The provider the callbacks belong to is shut down: nothing can
		// run them any more.
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); !errors.Is(err, sdkmetric.ErrReaderShutdown) {
			t.Errorf("Shutdown #%d: Setup's reader still collects (err %v, %d scopes)", i, err, len(rm.ScopeMetrics))
		}
		if n, _ := runtimeSeries(t, outerReader); n != 0 {
			t.Errorf("after Shutdown #%d: %d runtime series on the provider that outlives it", i, n)
		}
	}
}

// runtimeSeries counts the data points of the runtime instrumentation's
// scope, and of go.goroutine.count alone.
func runtimeSeries(t *testing.T, r *sdkmetric.ManualReader) (series, goroutines int) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelruntime.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			var n int
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				n = len(d.DataPoints)
			case metricdata.Sum[float64]:
				n = len(d.DataPoints)
			case metricdata.Gauge[int64]:
				n = len(d.DataPoints)
			case metricdata.Gauge[float64]:
				n = len(d.DataPoints)
			case metricdata.Histogram[float64]:
				n = len(d.DataPoints)
			case metricdata.Histogram[int64]:
				n = len(d.DataPoints)
			default:
				t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
			}
			series += n
			if m.Name == "go.goroutine.count" {
				goroutines += n
			}
		}
	}
	return series, goroutines
}
