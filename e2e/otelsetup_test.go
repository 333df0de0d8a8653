package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/otelsetup"
)

const (
	serviceName    = "e2e-orders"
	serviceVersion = "1.2.3"
)

// syncBuffer is a console writer the SDK may write from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// linesContaining returns the console lines that contain s.
func (b *syncBuffer) linesContaining(s string) []string {
	var out []string
	for line := range strings.Lines(b.String()) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return out
}

// opts returns the options every test starts from: a known service, no globals, the console
// into console, and all signals to endpoint over protocol.
func opts(protocol, endpoint string, console io.Writer) []otelsetup.Option {
	return []otelsetup.Option{
		otelsetup.WithServiceName(serviceName),
		otelsetup.WithServiceVersion(serviceVersion),
		otelsetup.WithoutGlobals(),
		otelsetup.WithConsole(console),
		otelsetup.WithEndpoint(endpoint),
		otelsetup.WithProtocol(protocol),
	}
}

// setup calls otelsetup.Setup and makes sure the result is shut down when the test ends, even
// if it fails first. Tests that check Shutdown call it themselves; the second call must be harmless.
func setup(t *testing.T, o ...otelsetup.Option) *otelsetup.Telemetry {
	t.Helper()
	tel, err := otelsetup.Setup(context.Background(), o...)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = tel.Shutdown(ctx)
	})
	return tel
}

func flush(t *testing.T, tel *otelsetup.Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := tel.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
}

func shutdown(t *testing.T, tel *otelsetup.Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// waitBody waits for at least n records with the given body and returns them.
func waitBody(t *testing.T, col *collector, body string, n int) []logRecord {
	t.Helper()
	var got []logRecord
	if !eventually(func() bool {
		got = logsWithBody(flattenLogs(col.Logs.AllLogs()), body)
		return len(got) >= n
	}) {
		t.Fatalf("collector received %d records with body %q in %v, want %d (all bodies: %v)",
			len(got), body, waitTimeout, n, bodies(flattenLogs(col.Logs.AllLogs())))
	}
	return got
}

func bodies(recs []logRecord) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Body)
	}
	return out
}

func TestLogsInSpanCarryTraceAndSpanIDs(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			tel := setup(t, opts(protocol, col.Endpoint(protocol), io.Discard)...)
			logger := tel.Logger("e2e")

			ctx, parent := tel.TracerProvider().Tracer("e2e").Start(context.Background(), "parent")
			logger.InfoContext(ctx, "in parent")
			childCtx, child := tel.TracerProvider().Tracer("e2e").Start(ctx, "child")
			logger.WarnContext(childCtx, "in child")
			child.End()
			parent.End()
			logger.InfoContext(context.Background(), "outside any span")
			flush(t, tel)

			for _, c := range []struct {
				body        string
				trace, span string
			}{
				{"in parent", parent.SpanContext().TraceID().String(), parent.SpanContext().SpanID().String()},
				{"in child", child.SpanContext().TraceID().String(), child.SpanContext().SpanID().String()},
				{"outside any span", "", ""},
			} {
				r := waitBody(t, col, c.body, 1)[0]
				if r.TraceID != c.trace || r.SpanID != c.span {
					t.Errorf("%q: trace/span = %q/%q, want %q/%q", c.body, r.TraceID, r.SpanID, c.trace, c.span)
				}
			}
		})
	}
}

