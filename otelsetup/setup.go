package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// owner is the Telemetry that holds the process-wide globals, if any. The
// globals are process-wide by nature; this records who set them so a second
// Setup cannot silently replace them.
var owner atomic.Pointer[Telemetry]

// ErrGlobalsInUse is returned by Setup when another Telemetry still owns
// the globals.
var ErrGlobalsInUse = errors.New("otelsetup: another Setup owns the globals; shut it down first or use WithoutGlobals")

// Setup builds telemetry for the service: one resource, a tracer, meter and
// logger provider with their exporters, the propagators, runtime metrics
// and the slog handler, configured by opts, a configuration file and the
// environment (environment > file > code > defaults). Unless
// [WithoutGlobals], it installs them as the OpenTelemetry globals and
// slog's default. It logs the effective configuration once, at INFO.
//
// On error, everything already built is shut down and the error names the
// setting and value at fault. Call [Telemetry.Shutdown] before exit.
func Setup(ctx context.Context, opts ...Option) (*Telemetry, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{cfg: c}
	if c.globals && !owner.CompareAndSwap(nil, t) {
		return nil, ErrGlobalsInUse
	}
	if err := t.build(ctx, c); err != nil {
		// Shut down what was built; no goroutine is left behind.
		err = errors.Join(err, t.Shutdown(context.Background()))
		if c.globals {
			owner.CompareAndSwap(t, nil)
		}
		return nil, err
	}
	t.logStart()
	return t, nil
}

func (t *Telemetry) build(ctx context.Context, c *config) error {
	console := c.console
	if console == nil {
		console = os.Stdout
		if c.logConsole == "stderr" {
			console = os.Stderr
		}
	}
	// Logs, spans and metrics share the console: one lock for all three.
	console = &lockedWriter{w: console}
	stderr := c.stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	if c.disabled {
		t.tp, t.mp, t.lp = tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider(), lognoop.NewLoggerProvider()
		// The console and files still get records: they are redacted as
		// ever.
		t.redact = c.buildRedaction(t.mp)
		t.handler = t.newHandler(c, console, nil)
		t.installGlobals(c)
		return nil
	}
	rep := newDropReporter(stderr, c.dropReportInterval)
	t.reporter = rep
	// The policy redacts the resource and the metric exporters, so it is
	// built before the meter provider that counts its redactions.
	counterMP := &lateMeterProvider{}
	t.redact = c.buildRedaction(counterMP)
	res, err := buildResource(ctx, c, t.redact)
	if err != nil {
		return fmt.Errorf("otelsetup: resource: %w", err)
	}
	if err := t.buildMetrics(ctx, c, res, console, rep); err != nil {
		return err
	}
	counterMP.set(t.mp)
	// The policy logs through the handler, which needs the policy: break
	// the cycle with a handler that is filled in once built.
	late := &lateHandler{}
	if t.sampling, err = c.buildSampling(t.mp, slog.New(late)); err != nil {
		return err
	}
	if err := t.buildTraces(ctx, c, res, console, rep); err != nil {
		return err
	}
	otlpLogs, err := t.buildLogs(ctx, c, res, rep)
	if err != nil {
		return err
	}
	var lp *sdklog.LoggerProvider
	if otlpLogs {
		lp = t.lp.(validLoggerProvider).LoggerProvider
	}
	t.handler = t.newHandler(c, console, lp)
	late.set(t.handler.Named("otelkit.sampling"))
	if c.runtimeMetrics {
		if err := runtime.Start(runtime.WithMeterProvider(t.mp)); err != nil {
			return fmt.Errorf("otelsetup: runtime metrics: %w", err)
		}
	}
	if err := rep.register(t.mp); err != nil {
		return fmt.Errorf("otelsetup: drop metrics: %w", err)
	}
	t.installGlobals(c)
	return nil
}

