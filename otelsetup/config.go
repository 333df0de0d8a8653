package otelsetup

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"sort"
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

// Source says where the value of a setting came from.
type Source string

// The sources, from lowest to highest precedence.
const (
	SourceDefault Source = "default"
	SourceProfile Source = "profile"
	SourceCode    Source = "code"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
)

// Profile names a set of defaults for an environment.
const (
	ProfileDevelopment = "development" // text logs at DEBUG on the console
	ProfileProduction  = "production"  // JSON logs at INFO
)

// config is the resolved configuration. Every field that can be set from
// the environment or a file is described by a setting in settings.
type config struct {
	serviceName, serviceVersion, environment, profile string
	resourceAttrs                                     map[string]string

	disabled bool

	endpoint                                      string
	tracesEndpoint, metricsEndpoint, logsEndpoint string
	protocol                                      string
	tracesProtocol, metricsProtocol, logsProtocol string
	headers                                       map[string]string
	tracesHeaders, metricsHeaders, logsHeaders    map[string]string
	timeout                                       time.Duration
	tracesTimeout, metricsTimeout, logsTimeout    time.Duration
	// otlpTLS holds the certificate files of the general OTLP settings
	// and of each signal, in the order of otlpSignals; insecure likewise.
	otlpTLS                                       [4]tlsFiles
	insecure                                      [4]bool
	tracesExporter, metricsExporter, logsExporter string
	sampler, samplerArg                           string
	propagators                                   string
	metricInterval                                time.Duration
	promHost                                      string
	promPort                                      int
	bspDelay, bspTimeout, blrpDelay, blrpTimeout  time.Duration
	bspQueue, bspBatch, blrpQueue, blrpBatch      int
	runtimeMetrics                                bool
	dropReportInterval                            time.Duration

	logLevel              slog.Level
	logFormat             logbridge.Format
	logLevels             map[string]string
	logSource             bool
	logStackTraces        bool
	logConsole            string
	logFile, logErrorFile string
	logFileMaxSizeMB      int
	logFileMaxBackups     int
	logFileMaxAgeDays     int
	logFileCompress       bool
	logFileRotate         string
	logRoutes             map[string]loggerRoute
	logAsyncQueue         int
	syslogNetwork         string
	syslogAddr            string
	syslogFacility        int

	debugHeader, debugSecret     string
	debugPeers, trustedProxies   string
	debugRatio                   float64
	tailEnabled                  bool
	tailMaxRecords, tailMaxBytes int
	tailSlow                     time.Duration

	redactKeys, redactAllowHeaders string
	redactDenyHeaders, redactHash  string
	redactEmail, redactIP          bool
	redactDropQuery, redactOff     bool

	// Set in code only.
	configFile     string
	ignoreEnv      bool
	globals        bool
	console        io.Writer
	stderr         io.Writer
	extraAttrs     []attribute.KeyValue
	spanExporter   sdktrace.SpanExporter
	logExporter    sdklog.Exporter
	metricReaders  []sdkmetric.Reader
	traceSampler   sdktrace.Sampler
	syncExport     bool
	redactPolicy   *redact.Policy
	samplingPolicy *sampling.Policy

	sources map[string]Source
}

// kind is how a setting's raw value is shaped.
type kind int

const (
	scalar kind = iota
	mapping
	// routes is a mapping of names to mappings of fields (logs.loggers):
	// the file gives it flattened, "name.field" to value.
	routes
)

// setting is one configurable value: its key in the configuration file, its
// environment variable, how to parse it and how to show it at start-up.
type setting struct {
	key    string
	env    string
	kind   kind
	secret bool
	set    func(c *config, s string, m map[string]string) error
	show   func(c *config) string
}

func str(key, env string, f func(*config) *string, valid ...string) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			s = strings.TrimSpace(s)
			if len(valid) > 0 && !contains(valid, strings.ToLower(s)) {
				return fmt.Errorf("want one of %s", strings.Join(valid, ", "))
			}
			if len(valid) > 0 {
				s = strings.ToLower(s)
			}
			*f(c) = s
			return nil
		},
		show: func(c *config) string { return *f(c) },
	}
}