func TestSeverityNumberAndText(t *testing.T) {
	tests := []struct {
		level slog.Level
		num   plog.SeverityNumber
		text  string
	}{
		{slog.LevelDebug, plog.SeverityNumberDebug, "DEBUG"},
		{slog.LevelInfo, plog.SeverityNumberInfo, "INFO"},
		{slog.LevelWarn, plog.SeverityNumberWarn, "WARN"},
		{slog.LevelError, plog.SeverityNumberError, "ERROR"},
		{slog.Level(12), plog.SeverityNumberFatal, "CRITICAL"},
	}
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			tel := setup(t, append(opts(protocol, col.Endpoint(protocol), io.Discard),
				otelsetup.WithLogLevel(slog.LevelDebug))...)
			logger := tel.Logger("e2e")
			ctx, sp := tel.TracerProvider().Tracer("e2e").Start(context.Background(), "levels")

			var want []int
			for i, tt := range tests {
				if !logger.Enabled(ctx, tt.level) {
					t.Errorf("%v not enabled with WithLogLevel(slog.LevelDebug)", tt.level)
					continue
				}
				logger.Log(ctx, tt.level, "level "+tt.text)
				want = append(want, i)
			}
			sp.End()
			flush(t, tel)

			for _, i := range want {
				tt := tests[i]
				r := waitBody(t, col, "level "+tt.text, 1)[0]
				if r.SeverityNumber != tt.num || r.SeverityText != tt.text {
					t.Errorf("slog level %d: severity = %d %q, want %d %q",
						tt.level, r.SeverityNumber, r.SeverityText, tt.num, tt.text)
				}
				if r.TraceID != sp.SpanContext().TraceID().String() {
					t.Errorf("slog level %d: trace_id = %q, want %q", tt.level, r.TraceID, sp.SpanContext().TraceID())
				}
			}
		})
	}
}

func TestResourceCarriesServiceNameAndVersion(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			tel := setup(t, opts(protocol, col.Endpoint(protocol), io.Discard)...)
			ctx, sp := tel.TracerProvider().Tracer("e2e").Start(context.Background(), "resource")
			tel.Logger("e2e").InfoContext(ctx, "resource check")
			counter, err := tel.MeterProvider().Meter("e2e").Int64Counter("e2e.resource.checks")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(ctx, 1)
			sp.End()
			flush(t, tel)

			check := func(signal string, res map[string]any) {
				t.Helper()
				if res["service.name"] != serviceName || res["service.version"] != serviceVersion {
					t.Errorf("%s resource: service.name=%v service.version=%v, want %q %q (resource %v)",
						signal, res["service.name"], res["service.version"], serviceName, serviceVersion, res)
				}
			}
			check("log", waitBody(t, col, "resource check", 1)[0].Resource)
			s, ok := spanNamed(col.waitSpans(t, 1), "resource")
			if !ok {
				t.Fatal("span \"resource\" not received")
			}
			check("span", s.Resource)
			for _, m := range col.waitMetrics(t, "e2e.resource.checks") {
				if m.Name == "e2e.resource.checks" {
					check("metric", m.Resource)
				}
			}
		})
	}
}

func TestSpansArriveWithNames(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			tel := setup(t, opts(protocol, col.Endpoint(protocol), io.Discard)...)
			tracer := tel.TracerProvider().Tracer("e2e-tracer")
			ctx, root := tracer.Start(context.Background(), "GET /orders/{id}")
			_, child := tracer.Start(ctx, "load order")
			child.End()
			root.End()
			flush(t, tel)

			spans := col.waitSpans(t, 2)
			r, okR := spanNamed(spans, "GET /orders/{id}")
			c, okC := spanNamed(spans, "load order")
			if !okR || !okC {
				t.Fatalf("spans = %+v, want \"GET /orders/{id}\" and \"load order\"", spans)
			}
			if c.TraceID != r.TraceID || c.ParentSpanID != r.SpanID {
				t.Errorf("child trace/parent = %s/%s, want %s/%s", c.TraceID, c.ParentSpanID, r.TraceID, r.SpanID)
			}
			if r.Scope != "e2e-tracer" {
				t.Errorf("scope = %q, want e2e-tracer", r.Scope)
			}
		})
	}
}

// TestMetricsArriveOnInterval records a counter and waits for the periodic reader (no
// ForceFlush) to deliver it, with runtime metrics if otelsetup turns them on.
func TestMetricsArriveOnInterval(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			tel := setup(t, append(opts(protocol, col.Endpoint(protocol), io.Discard),
				otelsetup.WithMetricInterval(200*time.Millisecond))...)
			counter, err := tel.MeterProvider().Meter("e2e").Int64Counter("e2e.orders.created")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(context.Background(), 5)

			ms := col.waitMetrics(t, "e2e.orders.created")
			var runtime []string
			for name := range metricNames(ms) {
				if strings.HasPrefix(name, "go.") || strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "process.runtime.") {
					runtime = append(runtime, name)
				}
			}
			if len(runtime) == 0 {
				t.Logf("no runtime metrics received (metrics: %v)", sortedKeys(metricNames(ms)))
			} else {
				t.Logf("runtime metrics: %d, e.g. %s", len(runtime), runtime[0])
			}
		})
	}
}

