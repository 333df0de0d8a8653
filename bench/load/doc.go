// Command load is a loopback load test of a real HTTP server: the same
// GET /items/{id} handler and client, measured in four modes, each in a
// process of its own, reported side by side with ratios against bare.
//
// Run it from the bench module:
//
//	cd bench
//	go run ./load                      # n=20000, c=16, 3 interleaved rounds
//	go run ./load -n 50000 -timeout 5m # a longer run
//	go run ./load -json                # machine-readable
//	go run ./load -cpuprofile cpu.pprof && go tool pprof -top -cum cpu.otelkit.r1.pprof
//
// The modes:
//
//   - bare: http.ServeMux behind a plain http.Server, a plain http.Client.
//   - otelhttp: the mux in otelhttp.NewHandler, the client transport
//     otelhttp.NewTransport, SDK tracer and meter providers (always-on
//     sampler, batch span processor and periodic metric reader, both to
//     discarding exporters), W3C trace context propagation. No log record
//     per request: the baseline of the throughput goal.
//   - otelhttp_slog: the otelhttp mode plus the two records otelkit writes
//     per request, hand-written as a user would to get otelkit's output: a
//     handler inside otelhttp logs request_completed, a transport inside
//     otelhttp's logs dependency_call, through one slog.Logger fanned out
//     (slog.NewMultiHandler) to a JSON handler (to io.Discard) and the
//     otelslog bridge (SDK batch processor, discarding exporter). It has no
//     redaction, request IDs or sampling: the like-for-like baseline.
//   - otelkit: otelsetup.Setup with the same discarding exporters and the
//     same always-on sampler (globals installed, as a service would), the
//     mux in httpmw.New, the client from deps.NewClient. Each request makes
//     a client and a server span, the HTTP client and server metrics, and
//     the dependency_call and request_completed records, each formatted
//     for the console (to io.Discard) and exported over the OTLP log
//     pipeline (to a discarding exporter).
//
// Every client talks HTTP/1.1 with keep-alive to 127.0.0.1 only (its dialer
// refuses any other address) through the same http.Transport settings.
//
// One run: the parent re-executes its own binary once per mode and round,
// interleaved (bare, otelhttp, otelhttp_slog, otelkit, bare, …), with the child's
// configuration in the OTELKIT_LOAD_CHILD environment variable. Each child
// starts its server and client, sends -warmup requests (not measured), then
// -n requests from -c workers, shuts down, and prints one JSON result line.
// The whole run is bounded by -timeout; a child that reaches it stops
// sending, is killed if it does not end, and its round is marked
// incomplete.
//
// What the numbers mean (median over rounds per mode):
//
//   - rps: completed requests per second of the measured phase.
//   - p50, p99: client-side latency of one request (from building it to its
//     body read and closed), exact percentiles of the sorted samples
//     (nearest rank).
//   - CPU/req: user+system CPU time of the child process during the
//     measured phase divided by the requests: the cost of client, server
//     and telemetry together, background exporters included. It is less
//     sensitive than rps to other work on a shared machine.
//   - allocs/req, B/req: heap allocations (count, bytes) during the measured
//     phase per request, client and server together.
//   - peak RSS: the child's maximum resident set size (getrusage of the
//     child, else VmHWM), over its whole life: setup, warm-up, load and
//     shutdown. It includes the latency samples, 8 bytes per request in
//     every mode (160 KiB at -n 20000).
//   - spans/req, logs/req: spans and log records that reached the
//     discarding exporters, per request sent (warm-up included), counted
//     after the final flush: 2 spans (client, server) and, for otelkit, 2
//     records per request when nothing was dropped.
//   - errors: transport errors and non-200 responses, warm-up included;
//     they must be 0, and the command exits 1 otherwise.
//
// Client and server share one process, and so its GOMAXPROCS (the number
// of CPUs unless set): on a 2-vCPU machine they compete for the same two
// CPUs, and so do the telemetry pipelines' goroutines.
package main