func (t *Telemetry) buildTraces(ctx context.Context, c *config, res *resource.Resource, console io.Writer, rep *dropReporter) error {
	name := c.exporterFor(c.tracesExporter, c.tracesEndpoint)
	exp := c.spanExporter
	if exp == nil {
		switch name {
		case "none":
			t.tp = tracenoop.NewTracerProvider()
			return nil
		case "console":
			exp = &consoleSpanExporter{w: console, json: c.logFormat == logbridge.FormatJSON}
		default:
			var err error
			if exp, err = newSpanExporter(ctx, c, t.otlpClient()); err != nil {
				return err
			}
		}
	}
	sampler, err := c.buildSampler()
	if err != nil {
		return err
	}
	abort := newAbortable()
	t.aborts = append(t.aborts, abort)
	queue := c.bspQueue
	if c.syncExport {
		queue = math.MaxInt32 // no queue: nothing to bound
	}
	adm := &admission{limit: int64(queue), drops: rep.counter("spans"), rep: rep}
	t.admissions = append(t.admissions, adm)
	// Every string reaches the wire as valid UTF-8 (wire.go), whatever
	// redaction did before.
	exp = validSpanExporter{exp}
	if t.redact != nil {
		// Span attributes, events (exception messages) and status
		// descriptions get the same policy as logs.
		exp = t.redact.SpanExporter(exp)
	}
	exp = &countingSpanExporter{SpanExporter: exp, adm: adm, abort: abort}
	var sp sdktrace.SpanProcessor
	if c.syncExport {
		sp = sdktrace.NewSimpleSpanProcessor(exp)
	} else {
		sp = sdktrace.NewBatchSpanProcessor(exp,
			sdktrace.WithMaxQueueSize(c.bspQueue),
			sdktrace.WithMaxExportBatchSize(min(c.bspBatch, c.bspQueue)),
			sdktrace.WithBatchTimeout(c.bspDelay),
			sdktrace.WithExportTimeout(c.bspTimeout))
	}
	sp = &guardedSpanProcessor{SpanProcessor: sp, adm: adm}
	// Forced debug from a trusted caller samples the request's trace
	// whatever the configured sampler says.
	sampler = sampling.TraceSampler(sampler)
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(sp))
	t.tp = tp
	t.flushers = append(t.flushers, step{"traces", tp.ForceFlush})
	t.shutdowns = append(t.shutdowns, step{"traces", tp.Shutdown})
	return nil
}

func (t *Telemetry) buildMetrics(ctx context.Context, c *config, res *resource.Resource, console io.Writer, rep *dropReporter) error {
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range c.metricReaders {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	name := c.exporterFor(c.metricsExporter, c.metricsEndpoint)
	drops := rep.counter("metric points")
	abort := newAbortable()
	t.aborts = append(t.aborts, abort)
	// Point and exemplar attributes get the policy of span attributes, in
	// the same pass as the UTF-8 one (redact_metrics.go). Readers given in
	// code get the SDK's data as it is.
	var red *metricRedactor
	if t.redact != nil {
		red = newMetricRedactor(t.redact)
	}
	switch {
	case len(c.metricReaders) > 0 && c.metricsExporter == "" && name == "console":
		// Readers given in code replace the console default; a configured
		// exporter (an endpoint, OTEL_METRICS_EXPORTER) still runs beside them.
	case name == "none":
	case name == "prometheus":
		// The exporter's reader sits on a provider of its own with no
		// instruments; its data come from ours through validProducer,
		// redacted and valid UTF-8 (wire.go).
		reg := prometheus.NewRegistry()
		source := sdkmetric.NewManualReader()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithProducer(validProducer{source, red}))
		if err != nil {
			return fmt.Errorf("otelsetup: prometheus exporter: %w", err)
		}
		opts = append(opts, sdkmetric.WithReader(source))
		promMP := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exp))
		t.shutdowns = append(t.shutdowns, step{"prometheus", promMP.Shutdown})
		// A series the registry still refuses costs itself, not the scrape;
		// the error goes to the OpenTelemetry error handler.
		t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: promErrorLog{}})
		if c.promPort != 0 {
			if err := t.servePrometheus(c); err != nil {
				return err
			}
		}
	default:
		var exp sdkmetric.Exporter = &consoleMetricExporter{w: console, json: c.logFormat == logbridge.FormatJSON}
		if name == "otlp" {
			var err error
			if exp, err = newMetricExporter(ctx, c, t.otlpClient()); err != nil {
				return err
			}
		}
		if red != nil {
			exp = redactingMetricExporter{exp, red}
		} else {
			exp = validMetricExporter{exp}
		}
		exp = &countingMetricExporter{Exporter: exp, drops: drops, rep: rep, abort: abort}
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp,
			sdkmetric.WithInterval(c.metricInterval), sdkmetric.WithTimeout(c.timeout))))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	t.mp = mp
	t.flushers = append(t.flushers, step{"metrics", mp.ForceFlush})
	t.shutdowns = append(t.shutdowns, step{"metrics", mp.Shutdown})
	return nil
}

