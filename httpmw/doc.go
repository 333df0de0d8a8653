// Package httpmw is otelkit's HTTP server middleware: everything the request
// path needs, with the server span and metrics of OpenTelemetry's HTTP
// semantic conventions.
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /orders/{id}", getOrder)
//	srv := &http.Server{Handler: httpmw.New(mux)}
//
// [New] gives every request an ID, a server span named after its route, the
// HTTP server metrics, request_started and request_completed records, panic
// recovery and security events. [HandlerFunc] turns returned errors into
// safe responses; [Health] serves liveness and readiness probes.
//
// # Order
//
// The request ID, the client address, the per-request sampling decision
// (package sampling) and the context fields are set up before the server
// span starts, so the trace sampler sees a forced debug request. Inside the
// span come request_started, the handler and panic recovery, then
// request_completed, so those records carry the trace and span IDs; then
// the span ends and the metrics are recorded, timed by the same clock
// readings as request_completed. The sampling request is finished last,
// panics included.
//
// # Spans and metrics
//
// The server span is a child of the incoming trace context (extracted with
// the global propagator), of kind server, with the attributes otelhttp
// gives it: http.request.method (and _original), url.scheme,
// server.address and server.port from the Host header, url.path (redacted),
// network.peer.address and port, client.address, user_agent.original
// (redacted), network.protocol.version, then http.response.status_code,
// http.route, the body sizes, and error.type with error status for 5xx;
// plus request_id and user.id. The metrics are http.server.request.duration
// (seconds, otelhttp's buckets), http.server.request.body.size (for
// requests with a body) and http.server.response.body.size, with
// http.request.method, url.scheme, network.protocol.name and version,
// http.response.status_code, http.route and error.type. server.address and
// server.port, opt-in in the conventions, are left off the metrics: they
// come from a header any client sets, and would make a series per value.
//
// The middleware makes these itself rather than wrapping otelhttp: one pass
// shares the response writer, body counter, route and clock with the
// request log, and caches each series' attribute set and span name. With
// [WithOTelHTTPOptions] (filters, public endpoints, span name formatters),
// otelhttp makes the span and metrics instead.
//
// # Request IDs
//
// The ID is taken from X-Request-ID (see WithRequestIDHeader) only when it
// is 1 to [MaxRequestIDLength] characters from A-Z a-z 0-9 and - _ . : / + =
// @ ; , ~ — enough for UUIDs, hex, base64 and X-Amzn-Trace-Id values, and
// nothing that can break a log line or a header. Otherwise a new ID of 128
// random bits (32 hex digits) is made, and an invalid incoming value is noted
// at WARN (request_id_replaced) as a sanitized, cut and redacted preview,
// never as received. WithRequestIDFromProxiesOnly accepts incoming IDs from
// trusted proxies only. The ID is echoed in the response header, returned by
// [RequestID], set on the span (request_id) and carried by every record
// logged with the request's context through logbridge (request_id).
//
// # Users
//
// [SetUser], called after authentication, puts user_id on every later
// record of the request, on request_completed and on the span (user.id);
// with WithHashedUserID, as a keyed hash from package redact.
//
// # Routes
//
// The span name ("GET /orders/{id}") and the http.route attribute of the
// span and of the metrics come from the matched pattern, never the raw path,
// so one route stays one series. http.ServeMux's pattern is read from the
// request after the mux has matched it; other routers report theirs with
// [SetRoute], most simply through [RouteMiddleware] installed in the router
// (see its example for chi and gorilla/mux). A request no route matched is
// named after its method alone.
//
// # Request logs
//
// request_started is written at DEBUG (so normally only for requests with
// per-request debug): method, path, redacted query, allow-listed and
// redacted headers, client address and user agent. request_completed has
// the method, path, route, status, duration_ms, bytes_in, bytes_out and
// content_type; it is written at INFO, WARN for 4xx and ERROR for 5xx (see
// WithStatusLevels), and at WARN at least with slow=true above the slow
// threshold (1 s, WithSlowThreshold, WithRouteSlowThreshold). Paths given to
// WithSkipPaths, and health probes, are not logged at INFO per request but
// are traced and metered as any other. WithResponseTimeHeader adds
// X-Response-Time. Every event has its name in the event field.
//
// # Panics
//
// A panic in the handler gives exactly one ERROR record, panic_recovered,
// with the redacted panic value and the stack; the span gets an exception
// event and error status; the client gets a 500 with the request ID and no
// internals, and the server keeps serving. If the response had already
// started, the connection is aborted instead, so that a cut-off body cannot
// pass for a whole one. http.ErrAbortHandler is passed on, as net/http
// expects.
//
// # Errors
//
// A [HandlerFunc] returns an error; [WriteError] answers with it. A
// [StatusError] (such as those of [BadRequest], [NotFound] and [Conflict])
// chooses the status and the public message and details of the JSON body,
// and is logged at WARN; any other error gives a 500 with a generic message
// and the request ID, and one ERROR record with the redacted error and the
// chain of its types.
//
// # Client addresses
//
// The client address is the connection's peer. X-Forwarded-For (or the
// header of WithForwardedHeader, such as Forwarded) is believed only when
// the peer is one of WithTrustedProxies, read from the nearest hop outwards.
// The span's client.address is that address (under WithOTelHTTPOptions it
// is corrected after otelhttp, which takes X-Forwarded-For from anyone).
//
// # Security events
//
// A 401 or 403 response writes an auth_failed record at WARN (status,
// route, client address) and counts it in otelkit.http.auth_failures
// (http.route, http.response.status_code).
//
// # Response writers
//
// The http.ResponseWriter a handler receives has Flush, Hijack, ReadFrom
// and Push exactly when the server's writer has them, and Unwrap, so
// http.NewResponseController reaches the rest. Streaming and hijacked
// connections (WebSockets) work through the middleware.
//
// # Performance considerations
//
// One request through the middleware, with its span, metrics and a
// request_completed record to the console and OTLP, costs about what
// otelhttp alone costs (span and metrics, no record) and allocates less:
// see docs/performance.md. The middleware allocates its request state
// (which is also the request's context and holds the response writer and
// body counter), one request copy, the logbridge context fields, the
// sampling request and, when no incoming ID is accepted, the new ID.
// request_completed is built from values the middleware has redacted, so
// logbridge skips its own redaction pass over it
// (logbridge.HandleRedacted). Records below the logger's level
// cost an Enabled call; WithSkipPaths and WithStatusLevels keep
// request_completed off where it is not wanted.
package httpmw
