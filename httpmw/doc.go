// Package httpmw is otelkit's HTTP server middleware: everything the request
// path needs, on top of otelhttp's server span and metrics.
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
// (package sampling) and the context fields are set up before the otelhttp
// span starts: the trace sampler then sees a forced debug request, and every
// record of the request carries request_id, otelhttp's own included. Inside
// the span come request_started, the handler and panic recovery, then
// request_completed, so those records carry the trace and span IDs. The
// sampling request is finished last, panics included.
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
// The span's client.address is corrected accordingly, since otelhttp takes
// X-Forwarded-For from anyone.
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
// Over otelhttp, the middleware adds about seven allocations per request:
// its request state (which is also the request's context and holds the
// response writer and body counter), one request copy, the logbridge context
// fields (two), the sampling request (two, with a policy) and, when no
// incoming ID is accepted, the new ID. Records below the logger's level cost
// an Enabled call. The request_completed record is the largest cost: through
// logbridge to the console and OTLP it costs more than the rest of the
// middleware (BenchmarkServe and BenchmarkRequestCompletedRecord measure
// both); WithSkipPaths and WithStatusLevels keep it off where it is not
// wanted.
package httpmw