// otlpClient returns the transports shared by the OTLP/HTTP exporters,
// made on first use; Shutdown closes their idle connections.
func (t *Telemetry) otlpClient() *otlpTransports {
	if t.otlpHTTP == nil {
		t.otlpHTTP = &otlpTransports{}
		t.finals = append(t.finals, func() error {
			t.otlpHTTP.closeIdleConnections()
			return nil
		})
	}
	return t.otlpHTTP
}

func (t *Telemetry) servePrometheus(c *config) error {
	addr := net.JoinHostPort(c.promHost, strconv.Itoa(c.promPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("otelsetup: OTEL_EXPORTER_PROMETHEUS_HOST/PORT %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", t.metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.shutdowns = append(t.shutdowns, step{"metrics endpoint", func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, srv.Close())
		}
		<-done
		return err
	}})
	return nil
}

// buildLogs builds the logger provider; it reports whether records are
// exported (the console sink is the logbridge handler's own).
func (t *Telemetry) buildLogs(ctx context.Context, c *config, res *resource.Resource, rep *dropReporter) (bool, error) {
	name := c.exporterFor(c.logsExporter, c.logsEndpoint)
	exp := c.logExporter
	if exp == nil && name != "otlp" {
		t.lp = lognoop.NewLoggerProvider()
		return false, nil
	}
	if exp == nil {
		var err error
		if exp, err = newLogExporter(ctx, c, t.otlpClient()); err != nil {
			return false, err
		}
	}
	abort := newAbortable()
	t.aborts = append(t.aborts, abort)
	queue, ring := c.blrpQueue, min(c.blrpQueue, logRingSize)
	if c.syncExport {
		queue, ring = math.MaxInt32, math.MaxInt32 // no queue: nothing to bound
	}
	adm := &admission{limit: int64(queue), drops: rep.counter("log records"), rep: rep}
	t.admissions = append(t.admissions, adm)
	q := &logQueue{adm: adm, ring: int64(ring)}
	exp = &countingLogExporter{Exporter: validLogExporter{exp}, adm: adm, queue: q, abort: abort}
	if c.syncExport {
		q.Processor = sdklog.NewSimpleProcessor(exp)
	} else {
		q.Processor = sdklog.NewBatchProcessor(exp,
			sdklog.WithMaxQueueSize(ring),
			sdklog.WithExportMaxBatchSize(min(c.blrpBatch, ring)),
			sdklog.WithExportInterval(c.blrpDelay),
			sdklog.WithExportTimeout(c.blrpTimeout))
	}
	lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res),
		sdklog.WithProcessor(logbridge.NewProcessor(t.redact)),
		sdklog.WithProcessor(q)}
	lp := sdklog.NewLoggerProvider(lpOpts...)
	// A twin over the same processors without the SDK's per-record
	// duplicate-key check, for the records the log handler has checked
	// itself (logbridge.SinkUniqueKeys). The global provider, which other
	// code may use, keeps the check.
	t.uniqueLP = sdklog.NewLoggerProvider(append(lpOpts, sdklog.WithAllowKeyDuplication())...)
	t.lp = validLoggerProvider{lp}
	t.flushers = append(t.flushers, step{"logs", lp.ForceFlush})
	// Shutting the twin down shuts the shared processors down once; the
	// second call finds them stopped.
	t.shutdowns = append(t.shutdowns, step{"logs", func(ctx context.Context) error {
		return errors.Join(lp.Shutdown(ctx), t.uniqueLP.Shutdown(ctx))
	}})
	return true, nil
}

