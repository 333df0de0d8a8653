// Package sampling decides how much a request logs: DEBUG for one request
// asked for by a trusted caller, DEBUG for a fraction of requests chosen by
// trace ID, and DEBUG records kept back in a per-request tail buffer and
// written only when the request ends badly.
//
// Global DEBUG in production leaks data and floods storage; this package
// gives operators targeted verbosity instead. It imports no other otelkit
// package: httpmw and logbridge call it through the contract below.
//
// # Policy and request state
//
// A [Policy], built once with [New] and options, holds the configuration. For
// each request, [Policy.Start] (HTTP) or [Policy.StartContext] (other work)
// creates a [Request] and puts it in the context; [FromContext] finds it.
// Every method of a nil *Request is valid and enables nothing, so callers
// need no nil checks.
//
// # Trusted debug header
//
// A request carrying the debug header ([DefaultHeader], "X-Debug-Log", see
// [WithHeader]) gets DEBUG for itself only, and its trace is sampled (see
// [TraceSampler]), if the caller is trusted:
//
//   - the header holds a token made by [SignToken] with the secret given by
//     [WithSecret]: "<unix-expiry>.<base64url HMAC-SHA256 of the expiry>",
//     not expired, and expiring within [WithMaxTokenLifetime]; or
//   - the caller address is in the allow-list of [WithAllowedPeers]. The
//     caller address is the direct peer (http.Request.RemoteAddr); the
//     forwarding header ([WithForwardedHeader], X-Forwarded-For by default)
//     is believed only when the peer is one of [WithTrustedProxies], and is
//     read from the nearest hop outwards, so it cannot be spoofed.
//
// A trusted request writes one debug_sampled audit record at INFO with the
// reason. An untrusted attempt changes nothing; it is counted and reported at
// WARN as a debug_rejected security event, at most once per
// [WithWarnInterval]. The header value is never logged, signatures are
// compared in constant time, and no input makes the package panic.
//
// # Ratio sampling
//
// [WithRatio] turns on DEBUG for a fraction of requests. The decision is made
// from the trace ID by the rule of OpenTelemetry's TraceIDRatioBased sampler
// ([RatioSampled]), so every service and every policy with the same ratio
// decides the same way for a trace, and with the trace sampler at the same
// ratio the detailed logs are those of sampled traces. The span must also be
// sampled: a trace the sampler dropped (a remote parent that was not sampled
// under ParentBased, or a trace sampler at a lower ratio than WithRatio's)
// gets no detail, so detailed records always belong to a recorded trace. The
// span starts after [Policy.Start], so [Request.Enabled] decides at the first
// record that has a span in its context, and caches the decision; records
// logged before any span exists get no ratio detail. A ratio of 1 turns
// detail on for every request from the start, whatever the trace sampler
// decides.
//
// # Tail buffer
//
// With [WithTailBuffer], records of a request that is neither forced nor
// ratio sampled, at or below [WithTailLevel] and not enabled by the handler,
// are held ([Request.Hold]) in a buffer bounded by records and by estimated
// bytes; the oldest are dropped first and counted. The estimate includes what
// values of kind Any (maps, slices, structs, errors) and LogValuers refer
// to, found by a reflective walk bounded in work and depth. [Request.Finish] writes
// them, in order and with their own timestamps, marked sampled_by=tail, when
// the request ended with a 5xx, a panic, a record at or above
// [WithTailTriggerLevel] (reported by [Request.ObserveLevel]) or took longer
// than [WithTailSlow]; otherwise it discards them.
//
// # Integration contract
//
// httpmw, before the otelhttp server span starts, and always finishing:
//
//	ctx, req := policy.Start(r)
//	r = r.WithContext(ctx)
//	... serve r through otelhttp and the handler, log request_completed ...
//	_ = req.Finish(status, time.Since(start), panicked)
//
// logbridge, holding the same policy, in Handler.Enabled(ctx, level):
//
//	h.policy.ObserveLevel(ctx, level)
//	return level >= h.level.Level() || h.policy.Wants(ctx, level)
//
// and in Handler.Handle(ctx, rec), for a record below its own level:
//
//	req := sampling.FromContext(ctx)
//	if req.Enabled(ctx, rec.Level) { // forced or ratio sampled: write now
//		rec.AddAttrs(slog.String(sampling.SampledByKey, req.SampledBy(ctx)))
//		return sink.Handle(ctx, rec)
//	}
//	req.Hold(ctx, rec, sink) // sink: the handler past this decision
//	return nil
//
// otelsetup installs TraceSampler(base) as the tracer provider's sampler and
// may mount [Policy.Admin] for run-time levels.
//
// # Run-time levels
//
// [Policy.Admin] returns an opt-in http.Handler, protected by the same trust
// check, that reads and sets the global and per-logger levels of a
// [LevelStore], optionally for a limited time after which the old level
// returns. [LevelVars] is a simple LevelStore.
//
// # Noisy records
//
// [Policy.KeepNoisy] keeps 1 in N records of a noisy kind (request_completed
// of health probes, say), counted per key in a fixed set of 1024 hashed
// counters that keys may share, never drops WARN and above, and counts what
// it drops.
//
// # Metrics
//
// Counters go to the meter provider of [WithMeterProvider], by default the
// global one fetched at first use: otelkit.sampling.debug.requests
// (attributes trusted, reason), otelkit.sampling.tail.records (outcome:
// emitted, discarded, dropped) and otelkit.sampling.noisy.dropped.
// [Policy.Stats] returns the same counts.
//
// # Performance considerations
//
// [Policy.Wants] and [Policy.ObserveLevel] run on every log record and do
// not allocate. While no request of the policy is forced, undecided, ratio
// sampled or tail buffering, they cost one atomic load; otherwise a record
// of a request that is not sampled pays one context lookup
// ([FromContext]), whose cost grows with the depth of the context, and one
// more atomic load. Every request must reach [Request.Finish], or the
// policy keeps paying the lookup. [Request.Hold] copies the record by value into a preallocated
// ring and allocates only for attributes beyond the five a slog.Record holds
// inline.
package sampling
