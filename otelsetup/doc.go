// Package otelsetup gives a Go service traces, metrics and logs in one call.
//
//	tel, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("orders"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer tel.Shutdown(context.Background())
//
// Setup builds one resource (service name and version, environment,
// instance ID, host, process, runtime and container attributes) and from it a
// TracerProvider, a MeterProvider and a LoggerProvider, with their exporters,
// the propagators and Go runtime metrics. It installs them as the
// OpenTelemetry globals and installs a [logbridge.Handler] as slog's default,
// so every slog record reaches the console and OTLP with the trace and span
// IDs of the span in its context.
//
// # Exporters
//
// With an OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT or
// [WithEndpoint]), all three signals are exported over OTLP/HTTP, or OTLP/gRPC
// with OTEL_EXPORTER_OTLP_PROTOCOL=grpc. Without one, output is readable on
// the console: log lines, one line per span, one line per metric point.
// "none" switches a signal off; metrics can also be served for Prometheus to
// scrape (OTEL_METRICS_EXPORTER=prometheus, [Telemetry.MetricsHandler]).
//
// # Configuration
//
// Every setting has an option, an environment variable and a key in the
// YAML configuration file (OTELKIT_CONFIG_FILE or [WithConfigFile]). The
// precedence is one rule, resolved in one place:
//
//	environment > configuration file > code (options) > profile > defaults
//
// [WithoutEnvironment] (and the test mode in otelsetuptest) ignores the
// environment. A bad value makes Setup fail with an error that names the
// variable, file line or option and the value (secrets are never echoed),
// after shutting down whatever was already built. Setup logs one INFO
// record at start: the exporters in force and every value not at its
// default, with its source, secrets masked; [Telemetry.Settings] returns the
// whole configuration, defaults included (the start-up record is written
// whatever the log level). docs/configuration.md lists every setting.
//
// Beyond levels per logger (LOG_LEVELS), a named logger and its children
// can write to a file of their own, with or without their records reaching
// the other sinks, as the loggers section of Python's dictConfig does
// (logs.loggers, LOG_LOGGERS, [WithLoggerFile]); LOG_STACK_TRACES adds a
// stack trace to every ERROR and CRITICAL record.
//
// # Profiles
//
// The development profile logs text at DEBUG; production logs JSON at INFO.
// The profile is [WithProfile] or OTELKIT_PROFILE, else chosen from the
// environment name: service.environment, else deployment.environment.name
// in OTEL_RESOURCE_ATTRIBUTES or the resource attributes given in code
// (dev, development, local and test mean development).
// Every setting of a profile can be overridden one by one.
//
// # Nothing lost silently
//
// Spans and log records are batched in bounded queues, so a slow or dead
// collector never blocks the caller and never grows memory without bound.
// What does not fit, or fails to export, is counted in the
// otelkit.telemetry.dropped metric (by signal and reason) and reported on
// stderr at most once per interval for each signal. The log queue holds up
// to 20,480 records by default, so a burst logged just before a clean exit
// is delivered; only its first 2,048 are allocated up front, the rest only
// while a burst or an outage needs them.
//
// # Shutdown
//
// [Telemetry.Shutdown] flushes and stops the three signals in parallel,
// bounded by its context (5 s when the context has none), cancels exports
// still running at the deadline, closes log files and gives the globals
// back. It is safe to call more than once. While one Telemetry owns the
// globals, another Setup without [WithoutGlobals] fails with
// [ErrGlobalsInUse].
package otelsetup