func (t *Telemetry) newHandler(c *config, console io.Writer, lp *sdklog.LoggerProvider) *logbridge.Handler {
	levels := make(map[string]slog.Level, len(c.logLevels))
	for name, l := range c.logLevels {
		levels[name], _ = logbridge.ParseLevel(l) // validated when resolved
	}
	opts := []logbridge.Option{
		logbridge.WithLevel(c.logLevel),
		logbridge.WithLoggerLevels(levels),
		logbridge.WithSource(c.logSource),
	}
	if c.logStackTraces {
		opts = append(opts, logbridge.WithStackTraces(slog.LevelError))
	}
	if c.logConsole == "off" && c.console == nil {
		opts = append(opts, logbridge.WithoutConsole())
	} else {
		opts = append(opts, logbridge.WithConsole(console, logbridge.SinkFormat(c.logFormat), logbridge.SinkAsync(c.logAsyncQueue)))
	}
	rotate := map[string]logbridge.Rotation{"hourly": logbridge.RotateHourly, "daily": logbridge.RotateDaily}[c.logFileRotate]
	file := logbridge.FileOptions{MaxSizeMB: c.logFileMaxSizeMB, MaxBackups: c.logFileMaxBackups, MaxAgeDays: c.logFileMaxAgeDays, Compress: c.logFileCompress, Rotate: rotate}
	async := logbridge.SinkAsync(c.logAsyncQueue)
	if c.logFile != "" {
		opts = append(opts, logbridge.WithFile(c.logFile, file, logbridge.SinkFormat(c.logFormat), async))
	}
	if c.logErrorFile != "" {
		opts = append(opts, logbridge.WithFile(c.logErrorFile, file, logbridge.SinkFormat(c.logFormat), logbridge.SinkLevel(slog.LevelError), async))
	}
	// logs.loggers: a file per named logger (SinkLoggers covers its
	// descendants); propagate=false keeps its records off every other sink.
	var isolated []string
	for _, name := range sortedKeys(c.logRoutes) {
		r := c.logRoutes[name]
		sinkOpts := []logbridge.SinkOption{logbridge.SinkFormat(c.logFormat), logbridge.SinkLoggers(name), async}
		if r.level != "" {
			l, _ := logbridge.ParseLevel(r.level) // validated when resolved
			sinkOpts = append(sinkOpts, logbridge.SinkLevel(l))
		}
		opts = append(opts, logbridge.WithFile(r.file, file, sinkOpts...))
		if !r.propagate {
			isolated = append(isolated, name)
		}
	}
	if len(isolated) > 0 {
		opts = append(opts, logbridge.WithIsolatedLoggers(isolated...))
	}
	if c.syslogNetwork != "" {
		opts = append(opts, logbridge.WithSyslog(logbridge.SyslogOptions{Network: c.syslogNetwork, Address: c.syslogAddr, Facility: c.syslogFacility, AppName: c.serviceName}, async))
	}
	if lp != nil {
		opts = append(opts, logbridge.WithOTLP(lp, logbridge.SinkUniqueKeys(t.uniqueLP)))
	}
	if t.mp != nil {
		opts = append(opts, logbridge.WithMeterProvider(t.mp))
	}
	if t.sampling != nil {
		opts = append(opts, logbridge.WithSampling(t.sampling))
	}
	if t.redact != nil {
		opts = append(opts, logbridge.WithRedaction(t.redact))
	} else {
		opts = append(opts, logbridge.WithoutRedaction())
	}
	if c.stderr != nil {
		opts = append(opts, logbridge.WithErrorOutput(c.stderr, c.dropReportInterval))
	}
	return logbridge.NewHandler(opts...)
}

