package otelsetup

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Option configures [Setup]. Options are the "code" layer of the
// configuration: a configuration file and the environment override them.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// byKey sets a setting from code through the same parser the environment
// and the file use, so every layer validates alike.
func byKey(name, key, value string) Option {
	return optionFunc(func(c *config) error {
		s, _ := settingByKey(key)
		if err := s.set(c, value, nil); err != nil {
			return fmt.Errorf("otelsetup: %s(%q): %w", name, value, err)
		}
		c.sources[key] = SourceCode
		return nil
	})
}

// WithSetting sets any setting by its configuration-file key, such as
// WithSetting("traces.batch.max_queue_size", "4096") or
// WithSetting("logs.file.rotate", "daily"): an option for every setting,
// parsed and validated as the file and the environment are. Settings that
// take a map (exporter.headers, resource.attributes, logs.levels) take the
// environment variable's "k=v,k2=v2" form, and logs.loggers takes
// LOG_LOGGERS's "audit=/var/log/audit.log;level=info;propagate=false". docs/configuration.md lists the
// keys.
func WithSetting(key, value string) Option {
	return optionFunc(func(c *config) error {
		s, ok := settingByKey(key)
		if !ok {
			return fmt.Errorf("otelsetup: WithSetting(%q): unknown key", key)
		}
		if err := s.set(c, value, nil); err != nil {
			shown := strconv.Quote(value)
			if s.secret {
				shown = "(value hidden)"
			}
			return fmt.Errorf("otelsetup: WithSetting(%q, %s): %w", key, shown, err)
		}
		c.sources[key] = SourceCode
		return nil
	})
}

// WithRedaction uses p, built in code, as the redaction policy of logs and
// spans instead of one built from the redaction.* settings.
func WithRedaction(p *redact.Policy) Option {
	return codeOnly(func(c *config) { c.redactPolicy = p })
}

// WithSampling uses p, built in code, as the per-request sampling policy
// instead of one built from the sampling.* settings.
func WithSampling(p *sampling.Policy) Option {
	return codeOnly(func(c *config) { c.samplingPolicy = p })
}

func codeOnly(f func(*config)) Option {
	return optionFunc(func(c *config) error { f(c); return nil })
}

// WithServiceName sets service.name (OTEL_SERVICE_NAME overrides it). The
// default is the executable's name.
func WithServiceName(name string) Option { return byKey("WithServiceName", "service.name", name) }

// WithServiceVersion sets service.version. The default is the main
// module's version from the build information.
func WithServiceVersion(v string) Option {
	return byKey("WithServiceVersion", "service.version", v)
}

// WithEnvironment sets deployment.environment.name, which also picks the
// profile unless [WithProfile] does.
func WithEnvironment(env string) Option {
	return byKey("WithEnvironment", "service.environment", env)
}

// WithProfile selects the defaults of a profile: [ProfileDevelopment] or
// [ProfileProduction].
func WithProfile(p string) Option { return byKey("WithProfile", "profile", p) }

// WithResourceAttributes adds attributes to the resource shared by every
// signal. OTEL_RESOURCE_ATTRIBUTES overrides keys it also sets.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return codeOnly(func(c *config) { c.extraAttrs = append(c.extraAttrs, attrs...) })
}

// WithEndpoint sets the OTLP endpoint of every signal: an http:// or
// https:// URL such as "http://collector:4318", or "http://collector:4317"
// with [WithProtocol]("grpc") (https:// for TLS).
func WithEndpoint(url string) Option { return byKey("WithEndpoint", "exporter.endpoint", url) }

// WithProtocol sets the OTLP protocol: "http/protobuf" (the default),
// "grpc", or "http/json" (traces only: the Go metric and log exporters
// send protobuf only, so Setup fails when they are asked for JSON).
func WithProtocol(p string) Option { return byKey("WithProtocol", "exporter.protocol", p) }

// WithHeaders sets headers sent with every OTLP export. Their values are
// masked in the start-up record.
func WithHeaders(h map[string]string) Option {
	return optionFunc(func(c *config) error {
		c.headers = copyMap(h)
		c.sources["exporter.headers"] = SourceCode
		return nil
	})
}

