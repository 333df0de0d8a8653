package httpmw

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCheckTimeout is the timeout of a check added with a zero timeout.
const DefaultCheckTimeout = time.Second

// Check results, in the status fields of health responses.
const (
	CheckOK      = "ok"
	CheckFail    = "fail"
	CheckTimeout = "timeout"
)

// Health serves liveness and readiness probes (conventionally /healthz and
// /readyz) from registered checks. Checks run in parallel, each bounded by
// its timeout; the answer is JSON with every check's status and latency:
//
//	{"status":"fail","checks":{"db":{"status":"ok","latency_ms":0.8},
//	 "queue":{"status":"timeout","latency_ms":500}}}
//
// with status 200 when every check passed and 503 otherwise. Error texts are
// never sent, since probes are often reachable from outside; a check that
// starts failing is logged at WARN (health_check_failed, with the redacted
// error) and its recovery at INFO, once per change rather than per probe.
// Probes served through [New] are kept off INFO like WithSkipPaths.
//
// Make a Health with [NewHealth]; the zero value is ready to use with
// slog's default logger. It is safe for concurrent use; checks may be added
// while probes are served.
type Health struct {
	cfg *config

	mu        sync.RWMutex
	liveness  []*check
	readiness []*check
}

type check struct {
	name    string
	fn      func(context.Context) error
	timeout time.Duration
	running atomic.Bool // a previous run that ignored its timeout is still going
	failing atomic.Bool
}

// NewHealth returns a Health. Of the options, WithLogger and WithRedaction
// apply; the others are ignored.
func NewHealth(opts ...Option) *Health {
	return &Health{cfg: newConfig(opts)}
}

// AddCheck registers a readiness check: fn reports whether a dependency
// the service needs to take traffic (a database, a queue) works. It is
// given a context that ends after timeout (DefaultCheckTimeout when zero or
// less) and should return by then; one that does not is reported as timed
// out and is not started again until it returns.
func (h *Health) AddCheck(name string, fn func(ctx context.Context) error, timeout time.Duration) {
	h.add(&h.readiness, name, fn, timeout)
}

// AddLivenessCheck registers a liveness check: one whose failure means the
// process should be restarted (a deadlock detector, say), never a check of
// another service. With none, liveness answers ok while the process serves.
func (h *Health) AddLivenessCheck(name string, fn func(ctx context.Context) error, timeout time.Duration) {
	h.add(&h.liveness, name, fn, timeout)
}

func (h *Health) add(list *[]*check, name string, fn func(context.Context) error, timeout time.Duration) {
	if fn == nil {
		return
	}
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	h.mu.Lock()
	*list = append(*list, &check{name: name, fn: fn, timeout: timeout})
	h.mu.Unlock()
}

// LivenessHandler returns the handler for the liveness probe (/healthz).
func (h *Health) LivenessHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serve(w, r, &h.liveness)
	})
}

// ReadinessHandler returns the handler for the readiness probe (/readyz).
func (h *Health) ReadinessHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serve(w, r, &h.readiness)
	})
}

// CheckResult is the outcome of one check in a health response.
type CheckResult struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
}

// HealthReport is the body of a health response.
type HealthReport struct {
	Status string                 `json:"status"`
	Checks map[string]CheckResult `json:"checks,omitempty"`
}

func (h *Health) serve(w http.ResponseWriter, r *http.Request, list *[]*check) {
	if st := stateFrom(r.Context()); st != nil {
		st.quiet.Store(true)
	}
	h.mu.RLock()
	checks := append([]*check(nil), *list...)
	h.mu.RUnlock()

	rep := h.run(r.Context(), checks)
	status := http.StatusOK
	if rep.Status != CheckOK {
		status = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(rep)
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}

// run runs checks in parallel and waits for each to return or time out.
func (h *Health) run(ctx context.Context, checks []*check) HealthReport {
	rep := HealthReport{Status: CheckOK}
	if len(checks) == 0 {
		return rep
	}
	results := make([]CheckResult, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i], errs[i] = c.run(ctx) })
	}
	wg.Wait()
	rep.Checks = make(map[string]CheckResult, len(checks))
	for i, c := range checks {
		rep.Checks[c.name] = results[i]
		if results[i].Status != CheckOK {
			rep.Status = CheckFail
		}
		h.noteChange(ctx, c, results[i], errs[i])
	}
	return rep
}

// run runs the check with its timeout. The check's goroutine is not waited
// for past the timeout; while it is still running, the check is reported
// as timed out without being started again.
func (c *check) run(ctx context.Context) (CheckResult, error) {
	start := time.Now()
	if !c.running.CompareAndSwap(false, true) {
		return CheckResult{Status: CheckTimeout}, context.DeadlineExceeded
	}
	// The probe's own cancellation should not fail the check: a
	// load balancer hanging up is not the dependency failing.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		err := safeCheck(ctx, c.fn) // never panics
		// Clear running before reporting: the next probe may start the
		// moment this one has its answer, and must not see the check as
		// still running and report a timeout it never had.
		c.running.Store(false)
		done <- err
	}()
	var err error
	status := CheckOK
	select {
	case err = <-done:
		if err != nil {
			status = CheckFail
		}
	case <-ctx.Done():
		err, status = ctx.Err(), CheckTimeout
	}
	return CheckResult{Status: status, LatencyMS: millis(time.Since(start))}, err
}

// safeCheck runs fn, turning a panic into an error.
func safeCheck(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{text: panicText(p)}
		}
	}()
	return fn(ctx)
}

type panicError struct{ text string }

func (e *panicError) Error() string { return "check panicked: " + e.text }

// noteChange logs a check that started failing (WARN) or recovered (INFO).
func (h *Health) noteChange(ctx context.Context, c *check, res CheckResult, err error) {
	failing := res.Status != CheckOK
	if c.failing.Swap(failing) == failing {
		return
	}
	cfg := h.cfg
	if cfg == nil {
		cfg = newConfig(nil)
	}
	if failing {
		logAttrs(ctx, cfg.log(), slog.LevelWarn, "health check failing",
			slog.String(FieldEvent, EventHealthCheckFailed),
			slog.String(FieldCheck, c.name),
			slog.String(FieldReason, res.Status),
			slog.String(FieldError, cfg.redact.Error(err)),
			slog.Float64(FieldLatencyMS, res.LatencyMS))
		return
	}
	logAttrs(ctx, cfg.log(), slog.LevelInfo, "health check recovered",
		slog.String(FieldEvent, EventHealthCheckOK),
		slog.String(FieldCheck, c.name),
		slog.Float64(FieldLatencyMS, res.LatencyMS))
}