func (t *Telemetry) installGlobals(c *config) {
	t.logger = slog.New(t.handler)
	if !c.globals {
		return
	}
	prevTP, prevMP, prevLP := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetLoggerProvider()
	prevProp, prevSlog, prevEH := otel.GetTextMapPropagator(), slog.Default(), otel.GetErrorHandler()
	// slog.SetDefault also points the log package at the handler, and
	// setting the previous logger back does not undo that when it is slog's
	// own default: log's output and flags are put back by hand.
	prevLogOut, prevLogFlags := log.Writer(), log.Flags()

	otel.SetTracerProvider(t.tp)
	otel.SetMeterProvider(t.mp)
	otel.SetLoggerProvider(t.lp)
	otel.SetTextMapPropagator(c.buildPropagator())
	if t.reporter != nil {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(t.reporter.handleError))
	}
	slog.SetDefault(t.logger)

	t.finals = append(t.finals, func() error {
		// The OpenTelemetry globals cannot be set back to their initial
		// delegating values, so those become no-ops.
		if isGlobalDelegate(prevTP) {
			prevTP = tracenoop.NewTracerProvider()
		}
		if isGlobalDelegate(prevMP) {
			prevMP = metricnoop.NewMeterProvider()
		}
		if isGlobalDelegate(prevLP) {
			prevLP = lognoop.NewLoggerProvider()
		}
		if isGlobalDelegate(prevProp) {
			prevProp = propagation.NewCompositeTextMapPropagator()
		}
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetLoggerProvider(prevLP)
		otel.SetTextMapPropagator(prevProp)
		if !isGlobalDelegate(prevEH) {
			otel.SetErrorHandler(prevEH)
		} else {
			otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { fmt.Fprintln(os.Stderr, "otel:", err) }))
		}
		slog.SetDefault(prevSlog)
		log.SetOutput(prevLogOut)
		log.SetFlags(prevLogFlags)
		owner.CompareAndSwap(t, nil)
		return nil
	})
}

func isGlobalDelegate(v any) bool {
	if v == nil {
		return true
	}
	typ := reflect.TypeOf(v)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	return strings.HasPrefix(typ.PkgPath(), "go.opentelemetry.io/otel/internal/global") ||
		strings.HasPrefix(typ.PkgPath(), "go.opentelemetry.io/otel/log/internal/global")
}

// buildRedaction makes the one redaction policy of logs, spans, HTTP
// middleware and dependency calls; nil when redaction is disabled.
func (c *config) buildRedaction(mp metric.MeterProvider) *redact.Policy {
	if c.redactOff {
		return nil
	}
	if c.redactPolicy != nil {
		return c.redactPolicy
	}
	opts := []redact.Option{
		redact.WithMeterProvider(mp),
		// The debug token is a credential.
		redact.WithDeniedHeaders(c.debugHeader),
		redact.WithEmailRule(c.redactEmail),
		redact.WithIPRule(c.redactIP),
		redact.WithDropQuery(c.redactDropQuery),
	}
	if c.redactKeys != "" {
		opts = append(opts, redact.WithSensitiveKeys(strings.Split(c.redactKeys, ",")...))
	}
	if c.redactAllowHeaders != "" {
		opts = append(opts, redact.WithAllowedHeaders(strings.Split(c.redactAllowHeaders, ",")...))
	}
	if c.redactDenyHeaders != "" {
		opts = append(opts, redact.WithDeniedHeaders(strings.Split(c.redactDenyHeaders, ",")...))
	}
	if c.redactHash != "" {
		opts = append(opts, redact.WithHashKey([]byte(c.redactHash)))
	}
	return redact.New(opts...)
}