// TestBurstBeforeShutdownAllArrive logs a burst just before Shutdown: a clean shutdown must
// deliver every buffered record (DESIGN.md: the SDK's defaults lose about two thirds of 10,000).
func TestBurstBeforeShutdownAllArrive(t *testing.T) {
	for _, n := range []int{1_000, 10_000} {
		for _, protocol := range protocols {
			t.Run(strconv.Itoa(n)+"/"+protocol, func(t *testing.T) {
				if n > 1_000 && testing.Short() {
					t.Skip("short mode")
				}
				col := startCollector(t)
				tel := setup(t, opts(protocol, col.Endpoint(protocol), io.Discard)...)
				logger := tel.Logger("burst")
				for i := range n {
					logger.Info("burst", "i", i)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				start := time.Now()
				if err := tel.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				t.Logf("Shutdown took %v", time.Since(start).Round(time.Millisecond))

				// Shutdown returns after the last export was answered, so everything is there now.
				got := uniqueBurst(col)
				if got != n {
					eventually(func() bool { return uniqueBurst(col) >= n })
					t.Fatalf("%d of %d records had arrived when Shutdown returned; %d after waiting %v",
						got, n, uniqueBurst(col), waitTimeout)
				}
			})
		}
	}
}

// uniqueBurst counts the distinct "i" attributes of the burst records received.
func uniqueBurst(col *collector) int {
	seen := make(map[any]bool)
	for _, r := range logsWithBody(flattenLogs(col.Logs.AllLogs()), "burst") {
		seen[r.Attrs["i"]] = true
	}
	return len(seen)
}

// downCases are the two ways a collector can be unreachable: dead (port closed) and stuck
// (accepts connections, never answers).
var downCases = []struct {
	name     string
	endpoint func(testing.TB) string
}{
	{"refused", downEndpoint},
	{"hung", hungEndpoint},
}

// logWhileDown sets up telemetry towards an unreachable endpoint, with export errors and drop
// reports going to errOut, and logs n records, a span and a counter. It fails the test if
// recording blocked.
func logWhileDown(t *testing.T, protocol, endpoint string, errOut io.Writer, n int) *otelsetup.Telemetry {
	t.Helper()
	tel := setup(t, append(opts(protocol, endpoint, io.Discard), otelsetup.WithErrorOutput(errOut))...)
	logger := tel.Logger("down")
	counter, err := tel.MeterProvider().Meter("down").Int64Counter("down.calls")
	if err != nil {
		t.Fatal(err)
	}
	// A call that blocks on export shows as one slow call; a busy machine slows them all a little.
	var slowest time.Duration
	slowestAt := -1
	start := time.Now()
	ctx, sp := tel.TracerProvider().Tracer("down").Start(context.Background(), "down")
	for i := range n {
		t0 := time.Now()
		logger.InfoContext(ctx, "while down", "i", i)
		if d := time.Since(t0); d > slowest {
			slowest, slowestAt = d, i
		}
	}
	counter.Add(ctx, 1)
	sp.End()
	total := time.Since(start)
	if slowest > time.Second {
		t.Errorf("logging record %d with the collector unreachable took %v (all %d: %v): recording blocks on export",
			slowestAt, slowest, n, total)
	}
	return tel
}

// TestShutdownBoundedWhenCollectorDown checks that an unreachable collector neither blocks
// logging nor holds Shutdown past its deadline, and that nothing keeps running afterwards.
func TestShutdownBoundedWhenCollectorDown(t *testing.T) {
	for _, dc := range downCases {
		for _, protocol := range protocols {
			t.Run(dc.name+"/"+protocol, func(t *testing.T) {
				endpoint := dc.endpoint(t)
				before := goleak.IgnoreCurrent()
				errOut := new(syncBuffer)
				tel := logWhileDown(t, protocol, endpoint, errOut, 1_000)

				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				start := time.Now()
				err := tel.Shutdown(ctx)
				d := time.Since(start)
				t.Logf("Shutdown took %v, returned: %v", d.Round(time.Millisecond), err)
				if d > 2500*time.Millisecond {
					t.Errorf("Shutdown with a 2 s deadline took %v, want at most 2.5 s", d)
				}
				if err == nil {
					t.Errorf("Shutdown returned nil with the collector %s", dc.name)
				}
				goleak.VerifyNone(t, before)
			})
		}
	}
}

var droppedLogs = regexp.MustCompile(`otelkit: dropped (\d+) log records`)

// TestShutdownReportsLossWhenCollectorDown checks that records lost because the collector is
// unreachable are counted and reported (DESIGN.md: dropped telemetry is never silent) by the
// time Shutdown returns.
func TestShutdownReportsLossWhenCollectorDown(t *testing.T) {
	const n = 1_000
	for _, dc := range downCases {
		for _, protocol := range protocols {
			t.Run(dc.name+"/"+protocol, func(t *testing.T) {
				errOut := new(syncBuffer)
				tel := logWhileDown(t, protocol, dc.endpoint(t), errOut, n)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = tel.Shutdown(ctx)

				reported := 0
				for _, m := range droppedLogs.FindAllStringSubmatch(errOut.String(), -1) {
					k, _ := strconv.Atoi(m[1])
					reported += k
				}
				if reported < n {
					t.Errorf("%d records lost, %d reported as dropped when Shutdown returned; error output:\n%s",
						n, reported, errOut)
				}
			})
		}
	}
}

// TestConsoleLinesCarrySameTraceID checks the console and OTLP copies of one record agree on
// trace_id and span_id.
func TestConsoleLinesCarrySameTraceID(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			console := new(syncBuffer)
			tel := setup(t, opts(protocol, col.Endpoint(protocol), console)...)
			ctx, sp := tel.TracerProvider().Tracer("e2e").Start(context.Background(), "console")
			tel.Logger("e2e").InfoContext(ctx, "console and otlp")
			sp.End()
			flush(t, tel)

			r := waitBody(t, col, "console and otlp", 1)[0]
			if r.TraceID == "" {
				t.Fatal("OTLP record has no trace_id")
			}
			lines := console.linesContaining("console and otlp")
			if len(lines) != 1 {
				t.Fatalf("console lines with the message = %q, want 1 (console:\n%s)", lines, console)
			}
			line := lines[0]
			t.Logf("console: %s", line)
			if !strings.Contains(line, "trace_id") || !strings.Contains(line, r.TraceID) {
				t.Errorf("console line %q lacks trace_id %s of the OTLP record", line, r.TraceID)
			}
			if !strings.Contains(line, "span_id") || !strings.Contains(line, r.SpanID) {
				t.Errorf("console line %q lacks span_id %s of the OTLP record", line, r.SpanID)
			}
		})
	}
}