func endpoint(key, env string, f func(*config) *string) setting {
	s := str(key, env, f)
	s.set = func(c *config, v string, _ map[string]string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			if err := validEndpoint(v); err != nil {
				return err
			}
		}
		*f(c) = v
		return nil
	}
	s.show = func(c *config) string { return maskURL(*f(c)) }
	return s
}

func integer(key, env string, f func(*config) *int, min int) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("want an integer")
			}
			if n < min {
				return fmt.Errorf("want an integer of at least %d", min)
			}
			*f(c) = n
			return nil
		},
		show: func(c *config) string { return strconv.Itoa(*f(c)) },
	}
}

func boolean(key, env string, f func(*config) *bool) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("want true or false")
			}
			*f(c) = b
			return nil
		},
		show: func(c *config) string { return strconv.FormatBool(*f(c)) },
	}
}

// millis parses a duration the way the OpenTelemetry variables give it: a
// whole number of milliseconds; a Go duration such as "5s" is accepted too.
func millis(key, env string, f func(*config) *time.Duration) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			d, err := parseMillis(s)
			if err != nil {
				return err
			}
			*f(c) = d
			return nil
		},
		show: func(c *config) string { return f(c).String() },
	}
}

func parseMillis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		d = time.Duration(n) * time.Millisecond
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("want milliseconds or a duration such as 5s")
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration")
	}
	return d, nil
}

func keyValues(key, env string, f func(*config) *map[string]string, secret bool) setting {
	return setting{key: key, env: env, kind: mapping, secret: secret,
		set: func(c *config, s string, m map[string]string) error {
			if m == nil {
				var err error
				if m, err = parseKeyValues(s); err != nil {
					return err
				}
			}
			*f(c) = m
			return nil
		},
		show: func(c *config) string { return showMap(*f(c), secret) },
	}
}

// list is a comma-separated list of names.
func list(key, env string, f func(*config) *string) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			var out []string
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			*f(c) = strings.Join(out, ",")
			return nil
		},
		show: func(c *config) string { return *f(c) },
	}
}

// cidrs is a comma-separated list of CIDR prefixes or addresses.
func cidrs(key, env string, f func(*config) *string) setting {
	return setting{key: key, env: env,
		set: func(c *config, s string, _ map[string]string) error {
			for _, p := range splitList(s) {
				if _, err := netip.ParsePrefix(p); err == nil {
					continue
				}
				if _, err := netip.ParseAddr(p); err != nil {
					return fmt.Errorf("%q is not an address or CIDR prefix", p)
				}
			}
			*f(c) = strings.Join(splitList(s), ",")
			return nil
		},
		show: func(c *config) string { return *f(c) },
	}
}

// codeSampler shows the sampler given by [WithTraceSampler] while it is
// in force, that is while no file or environment value overrides it.
func codeSampler(s setting) setting {
	show := s.show
	s.show = func(c *config) string {
		if c.codeSamplerInForce() {
			return "WithTraceSampler: " + c.traceSampler.Description()
		}
		return show(c)
	}
	return s
}

// codeSamplerInForce reports whether the sampler given in code is the one
// used: traces.sampler was last set in code, not by the file or the
// environment, which take precedence over code.
func (c *config) codeSamplerInForce() bool {
	return c.traceSampler != nil && c.sourceOf("traces.sampler") == SourceCode
}