// buildSampling makes the per-request sampling policy shared by the log
// handler, the trace sampler and the HTTP middleware.
func (c *config) buildSampling(mp metric.MeterProvider, logger *slog.Logger) (*sampling.Policy, error) {
	if c.samplingPolicy != nil {
		return c.samplingPolicy, nil
	}
	opts := []sampling.Option{
		sampling.WithHeader(c.debugHeader),
		sampling.WithMeterProvider(mp),
		sampling.WithLogger(logger),
		sampling.WithRatio(c.debugRatio),
	}
	if c.debugSecret != "" {
		opts = append(opts, sampling.WithSecret([]byte(c.debugSecret)))
	}
	if c.debugPeers != "" {
		opts = append(opts, sampling.WithAllowedPeers(splitList(c.debugPeers)...))
	}
	if c.trustedProxies != "" {
		opts = append(opts, sampling.WithTrustedProxies(splitList(c.trustedProxies)...))
	}
	if c.tailEnabled {
		opts = append(opts, sampling.WithTailBuffer(c.tailMaxRecords, c.tailMaxBytes), sampling.WithTailSlow(c.tailSlow))
	}
	p, err := sampling.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("otelsetup: sampling: %w", err)
	}
	return p, nil
}

// lockedWriter serialises writes to a writer shared by several exporters
// and the log handler; each Write is one whole line or batch of lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Unwrap returns the console behind the lock, so logbridge sees a terminal
// there and colours the text format (logbridge.WriterUnwrapper).
func (l *lockedWriter) Unwrap() io.Writer { return l.w }

// lateHandler forwards to a handler set after it was handed out; until
// then it drops records.
type lateHandler struct {
	h atomic.Pointer[logbridge.Handler]
}

func (l *lateHandler) set(h *logbridge.Handler) { l.h.Store(h) }

func (l *lateHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	h := l.h.Load()
	return h != nil && h.Enabled(ctx, lv)
}

func (l *lateHandler) Handle(ctx context.Context, r slog.Record) error {
	if h := l.h.Load(); h != nil {
		return h.Handle(ctx, r)
	}
	return nil
}

func (l *lateHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lateAttrs{l: l, attrs: attrs}
}

func (l *lateHandler) WithGroup(name string) slog.Handler {
	return &lateAttrs{l: l, group: name}
}

// lateAttrs applies WithAttrs/WithGroup at each call, since the target may
// not exist yet when they are made.
type lateAttrs struct {
	l      *lateHandler
	parent slog.Handler
	attrs  []slog.Attr
	group  string
}

func (a *lateAttrs) target() slog.Handler {
	var h slog.Handler
	if a.parent != nil {
		h = a.parent.(*lateAttrs).target()
	} else if t := a.l.h.Load(); t != nil {
		h = t
	}
	if h == nil {
		return nil
	}
	if a.group != "" {
		return h.WithGroup(a.group)
	}
	return h.WithAttrs(a.attrs)
}

func (a *lateAttrs) Enabled(ctx context.Context, lv slog.Level) bool {
	h := a.target()
	return h != nil && h.Enabled(ctx, lv)
}

func (a *lateAttrs) Handle(ctx context.Context, r slog.Record) error {
	if h := a.target(); h != nil {
		return h.Handle(ctx, r)
	}
	return nil
}

func (a *lateAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lateAttrs{l: a.l, parent: a, attrs: attrs}
}

func (a *lateAttrs) WithGroup(name string) slog.Handler {
	return &lateAttrs{l: a.l, parent: a, group: name}
}