// WithExportTimeout bounds each OTLP export.
func WithExportTimeout(d time.Duration) Option {
	return byKey("WithExportTimeout", "exporter.timeout", d.String())
}

// WithTracesExporter, WithMetricsExporter and WithLogsExporter choose
// "otlp", "console" or "none" for a signal ("prometheus" for metrics).
func WithTracesExporter(name string) Option {
	return byKey("WithTracesExporter", "traces.exporter", name)
}

// WithMetricsExporter: see [WithTracesExporter].
func WithMetricsExporter(name string) Option {
	return byKey("WithMetricsExporter", "metrics.exporter", name)
}

// WithLogsExporter: see [WithTracesExporter].
func WithLogsExporter(name string) Option {
	return byKey("WithLogsExporter", "logs.exporter", name)
}

// WithSampler sets the trace sampler by its OTEL_TRACES_SAMPLER name and
// argument, such as ("parentbased_traceidratio", "0.25").
func WithSampler(name, arg string) Option {
	return optionFunc(func(c *config) error {
		if err := byKey("WithSampler", "traces.sampler", name).apply(c); err != nil {
			return err
		}
		return byKey("WithSampler", "traces.sampler_arg", arg).apply(c)
	})
}

// WithTraceSampler installs a sampler built in code. Like every option it
// is the code layer: it replaces a sampler named in code ([WithSampler]),
// but traces.sampler in the configuration file or OTEL_TRACES_SAMPLER
// replaces it. A nil s is ignored.
func WithTraceSampler(s sdktrace.Sampler) Option {
	return optionFunc(func(c *config) error {
		if s != nil {
			c.traceSampler = s
			c.sources["traces.sampler"] = SourceCode
		}
		return nil
	})
}

// WithPropagators sets the propagators installed as the global
// propagator, as OTEL_PROPAGATORS names them: a comma-separated list of
// tracecontext, baggage, b3, b3multi, jaeger, xray and ottrace, or none
// (no propagation), such as "tracecontext,baggage,b3". The default is
// "tracecontext,baggage". An unknown name is an error from [Setup].
func WithPropagators(names string) Option {
	return byKey("WithPropagators", "propagators", names)
}

// WithMetricInterval sets how often metrics are exported.
func WithMetricInterval(d time.Duration) Option {
	return byKey("WithMetricInterval", "metrics.interval", d.String())
}

// WithRuntimeMetrics turns Go runtime metrics on or off (on by default).
func WithRuntimeMetrics(on bool) Option {
	return byKey("WithRuntimeMetrics", "metrics.runtime", strconv.FormatBool(on))
}

