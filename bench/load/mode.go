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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The modes, in the order they run within a round.
const (
	modeBare         = "bare"
	modeOTelHTTP     = "otelhttp"
	modeOTelHTTPSlog = "otelhttp_slog"
	modeOtelkit      = "otelkit"
)

var allModes = []string{modeBare, modeOTelHTTP, modeOTelHTTPSlog, modeOtelkit}

// modeDescriptions say what each mode includes; they head the report.
var modeDescriptions = map[string]string{
	modeBare: "http.ServeMux + plain http.Client; no telemetry",
	modeOTelHTTP: "otelhttp.NewHandler + otelhttp.NewTransport; SDK TracerProvider (AlwaysSample, batch span processor, SDK default queue 2048) " +
		"and MeterProvider (periodic reader every " + metricInterval.String() + "), both to discarding exporters; tracecontext+baggage propagation; no log record per request",
	modeOTelHTTPSlog: "what a user would assemble for otelkit's output: the otelhttp mode plus, per request, the same two records otelkit writes " +
		"(request_completed from a handler inside otelhttp, dependency_call from a transport inside otelhttp's), through one slog.Logger " +
		"fanned out (slog.NewMultiHandler) to slog.NewJSONHandler(io.Discard) and the otelslog bridge on an SDK LoggerProvider " +
		"(batch processor, SDK default queue 2048, discarding exporter)",
	modeOtelkit: "otelsetup.Setup (globals on, production profile, AlwaysSample, runtime metrics off, discarding span/log exporters " +
		"behind otelkit's batch processors with its default queues of 8192 spans and 20,480 log records, " +
		"periodic metric reader every " + metricInterval.String() + " to a discarding exporter, JSON console to io.Discard) + httpmw.New + deps.NewClient(\"server\"); " +
		"per request: client+server spans, HTTP client+server metrics, dependency_call and request_completed records (console + OTLP log pipeline)",
}

// metricInterval is the export interval of the periodic metric reader in
// both instrumented modes.
const metricInterval = 10 * time.Second

// stack is one mode's server handler and client, and how to shut their
// telemetry down.
type stack struct {
	handler  http.Handler
	client   *http.Client
	shutdown func(context.Context) error
}

// newStack builds the handler around mux and the client over base for
// mode. Telemetry goes to sink; otelkit's reports of dropped telemetry and
// export errors go to errOut.
func newStack(ctx context.Context, mode string, mux http.Handler, base http.RoundTripper, sink *sink, errOut io.Writer) (*stack, error) {
	switch mode {
	case modeBare:
		return &stack{
			handler:  mux,
			client:   &http.Client{Transport: base},
			shutdown: func(context.Context) error { return nil },
		}, nil

	case modeOTelHTTP, modeOTelHTTPSlog:
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(spanSink{sink}))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(
			sdkmetric.NewPeriodicReader(metricSink{sink}, sdkmetric.WithInterval(metricInterval))))
		prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
		opts := []otelhttp.Option{
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithMeterProvider(mp),
			otelhttp.WithPropagators(prop),
		}
		shutdown := func(ctx context.Context) error {
			return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
		}
		handler, rt := mux, base
		if mode == modeOTelHTTPSlog {
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(logSink{sink})))
			log := slog.New(slog.NewMultiHandler(
				slog.NewJSONHandler(io.Discard, nil),
				otelslog.NewHandler("otelkit-load", otelslog.WithLoggerProvider(lp))))
			handler, rt = logRequests(log, mux), logCalls(log, "server", base)
			shutdown = func(ctx context.Context) error {
				return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx), lp.Shutdown(ctx))
			}
		}
		return &stack{
			handler:  otelhttp.NewHandler(handler, "server", opts...),
			client:   &http.Client{Transport: otelhttp.NewTransport(rt, opts...)},
			shutdown: shutdown,
		}, nil

	case modeOtelkit:
		tel, err := otelsetup.Setup(ctx,
			otelsetup.WithServiceName("otelkit-load"),
			otelsetup.WithoutEnvironment(),
			otelsetup.WithConsole(io.Discard),
			otelsetup.WithErrorOutput(errOut),
			otelsetup.WithSpanExporter(spanSink{sink}),
			otelsetup.WithLogExporter(logSink{sink}),
			otelsetup.WithMetricReader(sdkmetric.NewPeriodicReader(metricSink{sink}, sdkmetric.WithInterval(metricInterval))),
			otelsetup.WithTraceSampler(sdktrace.AlwaysSample()),
			otelsetup.WithRuntimeMetrics(false))
		if err != nil {
			return nil, err
		}
		// Made after Setup, without options, as a service would: they take
		// the providers, propagator, logger, redaction and sampling policy
		// Setup installed.
		return &stack{
			handler:  httpmw.New(mux),
			client:   deps.NewClient("server", &http.Client{Transport: base}),
			shutdown: tel.Shutdown,
		}, nil
	}
	return nil, fmt.Errorf("unknown mode %q (want one of %v)", mode, allModes)
}

