// Package e2e holds otelkit's end-to-end tests: they check what really reaches an
// OpenTelemetry Collector, not what the SDK believes it sent.
//
// It is a separate module (github.com/otelkit/otelkit/e2e, with a replace directive to the
// repository root) so that the Collector's dependencies stay out of the main go.mod. The package
// has no code of its own; everything is in its tests.
//
// # How to run
//
//	cd e2e && go test -race ./...
//	cd e2e && go test -race -run TestLoad -soak=60s   # the reliability soak
//
// The tests need no Collector binary, no Docker and no network beyond 127.0.0.1: they run the
// Collector's own OTLP receiver (go.opentelemetry.io/collector/receiver/otlpreceiver) inside the
// test process. `go test -short` skips the slowest cases (a burst of 10,000 records, TestLoad).
// The -soak flag sets how long TestLoad runs its load: 5 s by default, 60 s for the soak.
// The example tests build examples/orders and examples/worker with the go command.
// The tests clear OTEL_*, OTELKIT_* and LOG_* variables at start, so a developer's environment
// does not change their outcome.
//
// # The harness
//
// startCollector starts the receiver on two free ports of 127.0.0.1, one for OTLP/gRPC and one for
// OTLP/HTTP, with in-memory sinks (consumertest) for traces, metrics and logs, and stops it when
// the test ends. collector.Endpoint(protocol) gives the URL for an exporter;
// collector.Stop stops it mid-test. downEndpoint is a port nobody listens on (a dead collector);
// hungEndpoint accepts connections and never answers (a stuck one). waitLogs, waitSpans and
// waitMetrics poll for up to 10 s until the data arrived, and flatten the pdata trees into
// plain structs (trace and span IDs as hex, severity, body, attributes, resource attributes,
// scope name) that are easy to assert on.
//
// The harness_test.go tests check the harness itself with the plain OpenTelemetry SDK, so a
// failure in the otelsetup tests points at otelsetup.
//
// # What is checked
//
// Against otelsetup.Setup, over OTLP/HTTP and OTLP/gRPC:
//   - log records logged in a span carry that span's trace and span IDs, on OTLP and on the console;
//   - severity number and text for DEBUG, INFO, WARN, ERROR and CRITICAL (FATAL, 21, "CRITICAL");
//   - the resource of every signal carries service.name and service.version;
//   - spans arrive with their names and parents; metrics arrive on the configured interval;
//   - a burst of 1,000 and of 10,000 records logged just before Shutdown all arrive;
//   - with the collector down or hung, logging does not block and Shutdown with a 2 s deadline
//     returns within 2.5 s, reporting the loss;
//   - with a collector that fails every request (503, 429 with Retry-After, a reset connection;
//     failing_test.go), logging does not block, every lost record is reported, retries back off
//     (no batch is sent more often, and no more requests arrive in the time window, than the
//     retry schedules allow: otelsetup's for a reset, the OTLP exporter's for 503 and 429) and
//     goroutines do not grow between the first and the last round of failures;
//   - a 429 whose Retry-After (8 s) is longer than the exporter's own backoff is retried no
//     sooner than it says and within the export timeout, and the batch is then delivered;
//   - with a collector that answers only after 2 s, no log call waits on it and every record
//     arrives;
//   - a collector that comes up after the service started receives the records and spans
//     recorded during the outage and after it, and the periodic metric export delivers again
//     (reliability_test.go);
//   - the standard OTEL_EXPORTER_OTLP_* variables route export, and win over code;
//   - no goroutine is left after Shutdown (go.uber.org/goleak), per test and for the whole run.
//
// Against the example and services built like it:
//   - the demo of examples/orders puts spans of both services in one trace, and log records of
//     both carry its trace ID; SIGTERM to a service flushes what it logged (examples_test.go);
//   - examples/worker gives each job a trace of its own (a root span with one child per
//     attempt), puts task_id and the job's trace ID on every record of the job, logs each retry
//     once with its attempt number and error, and on SIGTERM finishes the job in hand and exits 0
//     with every job record it printed delivered to the collector (worker_test.go);
//   - a service started while the collector is down (refused, and hung) serves 2,000 requests
//     from 8 workers, 12 records each, with a 4,096-record log queue: every response is a 200,
//     p99 latency stays under 500 ms, heap in use does not grow between a sample taken once the
//     queue is full and one 18,000 records later (4 MiB margin), the drops are counted
//     (otelkit.telemetry.dropped while serving, the stderr report by Shutdown) and Shutdown keeps
//     its 2 s deadline (outage_serving_test.go);
//   - with a log file that cannot be opened (its parent is a regular file) or written
//     (/dev/full: ENOSPC; both fail as root, unlike a 0500 directory), requests get 200, every
//     record reaches the console and the collector, and the failure is reported on stderr once
//     per 10 s interval plus once at Shutdown, not per record (disk_test.go);
//   - no canary secret, sent in headers, query strings, userinfo, bodies, errors, panics or
//     dependency URLs, reaches the console, the rotating file or the collector (canary_test.go);
//   - under a bounded concurrent load (TestLoad, -soak long) no response is an error the
//     handler did not give, heap and goroutines stay flat, records reach the collector and
//     the log file stays under 1 MB and rotates (when the run wrote more than 1 MB, as a 5 s
//     run does), keeping at most its 3 backups.
package e2e