// WithPrometheus serves metrics in Prometheus' text format on addr
// ("host:port"); use port 0 to serve only through [Telemetry.MetricsHandler].
func WithPrometheus(host string, port int) Option {
	return optionFunc(func(c *config) error {
		for _, o := range []Option{
			byKey("WithPrometheus", "metrics.exporter", "prometheus"),
			byKey("WithPrometheus", "metrics.prometheus.host", host),
			byKey("WithPrometheus", "metrics.prometheus.port", strconv.Itoa(port)),
		} {
			if err := o.apply(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// WithLogLevel sets the default log level (LOG_LEVEL overrides it).
func WithLogLevel(l slog.Level) Option {
	return byKey("WithLogLevel", "logs.level", logbridge.LevelName(l))
}

// WithLogFormat sets the console and file format (LOG_FORMAT overrides it).
func WithLogFormat(f logbridge.Format) Option {
	return byKey("WithLogFormat", "logs.format", f.String())
}

// WithLoggerLevels sets levels per logger name, as LOG_LEVELS does.
func WithLoggerLevels(levels map[string]slog.Level) Option {
	return optionFunc(func(c *config) error {
		m := make(map[string]string, len(levels))
		for k, v := range levels {
			m[k] = logbridge.LevelName(v)
		}
		c.logLevels = m
		c.sources["logs.levels"] = SourceCode
		return nil
	})
}

// WithLogFile writes logs to a rotating file as well as the console.
func WithLogFile(path string) Option { return byKey("WithLogFile", "logs.file.path", path) }

// WithStackTraces adds a stack trace (attribute "stack") to every ERROR
// and CRITICAL record, on every sink (LOG_STACK_TRACES overrides it).
// Records that already carry one, as logbridge.Exception adds, keep theirs.
func WithStackTraces(on bool) Option {
	return byKey("WithStackTraces", "logs.stack_traces", strconv.FormatBool(on))
}

// WithLoggerFile routes the records of the logger name, and of its
// descendants ("audit" covers "audit.login"), to a file of its own at path,
// rotated as the logs.file.* settings say. With propagate false its
// records go to that file only: not to the console, the other files,
// syslog or OTLP, as propagate=False does in Python's logging. The
// logger's own level (logs.level, logs.levels) still decides which records
// are written. Each call adds a route (or replaces the one of the same
// name); logs.loggers in the configuration file or LOG_LOGGERS replaces
// them all. A minimum level for the file alone is set with
// WithSetting("logs.loggers", "audit=/var/log/audit.log;level=warn").
func WithLoggerFile(name, path string, propagate bool) Option {
	return optionFunc(func(c *config) error {
		n := strings.TrimSpace(name)
		r, err := parseRoutes(map[string]string{n + ".file": path, n + ".propagate": strconv.FormatBool(propagate)})
		if err != nil {
			return fmt.Errorf("otelsetup: WithLoggerFile(%q, %q, %t): %w", name, path, propagate, err)
		}
		routes := make(map[string]loggerRoute, len(c.logRoutes)+1)
		for k, v := range c.logRoutes {
			routes[k] = v
		}
		routes[n] = r[n]
		c.logRoutes = routes
		c.sources["logs.loggers"] = SourceCode
		return nil
	})
}

// WithErrorLogFile writes ERROR and CRITICAL records to a file of their own.
func WithErrorLogFile(path string) Option {
	return byKey("WithErrorLogFile", "logs.file.error_path", path)
}

// WithConsole sends console output (logs, and spans and metrics when their
// exporter is "console") to w instead of stdout.
func WithConsole(w io.Writer) Option {
	return codeOnly(func(c *config) { c.console = w })
}

// WithErrorOutput sets where dropped-telemetry and export-error reports
// go (os.Stderr by default).
func WithErrorOutput(w io.Writer) Option {
	return codeOnly(func(c *config) { c.stderr = w })
}

// WithConfigFile reads a YAML configuration file (OTELKIT_CONFIG_FILE
// overrides the path). See docs/configuration.md for its keys.
func WithConfigFile(path string) Option {
	return codeOnly(func(c *config) { c.configFile = path })
}

// WithoutGlobals leaves the OpenTelemetry globals, the propagator and
// slog's default logger alone; use the [Telemetry] accessors instead.
func WithoutGlobals() Option {
	return codeOnly(func(c *config) { c.globals = false })
}

// WithoutEnvironment ignores the environment variables, as the test mode
// does: every setting, OTELKIT_CONFIG_FILE included, and what the OTLP
// exporters would read themselves (headers, compression, certificates,
// metric temporality and aggregation: they are given explicit values).
// Still read, by the OpenTelemetry SDK itself: the span and log record
// limits (OTEL_ATTRIBUTE_*_LIMIT, OTEL_SPAN_*_LIMIT, OTEL_LOGRECORD_*_LIMIT)
// and OTEL_METRICS_EXEMPLAR_FILTER; by Go: SSL_CERT_FILE, SSL_CERT_DIR and
// the proxy variables. See docs/configuration.md.
func WithoutEnvironment() Option {
	return codeOnly(func(c *config) { c.ignoreEnv = true })
}

// WithSpanExporter exports spans to e in place of the configured exporter.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return codeOnly(func(c *config) { c.spanExporter = e })
}

// WithLogExporter exports OTLP log records to e in place of the
// configured exporter.
func WithLogExporter(e sdklog.Exporter) Option {
	return codeOnly(func(c *config) { c.logExporter = e })
}

// WithMetricReader adds a metric reader, such as a manual reader in tests.
func WithMetricReader(r sdkmetric.Reader) Option {
	return codeOnly(func(c *config) { c.metricReaders = append(c.metricReaders, r) })
}

// WithSyncExport exports spans and log records as they end instead of in
// batches. It is for tests: it puts export on the caller's path.
func WithSyncExport() Option {
	return codeOnly(func(c *config) { c.syncExport = true })
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
