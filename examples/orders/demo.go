package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// demoSecret signs the demo's debug tokens. It is a demo value, set in code
// so the demo runs without configuration; a real service sets
// OTELKIT_DEBUG_HEADER_SECRET.
const demoSecret = "demo-only-debug-secret-not-for-production"

// step is one scripted request.
type step struct {
	what    string
	method  string
	path    string
	body    string
	headers map[string]string
}

func script(debugToken string) []step {
	alice := map[string]string{"Authorization": "Bearer demo-token-alice"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"Authorization": "Bearer demo-token-alice"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var s []step
	for i := 1; i <= 6; i++ {
		s = append(s, step{what: "normal", method: "GET", path: fmt.Sprintf("/orders/o-%d", 1000+i), headers: alice})
	}
	s = append(s,
		step{"secrets in query and headers", "GET", "/orders/o-1007?api_key=fake-demo-key-123&currency=EUR", "", with(map[string]string{"Cookie": "session=fake-session-cookie-456", "X-Api-Key": "fake-api-key-789"})},
		step{"order with a card number and a password in the body", "POST", "/orders", `{"sku":"sku-7","qty":1,"card_number":"4111 1111 1111 1111","password":"fake-hunter2"}`, alice},
		step{"slow", "GET", "/orders/o-1008?slow=1", "", alice},
		step{"not found (404)", "GET", "/orders/missing", "", alice},
		step{"validation error (400)", "POST", "/orders", `{"sku":"sku-1","qty":0}`, alice},
		step{"no token (401)", "GET", "/orders/o-1009", "", nil},
		step{"wrong token (401)", "GET", "/orders/o-1010", "", map[string]string{"Authorization": "Bearer wrong-token"}},
		step{"dependency down after a retry (500, one CRITICAL record)", "GET", "/orders/o-1011?fail=1", "", alice},
		step{"panic (500)", "GET", "/panic", "", alice},
		step{"trusted debug (signed token)", "GET", "/orders/o-1012", "", with(map[string]string{"X-Debug-Log": debugToken})},
		step{"untrusted debug (forged token)", "GET", "/orders/o-1013", "", with(map[string]string{"X-Debug-Log": "1999999999.forged-signature"})},
		step{"liveness probe", "GET", "/healthz", "", nil},
		step{"readiness probe", "GET", "/readyz", "", nil},
	)
	for i := 1; i <= 4; i++ {
		s = append(s, step{what: "normal", method: "GET", path: fmt.Sprintf("/orders/o-%d", 1100+i), headers: alice})
	}
	return s
}

// runDemo starts both services on loopback in this process, drives the
// script against orders, and prints a summary. The orders service owns the
// globals; the inventory service gets its telemetry through options, as a
// library or a second service in one process would.
func runDemo(ctx context.Context) (err error) {
	common := []otelsetup.Option{
		otelsetup.WithServiceVersion("0.2.0"),
		otelsetup.WithEnvironment("demo"),
		otelsetup.WithLogFormat(logbridge.FormatText),
		otelsetup.WithLogLevel(slog.LevelInfo),
		otelsetup.WithSetting("sampling.debug_secret", demoSecret),
		otelsetup.WithSetting("sampling.tail.enabled", "true"),
	}
	if quietSpans() {
		common = append(common, otelsetup.WithSpanExporter(discardSpans{}))
	}
	ordersReader, invReader := sdkmetric.NewManualReader(), sdkmetric.NewManualReader()
	ordersTel, err := otelsetup.Setup(ctx, append(common, otelsetup.WithServiceName("orders"), otelsetup.WithMetricReader(ordersReader))...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, shutdown(ctx, ordersTel)) }()
	invTel, err := otelsetup.Setup(ctx, append(common, otelsetup.WithServiceName("inventory"), otelsetup.WithMetricReader(invReader), otelsetup.WithoutGlobals())...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, shutdown(ctx, invTel)) }()

	inv := &services{tel: invTel, log: invTel.Logger("inventory"), mw: []httpmw.Option{
		httpmw.WithLogger(invTel.Logger("http")),
		httpmw.WithTracerProvider(invTel.TracerProvider()),
		httpmw.WithMeterProvider(invTel.MeterProvider()),
		httpmw.WithSampling(invTel.Sampling()),
		httpmw.WithRedaction(invTel.Redaction()),
	}}
	invLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ordersLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		invLn.Close()
		return err
	}
	orders := &services{tel: ordersTel, log: ordersTel.Logger("orders"),
		// Credentials in a dependency URL never reach a log or a span.
		inventoryURL: "http://svc:fake-inventory-pass@" + invLn.Addr().String(),
		inventory:    deps.NewClient("inventory", nil, deps.WithRetry(deps.RetryPolicy{MaxAttempts: 2, Backoff: 20 * time.Millisecond})),
	}

	sctx, stopServers := context.WithCancel(ctx)
	defer stopServers()
	served := make(chan error, 2)
	go func() { served <- serve(sctx, invLn, inv.inventoryHandler(), inv.log) }()
	go func() { served <- serve(sctx, ordersLn, orders.ordersHandler(), orders.log) }()

	token, err := ordersTel.Sampling().SignToken(time.Now().Add(time.Minute))
	if err != nil {
		return err
	}
	results := drive(ctx, "http://"+ordersLn.Addr().String(), script(token), ordersTel.Redaction().URLString)
	stopServers()
	err = errors.Join(<-served, <-served)

	// Flush what is buffered so the console log is complete before the
	// summary, then read the counters for it.
	_ = ordersTel.ForceFlush(context.Background())
	_ = invTel.ForceFlush(context.Background())
	printSummary(os.Stdout, results, []*sdkmetric.ManualReader{ordersReader, invReader}, []*otelsetup.Telemetry{ordersTel, invTel})
	return err
}