// TestShutdownLeavesNoGoroutines checks that after Shutdown nothing otelsetup started is still
// running: processors, readers, runtime metrics, exporters and their connections. The collector
// is still up, so a keep-alive connection left open shows up too.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			before := goleak.IgnoreCurrent()
			tel := setup(t, append(opts(protocol, col.Endpoint(protocol), io.Discard),
				otelsetup.WithMetricInterval(100*time.Millisecond))...)
			ctx, sp := tel.TracerProvider().Tracer("leak").Start(context.Background(), "leak")
			tel.Logger("leak").InfoContext(ctx, "leak check")
			sp.End()
			col.waitMetrics(t) // at least one periodic export, so every exporter has connected
			shutdown(t, tel)
			if len(logsWithBody(flattenLogs(col.Logs.AllLogs()), "leak check")) != 1 {
				t.Error("record logged before Shutdown did not arrive")
			}

			if err := goleak.Find(before); err != nil {
				if strings.Contains(err.Error(), "net/http.(*persistConn)") {
					t.Errorf("idle OTLP/HTTP keep-alive connections are left open after Shutdown "+
						"(the exporters' HTTP client is never told to CloseIdleConnections): %v", err)
				} else {
					t.Errorf("goroutines left after Shutdown: %v", err)
				}
			}

			// A second Shutdown must return at once, whatever it returns.
			ctx2, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			_ = tel.Shutdown(ctx2)
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("second Shutdown took %v", d)
			}
		})
	}
}