// logRequests logs one request_completed record per request, with the
// fields otelkit's record has, as a hand-written middleware would.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request completed",
			slog.String("event", "request_completed"),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", r.Pattern),
			slog.Int("status", rw.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes_in", max(r.ContentLength, 0)),
			slog.Int64("bytes_out", rw.bytes),
			slog.String("content_type", rw.Header().Get("Content-Type")),
			slog.String("client_address", r.RemoteAddr),
			slog.String("user_agent", r.UserAgent()))
	})
}

// statusWriter remembers the status and counts the body bytes.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// logCalls logs one dependency_call record per call, with the fields
// otelkit's record has, as a hand-written transport would.
func logCalls(log *slog.Logger, dependency string, next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		status, level := 0, slog.LevelInfo
		if resp != nil {
			status = resp.StatusCode
		}
		if err != nil || status >= 400 {
			level = slog.LevelWarn
		}
		attrs := [...]slog.Attr{
			slog.String("event", "dependency_call"),
			slog.String("dependency", dependency),
			slog.String("method", r.Method),
			slog.String("url", r.URL.String()),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("retries", 0),
			{},
		}
		n := len(attrs) - 1
		if err != nil {
			attrs[n], n = slog.String("error", err.Error()), n+1
		}
		log.LogAttrs(r.Context(), level, "dependency call", attrs[:n]...)
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newMux is the service under load, the same in every mode: GET
// /items/{id} answers a JSON body of about 100 bytes.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		b := make([]byte, 0, 128)
		b = append(b, `{"id":`...)
		b = strconv.AppendQuote(b, id)
		b = append(b, `,"name":"loopback widget","price":{"amount":1299,"currency":"EUR"},"in_stock":true,"qty":42}`...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	return mux
}

// errNotLoopback is returned by the client's dialer for any address but
// 127.0.0.1.
var errNotLoopback = errors.New("load: refusing to dial a non-loopback address")

// checkLoopback accepts only "127.0.0.1:port".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", errNotLoopback, addr, err)
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("%w: %q", errNotLoopback, addr)
	}
	return nil
}

// newTransport is the base transport of every mode: HTTP/1.1 keep-alive
// with an idle pool large enough for c workers, no proxy, and a dialer
// that refuses anything but 127.0.0.1.
func newTransport(c int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil, // never a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := checkLoopback(addr); err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        2 * c,
		MaxIdleConnsPerHost: 2 * c,
		IdleConnTimeout:     90 * time.Second,
	}
}

// sink counts what reaches the discarding exporters.
type sink struct {
	spans, logs, metricExports atomic.Int64

	// byEvent, when not nil, counts log records by their "event"
	// attribute. Tests set it; the command leaves it nil so the exporter
	// does no more work than discarding.
	mu      sync.Mutex
	byEvent map[string]int
}

// countEvents makes the sinks made by runMode count records by event
// (sink.byEvent), for tests.
var countEvents = false

// spanSink is a span exporter that counts and drops.
type spanSink struct{ s *sink }

func (e spanSink) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.s.spans.Add(int64(len(spans)))
	return nil
}
func (spanSink) Shutdown(context.Context) error { return nil }

// logSink is a log exporter that counts and drops.
type logSink struct{ s *sink }

func (e logSink) Export(_ context.Context, recs []sdklog.Record) error {
	e.s.logs.Add(int64(len(recs)))
	if e.s.byEvent == nil {
		return nil
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	for i := range recs {
		event := ""
		recs[i].WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == "event" {
				event = kv.Value.AsString()
				return false
			}
			return true
		})
		e.s.byEvent[event]++
	}
	return nil
}
func (logSink) Shutdown(context.Context) error   { return nil }
func (logSink) ForceFlush(context.Context) error { return nil }

// metricSink is a metric exporter that counts exports and drops them.
type metricSink struct{ s *sink }

func (metricSink) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}
func (metricSink) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}
func (e metricSink) Export(context.Context, *metricdata.ResourceMetrics) error {
	e.s.metricExports.Add(1)
	return nil
}
func (metricSink) ForceFlush(context.Context) error { return nil }
func (metricSink) Shutdown(context.Context) error   { return nil }

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
