package deps

import (
	"log/slog"
	"net/http"
	"time"
)

// Event names, in the event field of the records.
const (
	EventDependencyCall = "dependency_call" // one per logical call
	EventStepTiming     = "step_timing"     // one per Step
)

// Field names of the records.
const (
	FieldEvent      = "event"       // EventDependencyCall or EventStepTiming
	FieldDependency = "dependency"  // the dependency's name
	FieldOperation  = "operation"   // the operation of a Call
	FieldStep       = "step"        // the name of a Step
	FieldMethod     = "method"      // the HTTP request method
	FieldURL        = "url"         // the request URL, redacted
	FieldStatus     = "status"      // the response status code
	FieldDurationMS = "duration_ms" // milliseconds, µs precision
	FieldRetries    = "retries"     // retries made for the call
	FieldRedirects  = "redirects"   // redirects that led to the request
	FieldSlow       = "slow"        // true when over the slow threshold
	FieldErrorType  = "error.type"  // a Category or a status code
	FieldError      = "error"       // the redacted error message
)

// Messages of the records.
const (
	msgDependencyCall = "dependency call"
	msgStepTiming     = "step timing"
)

// httpOutcome classifies an HTTP call: failed when it ended with an error
// (no response, or a body that failed) or with a retryable status still
// there after retrying; degraded with any other status of 400 or more, or
// when it was retried.
func httpOutcome(status int, failed bool, errType string, retries int) Outcome {
	switch {
	case errType == CategoryCanceled:
		return Canceled
	case failed:
		return Failed
	case retries > 0 && retryableStatus(status):
		return Failed
	case status >= 400 || status < 100 || retries > 0:
		return Degraded
	}
	return Success
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// level returns the level of outcome o, raised to the Degraded level when
// slow.
func (c *config) levelFor(o Outcome, slow bool) slog.Level {
	l := c.level(o)
	if slow {
		l = max(l, c.level(Degraded))
	}
	return l
}

func (c *config) isSlow(d time.Duration) bool { return c.slow > 0 && d > c.slow }

// log writes the dependency_call record of an HTTP call that ended at end.
func (c *httpCall) log(resp *http.Response, err error, end time.Time) {
	cfg := c.t.cfg
	status, errType := c.outcome(resp)
	retries := c.prior + c.retries
	d := end.Sub(c.start)
	slow := cfg.isSlow(d)
	level := cfg.levelFor(httpOutcome(status, err != nil, errType, retries), slow)
	l := cfg.log()
	ctx := c.actx
	if c.logical != nil {
		ctx = c.lctx
	}
	h := l.Handler()
	if h == nil || !h.Enabled(ctx, level) {
		return
	}
	var buf [12]slog.Attr
	attrs := append(buf[:0],
		slog.String(FieldEvent, EventDependencyCall),
		slog.String(FieldDependency, c.dep),
		slog.String(FieldMethod, c.rawMethod),
		slog.String(FieldURL, c.url),
	)
	if status > 0 {
		attrs = append(attrs, slog.Int(FieldStatus, status))
	}
	attrs = append(attrs,
		slog.Float64(FieldDurationMS, millis(d)),
		slog.Int(FieldRetries, retries),
	)
	if c.redirs > 0 {
		attrs = append(attrs, slog.Int(FieldRedirects, c.redirs))
	}
	if slow {
		attrs = append(attrs, slog.Bool(FieldSlow, true))
	}
	if errType != "" {
		attrs = append(attrs, slog.String(FieldErrorType, errType))
	}
	if err != nil {
		attrs = append(attrs, slog.String(FieldError, c.errMsg))
	}
	// The URL and the error text were redacted when the call made them.
	handleRedacted(ctx, h, end, level, msgDependencyCall, attrs)
}
