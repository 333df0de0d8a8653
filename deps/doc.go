// Package deps makes every outgoing call of a service visible: HTTP
// requests through a wrapped http.RoundTripper, any other dependency
// through [Call], and steps of the service's own work through [Step].
//
// Most production problems of a small service are a slow or failing
// dependency. For each call this package writes a span, a metric point and
// one record, all three from one measurement, so a dashboard, a trace and
// a log line never disagree about how long a call took.
//
//	inventory := deps.NewClient("inventory", nil) // an *http.Client
//	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
//	resp, err := inventory.Do(req)
//
// # HTTP calls
//
// [NewTransport] wraps a RoundTripper and [NewClient] copies an
// *http.Client with its transport wrapped. For each request the transport:
//
//   - starts a client span named after the method ("GET") with
//     http.request.method, url.full (redacted), server.address, server.port
//     and the dependency's name as service.peer.name, then
//     http.response.status_code and error.type;
//   - injects the trace context into the outgoing request (the global
//     propagator, or WithPropagators) and forwards the current request's ID
//     (see Request IDs);
//   - records one point of http.client.request.duration, in seconds, with
//     http.request.method, server.address, server.port, url.scheme,
//     service.peer.name and, when known, http.response.status_code and
//     error.type;
//   - writes one dependency_call record (see Records).
//
// By default a call ends when the response headers arrive; with
// [WithEndAtBodyClose] it ends when the body is closed or read to the end.
// The transport never reads a response body it returns. It never modifies
// the caller's request (each attempt is a copy with its own headers), it
// returns err == nil whenever a response arrived, whatever its status, and
// the caller closes the body, as the http.RoundTripper contract says.
//
// Each redirect that http.Client follows is a call of its own, with
// http.request.resend_count on its span and redirects in its record, as the
// semantic conventions count resends.
//
// The span and metric are made here rather than by otelhttp's Transport,
// which records url.full with its query unredacted, ends its span at body
// close whatever the caller wants, and measures the metric with a clock of
// its own. The names, units and bucket boundaries are the semantic
// conventions' and otelhttp's.
//
// # Records
//
// One record per logical call, with the message "dependency call" and:
//
//	event        dependency_call
//	dependency   the name given to NewTransport (or the server address)
//	method       the request method
//	url          the request URL, redacted
//	status       the response status, when a response arrived
//	duration_ms  the call's duration in milliseconds (µs precision)
//	retries      the retries made for the call (0 when none)
//	redirects    the redirects that led to the request, when there were some
//	slow         true, when the call took longer than the slow threshold
//	error.type   the error category, or the status code from 400 up
//	error        the redacted error message, when the call failed
//
// The record is logged with the context of the call's span, so it carries
// that span's trace_id and span_id, and the caller's context fields (such
// as request_id) through logbridge. [Call] writes the same record with
// operation instead of method, url, status, retries and redirects; [Step]
// writes step_timing with step, duration_ms, slow, error.type and error.
//
// # Levels
//
// Each [Outcome] has a level, set with [WithLevel]:
//
//	Success   INFO   a status below 400, not retried, not slow
//	Degraded  WARN   a 4xx or 5xx status, a call that needed retries,
//	                 a slow call, a Step that returned an error
//	Failed    ERROR  no response (connection, DNS, TLS, timeout), a
//	                 429, 502, 503 or 504 still there after retrying,
//	                 a Call whose function failed or panicked
//	Canceled  INFO   the caller canceled its context
//
// A slow call (longer than [WithSlowThreshold], [DefaultSlowThreshold] by
// default) is logged at the Degraded level at least, with slow=true.
//
// A caller's cancellation is not a failure of the dependency: the caller
// chose to stop waiting (a client went away, a sibling call failed first).
// It is logged at the Canceled level with error.type "canceled", and its
// span's status is left unset. A context deadline is a timeout, and a
// failure: the dependency did not answer in time.
//
// # Error categories
//
// error.type, on records, spans and metrics alike, is one of:
//
//	timeout             a deadline passed: the context's, or a dial, TLS
//	                    handshake or response-header timeout
//	canceled            the caller canceled the context
//	dns                 the host name could not be resolved
//	connection_refused  nothing listens at the address
//	connection_reset    the connection was reset or closed before a
//	                    response (ECONNRESET, EPIPE, unexpected EOF)
//	tls                 the TLS handshake failed (untrusted certificate,
//	                    wrong host name, an alert, a peer without TLS)
//	panic               the function given to Call panicked
//	_OTHER              anything else
//	"400" … "599"       a response with that status (the semantic
//	                    conventions use the code, not a class such as 5xx)
//
// An error with an ErrorType() string method in its chain names its own
// category, as the semantic conventions allow. [ErrorType] returns the
// category of any error.
//
// # Retries
//
// With [WithRetry] a transport retries, within one logical call, requests
// with an idempotent method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or an
// Idempotency-Key header, whose body can be made again (no body, or
// Request.GetBody, which http.NewRequest sets for in-memory bodies). It
// retries after a connection refused or reset, a timeout of the transport
// while the context is still live, and the statuses 429, 502, 503 and 504.
//
// The wait before retry n is the backoff doubled n-1 times, capped, and
// drawn uniformly from its upper half (jitter). A Retry-After header, in
// seconds or as an HTTP date, replaces the backoff; when it asks for more
// than RetryPolicy.MaxBackoff, the response is returned as it is. No retry
// starts if the wait would reach the context's deadline, and a context that
// ends during the wait ends the call with the last response or error.
// A response that is discarded for a retry has at most 4 KiB of its body
// drained, so its connection can be reused, and is closed.
//
// A retried call has a span named after the dependency and method
// ("inventory GET"), of kind internal, whose children are the attempts'
// client spans, the second one on with http.request.resend_count. Each
// attempt records its own point of http.client.request.duration, as the
// semantic conventions ask; the record and the logical span cover the whole
// call. When a retry library of your own sits above the client, give its
// attempts a [LogicalCall] context so they are counted as retries.
//
// # Request IDs
//
// The current request's ID is sent in the X-Request-ID header
// ([WithRequestIDHeader] renames it or turns it off), unless the request
// already has that header. By default the ID is the request_id field
// httpmw puts in the context with logbridge.WithFields; [WithRequestID]
// finds it elsewhere. An ID that is not 1 to 128 bytes of letters, digits
// and -_.:/+=@;,~ is not sent, so no header can be forged through it.
//
// # Steps and other dependencies
//
// [Step] times a step of the work, in a child span and a step_timing
// record. [Call] runs a function as an operation of a named dependency,
// in a client span with service.peer.name and otelkit.dependency.operation,
// a point of otelkit.dependency.duration (seconds, with service.peer.name,
// otelkit.dependency.operation and error.type) and a dependency_call record.
//
// # Redaction
//
// URLs and error messages pass through one redact.Policy ([WithRedaction],
// redact.New() by default) before they reach a record or a span: userinfo
// becomes REDACTED:REDACTED@, sensitive query values REDACTED, and secrets
// in error text are masked (an error that prints a URL, as *url.Error does,
// included). Metrics carry no URL and no error text at all.
//
// # Loggers and providers
//
// Records go to the logger of [WithLogger], else to slog.Default() as it is
// at each record, named [LoggerName] ("deps") when its handler is an otelkit
// logbridge handler, so LOG_LEVELS=deps=debug applies. Spans and metrics
// go to the providers of [WithTracerProvider] and [WithMeterProvider], else
// to the global ones, which follow providers set later.
//
// # Concurrency
//
// Transports and clients are safe for concurrent use and immutable once
// made. The end function of a Step may be called from any goroutine; only
// its first call counts. Cancelling a context never stops recording: the
// call is recorded as canceled or timed out.
//
// # Performance considerations
//
// A call costs one span, one metric point and one record. Without its
// record, the transport costs about what otelhttp's transport costs; the
// record through logbridge to the OpenTelemetry log SDK adds about half as
// much again, mostly in the log SDK, which deduplicates attribute keys one
// attribute at a time (see BenchmarkTransportRatio). Records below the
// logger's level cost only the level check. With the default end at the
// response headers, the response body is returned untouched.
package deps