// buildPropagator makes the propagator OTEL_PROPAGATORS names, through
// contrib's autoprop registry: tracecontext, baggage, b3, b3multi, jaeger,
// xray, ottrace; "none" (even beside other names) or an empty list
// propagates nothing. The names were checked when the configuration was
// resolved.
func (c *config) buildPropagator() propagation.TextMapPropagator {
	p, err := autoprop.TextMapPropagator(splitList(c.propagators)...)
	if err != nil || p == nil {
		// Not reached: validate rejected unknown names.
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return p
}

// buildSampler returns the configured sampler. A sampler given in code
// ([WithTraceSampler]) is the code layer, so traces.sampler from the file
// or the environment replaces it (environment > file > code > default).
func (c *config) buildSampler() (sdktrace.Sampler, error) {
	if c.codeSamplerInForce() {
		return c.traceSampler, nil
	}
	ratio := 1.0
	if c.samplerArg != "" && strings.HasSuffix(c.sampler, "traceidratio") {
		r, err := strconv.ParseFloat(strings.TrimSpace(c.samplerArg), 64)
		if err != nil {
			return nil, fmt.Errorf("otelsetup: OTEL_TRACES_SAMPLER_ARG=%q: %w", c.samplerArg, err)
		}
		ratio = r
	}
	switch c.sampler {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
}

// logStart writes the start-up record: the exporters in force, then every
// setting not at its default with its source, secrets masked. (The whole
// configuration, defaults included, is [Telemetry.Settings].)
func (t *Telemetry) logStart() {
	attrs := make([]any, 0, len(settings))
	for _, s := range t.Settings() {
		if s.Source == SourceDefault || s.Value == "" {
			continue
		}
		attrs = append(attrs, slog.String(s.Key, s.Value+" ("+string(s.Source)+")"))
	}
	c := t.cfg
	if c.disabled {
		t.logStartRecord(
			slog.String("traces", "disabled (OTEL_SDK_DISABLED)"), slog.String("metrics", "disabled (OTEL_SDK_DISABLED)"),
			slog.String("logs", "console only"), slog.Group("config", attrs...))
		return
	}
	traces := t.describe(c.exporterFor(c.tracesExporter, c.tracesEndpoint), "traces")
	if c.spanExporter != nil {
		traces = "exporter given in code"
	}
	metrics := t.describe(c.exporterFor(c.metricsExporter, c.metricsEndpoint), "metrics")
	if len(c.metricReaders) > 0 {
		if c.metricsExporter == "" && metrics == "console" {
			metrics = "readers given in code"
		} else {
			metrics += " and readers given in code"
		}
	}
	logs := t.describe(c.exporterFor(c.logsExporter, c.logsEndpoint), "logs")
	if c.logExporter != nil {
		logs = "console and an exporter given in code"
	} else if logs == "console" || logs == "none" {
		logs = "console only"
	}
	t.logStartRecord(
		slog.String("traces", traces), slog.String("metrics", metrics), slog.String("logs", logs),
		slog.Group("config", attrs...))
}

// startLogger is the logger name of the start-up record.
const startLogger = "otelkit"

// logStartRecord writes the start-up record whatever the log level.
//
// The record says which configuration is in force and where telemetry
// goes; it is the first thing one looks for when telemetry is missing, and
// that is often in production at LOG_LEVEL=warn. So, like the start-up
// banners of servers and collectors, it is written once whatever the
// level, and it keeps its true severity, INFO: raising it to WARN to get
// it past the filter would set off alerts and warning counts on every
// start. The level is lifted for the otelkit logger only for this one
// record (a sink's own minimum, such as the error file's, still applies),
// then put back as it was; Setup has not returned yet, so nothing else is
// logging through that logger.
func (t *Telemetry) logStartRecord(attrs ...any) {
	levels := t.handler.Levels()
	if levels.Effective(startLogger) > slog.LevelInfo {
		prev, had := levels.Get(startLogger)
		if err := levels.Set(startLogger, slog.LevelInfo); err == nil {
			defer func() {
				if had {
					_ = levels.Set(startLogger, prev)
				} else {
					_ = levels.Delete(startLogger)
				}
			}()
		}
	}
	t.handler.Logger(startLogger).Info("telemetry started", attrs...)
}

// describe names an exporter and, for OTLP, where it sends.
func (t *Telemetry) describe(exporter, signal string) string {
	if exporter != "otlp" {
		return exporter
	}
	s := t.cfg.otlpSignal(signal)
	return "otlp " + s.protocol + " " + maskURL(t.cfg.signalURL(s))
}