// settings lists every value that the environment and the configuration
// file can set, in the order the start-up record shows them.
var settings = []setting{
	str("service.name", "OTEL_SERVICE_NAME", func(c *config) *string { return &c.serviceName }),
	str("service.version", "OTELKIT_SERVICE_VERSION", func(c *config) *string { return &c.serviceVersion }),
	str("service.environment", "OTELKIT_ENVIRONMENT", func(c *config) *string { return &c.environment }),
	str("profile", "OTELKIT_PROFILE", func(c *config) *string { return &c.profile }, ProfileDevelopment, ProfileProduction),
	keyValues("resource.attributes", "OTEL_RESOURCE_ATTRIBUTES", func(c *config) *map[string]string { return &c.resourceAttrs }, false),
	boolean("disabled", "OTEL_SDK_DISABLED", func(c *config) *bool { return &c.disabled }),

	endpoint("exporter.endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", func(c *config) *string { return &c.endpoint }),
	endpoint("exporter.traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", func(c *config) *string { return &c.tracesEndpoint }),
	endpoint("exporter.metrics_endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", func(c *config) *string { return &c.metricsEndpoint }),
	endpoint("exporter.logs_endpoint", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", func(c *config) *string { return &c.logsEndpoint }),
	str("exporter.protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", func(c *config) *string { return &c.protocol }, "http/protobuf", "http/json", "grpc"),
	str("exporter.traces_protocol", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", func(c *config) *string { return &c.tracesProtocol }, "http/protobuf", "http/json", "grpc"),
	str("exporter.metrics_protocol", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", func(c *config) *string { return &c.metricsProtocol }, "http/protobuf", "http/json", "grpc"),
	str("exporter.logs_protocol", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", func(c *config) *string { return &c.logsProtocol }, "http/protobuf", "http/json", "grpc"),
	keyValues("exporter.headers", "OTEL_EXPORTER_OTLP_HEADERS", func(c *config) *map[string]string { return &c.headers }, true),
	keyValues("exporter.traces_headers", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", func(c *config) *map[string]string { return &c.tracesHeaders }, true),
	keyValues("exporter.metrics_headers", "OTEL_EXPORTER_OTLP_METRICS_HEADERS", func(c *config) *map[string]string { return &c.metricsHeaders }, true),
	keyValues("exporter.logs_headers", "OTEL_EXPORTER_OTLP_LOGS_HEADERS", func(c *config) *map[string]string { return &c.logsHeaders }, true),
	millis("exporter.timeout", "OTEL_EXPORTER_OTLP_TIMEOUT", func(c *config) *time.Duration { return &c.timeout }),
	millis("exporter.traces_timeout", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", func(c *config) *time.Duration { return &c.tracesTimeout }),
	millis("exporter.metrics_timeout", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", func(c *config) *time.Duration { return &c.metricsTimeout }),
	millis("exporter.logs_timeout", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", func(c *config) *time.Duration { return &c.logsTimeout }),
	str("exporter.certificate", "OTEL_EXPORTER_OTLP_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[0].ca }),
	str("exporter.client_certificate", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[0].cert }),
	str("exporter.client_key", "OTEL_EXPORTER_OTLP_CLIENT_KEY", func(c *config) *string { return &c.otlpTLS[0].key }),
	boolean("exporter.insecure", "OTEL_EXPORTER_OTLP_INSECURE", func(c *config) *bool { return &c.insecure[0] }),
	str("exporter.traces_certificate", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[1].ca }),
	str("exporter.traces_client_certificate", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[1].cert }),
	str("exporter.traces_client_key", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", func(c *config) *string { return &c.otlpTLS[1].key }),
	boolean("exporter.traces_insecure", "OTEL_EXPORTER_OTLP_TRACES_INSECURE", func(c *config) *bool { return &c.insecure[1] }),
	str("exporter.metrics_certificate", "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[2].ca }),
	str("exporter.metrics_client_certificate", "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[2].cert }),
	str("exporter.metrics_client_key", "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", func(c *config) *string { return &c.otlpTLS[2].key }),
	boolean("exporter.metrics_insecure", "OTEL_EXPORTER_OTLP_METRICS_INSECURE", func(c *config) *bool { return &c.insecure[2] }),
	str("exporter.logs_certificate", "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[3].ca }),
	str("exporter.logs_client_certificate", "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", func(c *config) *string { return &c.otlpTLS[3].cert }),
	str("exporter.logs_client_key", "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", func(c *config) *string { return &c.otlpTLS[3].key }),
	boolean("exporter.logs_insecure", "OTEL_EXPORTER_OTLP_LOGS_INSECURE", func(c *config) *bool { return &c.insecure[3] }),

	str("traces.exporter", "OTEL_TRACES_EXPORTER", func(c *config) *string { return &c.tracesExporter }, "otlp", "console", "none"),
	codeSampler(str("traces.sampler", "OTEL_TRACES_SAMPLER", func(c *config) *string { return &c.sampler },
		"always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio")),
	str("traces.sampler_arg", "OTEL_TRACES_SAMPLER_ARG", func(c *config) *string { return &c.samplerArg }),
	millis("traces.batch.schedule_delay", "OTEL_BSP_SCHEDULE_DELAY", func(c *config) *time.Duration { return &c.bspDelay }),
	millis("traces.batch.export_timeout", "OTEL_BSP_EXPORT_TIMEOUT", func(c *config) *time.Duration { return &c.bspTimeout }),
	integer("traces.batch.max_queue_size", "OTEL_BSP_MAX_QUEUE_SIZE", func(c *config) *int { return &c.bspQueue }, 1),
	integer("traces.batch.max_export_batch_size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", func(c *config) *int { return &c.bspBatch }, 1),
	str("propagators", "OTEL_PROPAGATORS", func(c *config) *string { return &c.propagators }),

	str("metrics.exporter", "OTEL_METRICS_EXPORTER", func(c *config) *string { return &c.metricsExporter }, "otlp", "console", "none", "prometheus"),
	millis("metrics.interval", "OTEL_METRIC_EXPORT_INTERVAL", func(c *config) *time.Duration { return &c.metricInterval }),
	str("metrics.prometheus.host", "OTEL_EXPORTER_PROMETHEUS_HOST", func(c *config) *string { return &c.promHost }),
	integer("metrics.prometheus.port", "OTEL_EXPORTER_PROMETHEUS_PORT", func(c *config) *int { return &c.promPort }, 0),
	boolean("metrics.runtime", "OTELKIT_RUNTIME_METRICS", func(c *config) *bool { return &c.runtimeMetrics }),

	str("logs.exporter", "OTEL_LOGS_EXPORTER", func(c *config) *string { return &c.logsExporter }, "otlp", "console", "none"),
	millis("logs.batch.schedule_delay", "OTEL_BLRP_SCHEDULE_DELAY", func(c *config) *time.Duration { return &c.blrpDelay }),
	millis("logs.batch.export_timeout", "OTEL_BLRP_EXPORT_TIMEOUT", func(c *config) *time.Duration { return &c.blrpTimeout }),
	integer("logs.batch.max_queue_size", "OTEL_BLRP_MAX_QUEUE_SIZE", func(c *config) *int { return &c.blrpQueue }, 1),
	integer("logs.batch.max_export_batch_size", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", func(c *config) *int { return &c.blrpBatch }, 1),
	{key: "logs.level", env: "LOG_LEVEL",
		set: func(c *config, s string, _ map[string]string) error {
			l, err := logbridge.ParseLevel(s)
			c.logLevel = l
			return err
		},
		show: func(c *config) string { return logbridge.LevelName(c.logLevel) }},
	{key: "logs.format", env: "LOG_FORMAT",
		set: func(c *config, s string, _ map[string]string) error {
			f, err := logbridge.ParseFormat(strings.TrimSpace(s))
			c.logFormat = f
			return err
		},
		show: func(c *config) string { return c.logFormat.String() }},
	{key: "logs.levels", env: "LOG_LEVELS", kind: mapping,
		set: func(c *config, s string, m map[string]string) error {
			if m == nil {
				parsed, err := logbridge.ParseLevels(s)
				if err != nil {
					return err
				}
				m = make(map[string]string, len(parsed))
				for k, v := range parsed {
					m[k] = logbridge.LevelName(v)
				}
			}
			canon := make(map[string]string, len(m))
			for name, l := range m {
				lvl, err := logbridge.ParseLevel(l)
				if err != nil {
					return fmt.Errorf("logger %q: %w", name, err)
				}
				canon[name] = logbridge.LevelName(lvl)
			}
			c.logLevels = canon
			return nil
		},
		show: func(c *config) string { return showMap(c.logLevels, false) }},
	boolean("logs.source", "LOG_SOURCE", func(c *config) *bool { return &c.logSource }),
	boolean("logs.stack_traces", "LOG_STACK_TRACES", func(c *config) *bool { return &c.logStackTraces }),
	str("logs.console", "LOG_CONSOLE", func(c *config) *string { return &c.logConsole }, "stdout", "stderr", "off"),
	str("logs.file.path", "LOG_FILE", func(c *config) *string { return &c.logFile }),
	str("logs.file.error_path", "LOG_ERROR_FILE", func(c *config) *string { return &c.logErrorFile }),
	integer("logs.file.max_size_mb", "LOG_FILE_MAX_SIZE_MB", func(c *config) *int { return &c.logFileMaxSizeMB }, 1),
	integer("logs.file.max_backups", "LOG_FILE_MAX_BACKUPS", func(c *config) *int { return &c.logFileMaxBackups }, 0),
	integer("logs.file.max_age_days", "LOG_FILE_MAX_AGE_DAYS", func(c *config) *int { return &c.logFileMaxAgeDays }, 0),
	boolean("logs.file.compress", "LOG_FILE_COMPRESS", func(c *config) *bool { return &c.logFileCompress }),
	{key: "logs.loggers", env: "LOG_LOGGERS", kind: routes,
		set: func(c *config, s string, m map[string]string) error {
			if m == nil {
				var err error
				if m, err = parseRouteList(s); err != nil {
					return err
				}
			}
			r, err := parseRoutes(m)
			if err != nil {
				return err
			}
			c.logRoutes = r
			return nil
		},
		show: func(c *config) string { return showRoutes(c.logRoutes) }},
	str("sampling.debug_header", "OTELKIT_DEBUG_HEADER", func(c *config) *string { return &c.debugHeader }),
	{key: "sampling.debug_secret", env: "OTELKIT_DEBUG_HEADER_SECRET", secret: true,
		set: func(c *config, s string, _ map[string]string) error {
			if len(s) < 16 {
				return fmt.Errorf("want at least 16 bytes")
			}
			c.debugSecret = s
			return nil
		},
		show: func(c *config) string {
			if c.debugSecret == "" {
				return ""
			}
			return "****"
		}},
	cidrs("sampling.allowed_peers", "OTELKIT_DEBUG_ALLOWED_PEERS", func(c *config) *string { return &c.debugPeers }),
	cidrs("sampling.trusted_proxies", "OTELKIT_TRUSTED_PROXIES", func(c *config) *string { return &c.trustedProxies }),
	{key: "sampling.ratio", env: "OTELKIT_DEBUG_RATIO",
		set: func(c *config, s string, _ map[string]string) error {
			r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || r < 0 || r > 1 || r != r {
				return fmt.Errorf("want a ratio between 0 and 1")
			}
			c.debugRatio = r
			return nil
		},
		show: func(c *config) string { return strconv.FormatFloat(c.debugRatio, 'g', -1, 64) }},
	boolean("sampling.tail.enabled", "OTELKIT_TAIL_BUFFER", func(c *config) *bool { return &c.tailEnabled }),
	integer("sampling.tail.max_records", "OTELKIT_TAIL_MAX_RECORDS", func(c *config) *int { return &c.tailMaxRecords }, 1),
	integer("sampling.tail.max_bytes", "OTELKIT_TAIL_MAX_BYTES", func(c *config) *int { return &c.tailMaxBytes }, 1024),
	millis("sampling.tail.slow", "OTELKIT_TAIL_SLOW", func(c *config) *time.Duration { return &c.tailSlow }),
	str("logs.file.rotate", "LOG_FILE_ROTATE", func(c *config) *string { return &c.logFileRotate }, "never", "hourly", "daily"),
	integer("logs.async_queue", "LOG_ASYNC_QUEUE", func(c *config) *int { return &c.logAsyncQueue }, 0),
	str("logs.syslog.network", "LOG_SYSLOG_NETWORK", func(c *config) *string { return &c.syslogNetwork }, "unix", "unixgram", "udp", "tcp"),
	str("logs.syslog.address", "LOG_SYSLOG_ADDRESS", func(c *config) *string { return &c.syslogAddr }),
	integer("logs.syslog.facility", "LOG_SYSLOG_FACILITY", func(c *config) *int { return &c.syslogFacility }, 0),
	list("redaction.keys", "OTELKIT_REDACT_KEYS", func(c *config) *string { return &c.redactKeys }),
	list("redaction.allowed_headers", "OTELKIT_REDACT_ALLOWED_HEADERS", func(c *config) *string { return &c.redactAllowHeaders }),
	list("redaction.denied_headers", "OTELKIT_REDACT_DENIED_HEADERS", func(c *config) *string { return &c.redactDenyHeaders }),
	{key: "redaction.hash_key", env: "OTELKIT_REDACT_HASH_KEY", secret: true,
		set: func(c *config, s string, _ map[string]string) error {
			if len(s) < 16 {
				return fmt.Errorf("want at least 16 bytes")
			}
			c.redactHash = s
			return nil
		},
		show: func(c *config) string {
			if c.redactHash == "" {
				return ""
			}
			return "****"
		}},
	boolean("redaction.email", "OTELKIT_REDACT_EMAIL", func(c *config) *bool { return &c.redactEmail }),
	boolean("redaction.ip", "OTELKIT_REDACT_IP", func(c *config) *bool { return &c.redactIP }),
	boolean("redaction.drop_query", "OTELKIT_REDACT_DROP_QUERY", func(c *config) *bool { return &c.redactDropQuery }),
	boolean("redaction.disabled", "OTELKIT_REDACT_DISABLED", func(c *config) *bool { return &c.redactOff }),
	millis("telemetry.drop_report_interval", "OTELKIT_DROP_REPORT_INTERVAL", func(c *config) *time.Duration { return &c.dropReportInterval }),
}

func settingByKey(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// defaults returns the configuration before any source is applied.
func defaults() config {
	return config{
		protocol:           "http/protobuf",
		timeout:            10 * time.Second,
		sampler:            "parentbased_always_on",
		propagators:        "tracecontext,baggage",
		metricInterval:     60 * time.Second,
		promHost:           "localhost",
		promPort:           9464,
		bspDelay:           5 * time.Second,
		bspTimeout:         30 * time.Second,
		bspQueue:           8192,
		bspBatch:           512,
		blrpDelay:          time.Second,
		blrpTimeout:        30 * time.Second,
		blrpQueue:          20480,
		blrpBatch:          512,
		runtimeMetrics:     true,
		dropReportInterval: 10 * time.Second,
		debugHeader:        "X-Debug-Log",
		tailMaxRecords:     256,
		tailMaxBytes:       256 << 10,
		logLevel:           slog.LevelInfo,
		logFormat:          logbridge.FormatJSON,
		logConsole:         "stdout",
		logFileMaxSizeMB:   100,
		logFileMaxBackups:  7,
		logFileMaxAgeDays:  30,
		logFileRotate:      "never",
		syslogFacility:     1,
		globals:            true,
		sources:            map[string]Source{},
	}
}

// applyProfile sets the defaults of the named profile.
func (c *config) applyProfile() {
	switch c.profile {
	case ProfileDevelopment:
		c.logLevel, c.logFormat = slog.LevelDebug, logbridge.FormatText
		c.metricInterval = 10 * time.Second
		for _, k := range []string{"logs.level", "logs.format", "metrics.interval"} {
			c.sources[k] = SourceProfile
		}
	}
}

// profileFor picks a profile from a deployment environment name.
func profileFor(env string) string {
	switch strings.ToLower(env) {
	case "dev", "development", "local", "test":
		return ProfileDevelopment
	}
	return ProfileProduction
}

func validEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("want an http:// or https:// URL")
	}
	if u.Host == "" {
		return fmt.Errorf("missing host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("invalid port %q", p)
		}
	}
	return nil
}

// parseKeyValues parses the W3C-baggage-like lists of
// OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS: key=value pairs
// separated by commas, values percent-encoded.
func parseKeyValues(s string) (map[string]string, error) {
	m := make(map[string]string)
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("want key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %q is not percent-encoded correctly", k)
		}
		m[k] = dv
	}
	return m, nil
}

func showMap(m map[string]string, secret bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		if secret {
			b.WriteString("****")
		} else {
			b.WriteString(m[k])
		}
	}
	return b.String()
}

// maskURL hides userinfo and query values of an endpoint.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return s
	}
	if u.User != nil {
		u.User = url.UserPassword("****", "****")
	}
	if u.RawQuery != "" {
		u.RawQuery = "****"
	}
	return u.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loggerRoute sends the records of a named logger, and of its descendants,
// to a file of its own (logs.loggers).
type loggerRoute struct {
	file      string
	level     string // canonical level name; "" takes what the logger lets through
	propagate bool   // also to the root sinks (console, files, syslog, OTLP)
}

// routeFields are the fields of one logs.loggers entry.
var routeFields = []string{"file", "level", "propagate"}

// subKeyError is an error about one part of a structured setting, such as
// "audit.level" of logs.loggers; the configuration file reports it at that
// part's line and key.
type subKeyError struct {
	sub string
	err error
}

func (e *subKeyError) Error() string { return e.sub + ": " + e.err.Error() }
func (e *subKeyError) Unwrap() error { return e.err }

// parseRouteList parses the LOG_LOGGERS form of logs.loggers into the
// flattened form parseRoutes takes: entries separated by commas, each
// name=path optionally followed by ;level=L and ;propagate=B, such as
// "audit=/var/log/audit.log;level=info;propagate=false". Values are
// percent-decoded, so a path may hold %2C (,) or %3B (;).
func parseRouteList(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		parts := strings.Split(entry, ";")
		name, path, ok := strings.Cut(parts[0], "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("want name=path[;level=L][;propagate=false] entries separated by commas, got %q", entry)
		}
		if _, dup := m[name+".file"]; dup {
			return nil, fmt.Errorf("logger %q given twice", name)
		}
		fields := [][2]string{{"file", path}}
		for _, p := range parts[1:] {
			f, v, ok := strings.Cut(p, "=")
			if !ok {
				return nil, &subKeyError{name, fmt.Errorf("want field=value after ';', got %q", p)}
			}
			fields = append(fields, [2]string{strings.TrimSpace(f), v})
		}
		for _, fv := range fields {
			key := name + "." + fv[0]
			if _, dup := m[key]; dup {
				return nil, &subKeyError{key, errors.New("set twice")}
			}
			v, err := url.PathUnescape(strings.TrimSpace(fv[1]))
			if err != nil {
				return nil, &subKeyError{key, errors.New("not percent-encoded correctly")}
			}
			m[key] = v
		}
	}
	return m, nil
}

// parseRoutes validates logs.loggers given flattened: "name.field" to
// value, the fields being file (required), level and propagate (true by
// default, as in Python's logging).
func parseRoutes(m map[string]string) (map[string]loggerRoute, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]loggerRoute)
	for _, k := range keys {
		i := strings.LastIndexByte(k, '.')
		if i <= 0 {
			return nil, &subKeyError{k, errors.New("want a logger name")}
		}
		name, field := k[:i], k[i+1:]
		r, ok := out[name]
		if !ok {
			r.propagate = true
		}
		v := strings.TrimSpace(m[k])
		switch field {
		case "file":
			if v == "" {
				return nil, &subKeyError{k, errors.New("want a file path")}
			}
			r.file = v
		case "level":
			l, err := logbridge.ParseLevel(v)
			if err != nil {
				return nil, &subKeyError{k, err}
			}
			r.level = logbridge.LevelName(l)
		case "propagate":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, &subKeyError{k, errors.New("want true or false")}
			}
			r.propagate = b
		default:
			return nil, &subKeyError{k, fmt.Errorf("unknown field (want %s)", strings.Join(routeFields, ", "))}
		}
		out[name] = r
	}
	for _, name := range sortedKeys(out) {
		if out[name].file == "" {
			return nil, &subKeyError{name, errors.New("no file")}
		}
	}
	return out, nil
}

// showRoutes shows logs.loggers in its LOG_LOGGERS form.
func showRoutes(routes map[string]loggerRoute) string {
	esc := strings.NewReplacer("%", "%25", ",", "%2C", ";", "%3B")
	var b strings.Builder
	for i, name := range sortedKeys(routes) {
		r := routes[name]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name + "=" + esc.Replace(r.file))
		if r.level != "" {
			b.WriteString(";level=" + r.level)
		}
		if !r.propagate {
			b.WriteString(";propagate=false")
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