// quietSpans reports whether spans should be recorded but not printed:
// with no collector configured and no exporter asked for, the console shows
// the log lines, which carry their trace and span IDs.
// OTEL_TRACES_EXPORTER=console prints one line per span instead.
func quietSpans() bool {
	return os.Getenv("OTEL_TRACES_EXPORTER") == "" &&
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == ""
}

// discardSpans is a span exporter that drops spans.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

type result struct {
	step     step
	status   int
	duration time.Duration
	err      error
}

// drive sends the script's requests one by one and shows progress on stderr.
// The progress line shows each path through redact, as the logs do.
func drive(ctx context.Context, base string, steps []step, redactURL func(string) string) []result {
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var out []result
	for i, s := range steps {
		if ctx.Err() != nil {
			break
		}
		req, err := http.NewRequestWithContext(ctx, s.method, base+s.path, strings.NewReader(s.body))
		if err != nil {
			out = append(out, result{step: s, err: err})
			continue
		}
		for k, v := range s.headers {
			req.Header.Set(k, v)
		}
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		resp, err := client.Do(req)
		r := result{step: s, duration: time.Since(start), err: err}
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r.status = resp.StatusCode
		}
		out = append(out, r)
		fmt.Fprintf(os.Stderr, "demo [%2d/%d] %-4s %-40s -> %s in %v (%s)\n", i+1, len(steps), s.method, redactURL(s.path), statusText(r), r.duration.Round(time.Millisecond), s.what)
	}
	return out
}

func statusText(r result) string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprint(r.status)
}

// printSummary writes the table the demo ends with.
func printSummary(w io.Writer, results []result, readers []*sdkmetric.ManualReader, tels []*otelsetup.Telemetry) {
	byStatus := map[string]int{}
	var durations []time.Duration
	for _, r := range results {
		byStatus[statusText(r)]++
		durations = append(durations, r.duration)
	}
	slices.Sort(durations)
	var depCalls, depFailures, redacted int64
	for _, rd := range readers {
		var rm metricdata.ResourceMetrics
		if err := rd.Collect(context.Background(), &rm); err != nil {
			continue
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				switch m.Name {
				case "http.client.request.duration", "otelkit.dependency.duration":
					for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
						depCalls += int64(p.Count)
						if _, failed := p.Attributes.Value("error.type"); failed {
							depFailures += int64(p.Count)
						}
					}
				case "otelkit.redact.count":
					for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
						redacted += p.Value
					}
				}
			}
		}
	}
	var honoured, untrusted, emitted, discarded uint64
	for _, tel := range tels {
		st := tel.Sampling().Stats()
		honoured, untrusted = honoured+st.DebugHonoured, untrusted+st.DebugUntrusted
		emitted, discarded = emitted+st.TailEmitted, discarded+st.TailDiscarded
	}

	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSUMMARY\t")
	fmt.Fprintf(tw, "requests\t%d\n", len(results))
	statuses := make([]string, 0, len(byStatus))
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	for _, s := range statuses {
		fmt.Fprintf(tw, "  status %s\t%d\n", s, byStatus[s])
	}
	fmt.Fprintf(tw, "latency p50 / p95\t%v / %v\n", percentile(durations, 50), percentile(durations, 95))
	fmt.Fprintf(tw, "dependency calls / failed\t%d / %d\n", depCalls, depFailures)
	fmt.Fprintf(tw, "values redacted\t%d\n", redacted)
	fmt.Fprintf(tw, "debug requests honoured / ignored\t%d / %d\n", honoured, untrusted)
	fmt.Fprintf(tw, "tail-buffered DEBUG records emitted / discarded\t%d / %d\n", emitted, discarded)
	tw.Flush()
	_, _ = w.Write(b.Bytes())
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))].Round(100 * time.Microsecond)
}