// TestEnvironmentConfiguresExport checks the standard variables alone route every signal to
// the collector, and that they win over options given in code.
func TestEnvironmentConfiguresExport(t *testing.T) {
	for _, protocol := range protocols {
		for _, withCode := range []bool{false, true} {
			name := protocol + "/env-only"
			if withCode {
				name = protocol + "/env-over-code"
			}
			t.Run(name, func(t *testing.T) {
				col := startCollector(t)
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint(protocol))
				t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
				t.Setenv("OTEL_SERVICE_NAME", "from-env")
				o := []otelsetup.Option{otelsetup.WithoutGlobals(), otelsetup.WithConsole(io.Discard)}
				if withCode {
					other := protoGRPC
					if protocol == protoGRPC {
						other = protoHTTP
					}
					o = append(o,
						otelsetup.WithServiceName("from-code"),
						otelsetup.WithEndpoint(downEndpoint(t)),
						otelsetup.WithProtocol(other))
				}
				tel := setup(t, o...)
				ctx, sp := tel.TracerProvider().Tracer("env").Start(context.Background(), "env span")
				tel.Logger("env").InfoContext(ctx, "env record")
				sp.End()
				flush(t, tel)

				r := waitBody(t, col, "env record", 1)[0]
				if r.Resource["service.name"] != "from-env" {
					t.Errorf("service.name = %v, want from-env", r.Resource["service.name"])
				}
				if r.TraceID != sp.SpanContext().TraceID().String() {
					t.Errorf("trace_id = %q, want %q", r.TraceID, sp.SpanContext().TraceID())
				}
				if _, ok := spanNamed(col.waitSpans(t, 1), "env span"); !ok {
					t.Error("span \"env span\" not received")
				}
			})
		}
	}
}

// TestGlobalsReachCollector checks the default path: without WithoutGlobals, slog's default
// logger and otel's global tracer provider are the ones Setup built.
func TestGlobalsReachCollector(t *testing.T) {
	prevLogger := slog.Default()
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		slog.SetDefault(prevLogger)
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
	})

	col := startCollector(t)
	tel := setup(t,
		otelsetup.WithServiceName(serviceName),
		otelsetup.WithConsole(io.Discard),
		otelsetup.WithEndpoint(col.Endpoint(protoHTTP)),
		otelsetup.WithProtocol(protoHTTP))

	ctx, sp := otel.Tracer("global").Start(context.Background(), "global span")
	slog.InfoContext(ctx, "global record")
	sp.End()

	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if carrier["traceparent"] == "" {
		t.Errorf("global propagator injects no traceparent: %v", carrier)
	}
	if second, err := otelsetup.Setup(context.Background(), otelsetup.WithConsole(io.Discard)); err == nil {
		t.Error("a second Setup while the first owns the globals succeeded")
		_ = second.Shutdown(context.Background())
	}

	flush(t, tel)
	r := waitBody(t, col, "global record", 1)[0]
	if r.TraceID != sp.SpanContext().TraceID().String() || r.SpanID != sp.SpanContext().SpanID().String() {
		t.Errorf("trace/span = %s/%s, want %s/%s", r.TraceID, r.SpanID, sp.SpanContext().TraceID(), sp.SpanContext().SpanID())
	}
	if _, ok := spanNamed(col.waitSpans(t, 1), "global span"); !ok {
		t.Error("span \"global span\" not received")
	}
	shutdown(t, tel)
}
