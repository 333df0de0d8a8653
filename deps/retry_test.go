package deps

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// statuses serves the given statuses in turn, then 200.
func statuses(t *testing.T, header http.Header, codes ...int) (url string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		if n < len(codes) {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(codes[n])
			_, _ = io.WriteString(w, "try again")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	return srv.URL + "/stock", calls
}

var fastRetry = WithRetry(RetryPolicy{Backoff: time.Millisecond})

func TestRetry503ThenSuccess(t *testing.T) {
	h := newHarness(t)
	url, calls := statuses(t, nil, 503)
	c := h.client("inventory", nil, fastRetry)
	ctx, root := h.tp.Tracer("test").Start(context.Background(), "handler")
	resp, err := get(ctx, c, url)
	root.End()
	if err != nil || resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("resp %v err %v calls %d", resp, err, calls.Load())
	}
	spans := h.spans() // attempt 1, attempt 2, logical, root
	if len(spans) != 4 {
		t.Fatalf("spans %v", spanNames(spans))
	}
	a1, a2, logical := spans[0], spans[1], spans[2]
	if logical.Name != "inventory GET" || logical.SpanKind != trace.SpanKindInternal ||
		logical.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("logical span %q %v", logical.Name, logical.SpanKind)
	}
	checkAttempts(t, h, spans, logical.SpanContext.SpanID(), []attempt{
		{url: url, status: 503, errType: "503"},
		{url: url, status: 200, resend: 1},
	})
	if a1.Status.Code != codes.Error || a2.Status.Code != codes.Unset || logical.Status.Code != codes.Unset {
		t.Errorf("statuses %v %v %v", a1.Status, a2.Status, logical.Status)
	}
	if !a2.StartTime.After(a1.EndTime) || a1.StartTime != logical.StartTime || a2.EndTime != logical.EndTime {
		t.Error("attempts do not tile the logical span")
	}

	rec := h.record(EventDependencyCall)
	if rec.Level != "WARN" {
		t.Errorf("level %s, want WARN: retried", rec.Level)
	}
	checkMap(t, "record", rec.Attrs, map[string]any{
		FieldEvent: EventDependencyCall, FieldDependency: "inventory", FieldMethod: "GET", FieldURL: url,
		FieldStatus: 200, FieldRetries: 1, FieldDurationMS: wantMillis(logical),
	})
	if rec.SpanID != logical.SpanContext.SpanID().String() {
		t.Error("record is not on the logical span")
	}
}

// attempt is what one attempt of a call (a retry or a redirect hop) must
// leave behind.
type attempt struct {
	url     string
	status  int
	errType string // "": none
	resend  int    // http.request.resend_count; 0: absent
}

// checkAttempts compares, for each attempt in order, its span (the first
// len(want) of spans) exactly: name, kind, parent and every attribute. It
// then checks that the duration metric has exactly one point per attempt,
// with exact attributes, a count of 1 and its attempt span's duration as
// sum. Attempts must differ in status, which pairs points with spans.
func checkAttempts(t *testing.T, h *harness, spans tracetest.SpanStubs, parent trace.SpanID, want []attempt) {
	t.Helper()
	if len(spans) < len(want) {
		t.Fatalf("spans %v, want %d attempts", spanNames(spans), len(want))
	}
	type expected struct {
		span  tracetest.SpanStub
		attrs map[string]any
	}
	byStatus := map[int64]expected{}
	for i, w := range want {
		what := "attempt " + strconv.Itoa(i)
		s := spans[i]
		if s.Name != "GET" || s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent {
			t.Errorf("%s: %q %v, parent %v, want %v", what, s.Name, s.SpanKind, s.Parent.SpanID(), parent)
		}
		host, port := hostPortOf(t, w.url)
		wantSpan := map[string]any{
			"http.request.method": "GET", "url.full": w.url, "server.address": host, "server.port": port,
			"service.peer.name": "inventory", "http.response.status_code": w.status,
		}
		wantMetric := map[string]any{
			"http.request.method": "GET", "server.address": host, "server.port": port,
			"url.scheme": strings.SplitN(w.url, ":", 2)[0], "service.peer.name": "inventory",
			"http.response.status_code": w.status,
		}
		if w.errType != "" {
			wantSpan["error.type"] = w.errType
			wantMetric["error.type"] = w.errType
		}
		if w.resend > 0 {
			wantSpan["http.request.resend_count"] = w.resend
		}
		checkMap(t, what+" span attributes", attrMap(s.Attributes), wantSpan)
		if _, dup := byStatus[int64(w.status)]; dup {
			t.Fatalf("%s: status %d repeats", what, w.status)
		}
		byStatus[int64(w.status)] = expected{s, wantMetric}
	}

	// One point per attempt, each its attempt span's duration.
	points := h.points(MetricHTTPDuration)
	if len(points) != len(want) {
		t.Fatalf("%d points, want one per attempt (%d)", len(points), len(want))
	}
	for _, p := range points {
		status, _ := p.Attributes.Value("http.response.status_code")
		e, ok := byStatus[status.AsInt64()]
		if !ok {
			t.Errorf("point for status %v, which no attempt had", status.AsInt64())
			continue
		}
		what := "point " + strconv.FormatInt(status.AsInt64(), 10)
		checkMap(t, what+" attributes", setMap(p.Attributes), e.attrs)
		if d := e.span.EndTime.Sub(e.span.StartTime).Seconds(); p.Count != 1 || p.Sum != d {
			t.Errorf("%s: count %d sum %v, want 1 and %v", what, p.Count, p.Sum, d)
		}
	}
}

func TestRetry429RetryAfter(t *testing.T) {
	h := newHarness(t)
	url, calls := statuses(t, http.Header{"Retry-After": {"1"}}, 429)
	c := h.client("inventory", nil, WithRetry(RetryPolicy{Backoff: time.Millisecond, MaxBackoff: 2 * time.Second}))
	resp, err := get(context.Background(), c, url)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("resp %v err %v calls %d", resp, err, calls.Load())
	}
	spans := h.spans() // attempt 1, attempt 2, logical
	if len(spans) != 3 {
		t.Fatalf("spans %v", spanNames(spans))
	}
	logical := spans[2]
	if logical.Name != "inventory GET" || logical.SpanKind != trace.SpanKindInternal || logical.Parent.IsValid() {
		t.Errorf("logical span %q %v, parent %v", logical.Name, logical.SpanKind, logical.Parent.SpanID())
	}
	if gap := spans[1].StartTime.Sub(spans[0].EndTime); gap < time.Second {
		t.Errorf("retried after %v, Retry-After said 1s", gap)
	}
	checkAttempts(t, h, spans, logical.SpanContext.SpanID(), []attempt{
		{url: url, status: 429, errType: "429"},
		{url: url, status: 200, resend: 1},
	})

	rec := h.record(EventDependencyCall)
	if rec.Level != "WARN" || rec.Message != msgDependencyCall || rec.Logger != LoggerName {
		t.Errorf("level %s message %q logger %q, want WARN: retried", rec.Level, rec.Message, rec.Logger)
	}
	checkMap(t, "record", rec.Attrs, map[string]any{
		FieldEvent: EventDependencyCall, FieldDependency: "inventory", FieldMethod: "GET", FieldURL: url,
		FieldStatus: 200, FieldRetries: 1, FieldDurationMS: wantMillis(logical),
		// The 1 s wait puts the logical call past DefaultSlowThreshold.
		FieldSlow: true,
	})
	if rec.TraceID != logical.SpanContext.TraceID().String() || rec.SpanID != logical.SpanContext.SpanID().String() {
		t.Error("record is not on the logical span")
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after string
		ctx   time.Duration
	}{
		{"deadline", "5", 2 * time.Second},
		{"max_backoff", "30", 0},
		{"http_date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			url, calls := statuses(t, http.Header{"Retry-After": {tc.after}}, 429)
			c := h.client("inventory", nil, fastRetry)
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			start := time.Now()
			resp, err := get(ctx, c, url)
			if err != nil || resp.StatusCode != 429 || calls.Load() != 1 {
				t.Fatalf("resp %v err %v calls %d", resp, err, calls.Load())
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("gave up after %v", d)
			}
			rec := h.record(EventDependencyCall)
			if rec.Level != "WARN" || rec.Attrs[FieldRetries] != 0.0 || rec.Attrs[FieldErrorType] != "429" {
				t.Errorf("record %s %v", rec.Level, rec.Attrs)
			}
		})
	}
}

func TestRetryExhausted(t *testing.T) {
	h := newHarness(t)
	url, calls := statuses(t, nil, 503, 502, 504, 503)
	c := h.client("inventory", nil, fastRetry)
	resp, err := get(context.Background(), c, url)
	if err != nil || resp.StatusCode != 504 || calls.Load() != 3 {
		t.Fatalf("resp %v err %v calls %d", resp, err, calls.Load())
	}
	rec := h.record(EventDependencyCall)
	if rec.Level != "ERROR" || rec.Attrs[FieldRetries] != 2.0 || rec.Attrs[FieldErrorType] != "504" {
		t.Errorf("record %s %v", rec.Level, rec.Attrs)
	}
	if n := len(h.spans()); n != 4 {
		t.Errorf("%d spans, want 3 attempts and the logical span", n)
	}
}

func TestRetryConnectionRefused(t *testing.T) {
	h := newHarness(t)
	c := h.client("inventory", nil, fastRetry)
	if _, err := get(context.Background(), c, "http://"+freePort(t)+"/"); err == nil {
		t.Fatal("no error")
	}
	rec := h.record(EventDependencyCall)
	if rec.Level != "ERROR" || rec.Attrs[FieldRetries] != 2.0 || rec.Attrs[FieldErrorType] != CategoryConnectionRefused {
		t.Errorf("record %s %v", rec.Level, rec.Attrs)
	}
	spans := h.spans()
	if len(spans) != 4 || spans[3].Status.Code != codes.Error {
		t.Errorf("spans %v, logical status %v", spanNames(spans), spans[len(spans)-1].Status)
	}
}

func TestRetryOnlyReplayable(t *testing.T) {
	type body struct{ io.Reader }
	for _, tc := range []struct {
		name  string
		req   func(url string) *http.Request
		tries int64
	}{
		{"post", func(url string) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte("order")))
			return r
		}, 1},
		{"post_idempotency_key", func(url string) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte("order")))
			r.Header.Set("Idempotency-Key", "k1")
			return r
		}, 2},
		{"put_without_get_body", func(url string) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, url, body{bytes.NewReader([]byte("order"))})
			return r
		}, 1},
		{"put", func(url string) *http.Request {
			r, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte("order")))
			return r
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var calls atomic.Int64
			bodies := make(chan string, 4)
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies <- string(b)
				if calls.Add(1) == 1 {
					w.WriteHeader(503)
				}
			}))
			c := h.client("inventory", nil, fastRetry)
			resp, err := c.Do(tc.req(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if calls.Load() != tc.tries {
				t.Errorf("%d attempts, want %d", calls.Load(), tc.tries)
			}
			// A request that cannot be retried gets no logical span.
			wantSpans := 1
			if tc.tries > 1 {
				wantSpans = int(tc.tries) + 1
			}
			if spans := h.spans(); len(spans) != wantSpans {
				t.Errorf("spans %v, want %d", spanNames(spans), wantSpans)
			}
			for range calls.Load() {
				if b := <-bodies; b != "order" {
					t.Errorf("body %q", b)
				}
			}
		})
	}
}

func TestRetryCanceledDuringBackoff(t *testing.T) {
	h := newHarness(t)
	url, calls := statuses(t, nil, 503)
	c := h.client("inventory", nil, WithRetry(RetryPolicy{Backoff: 10 * time.Second, MaxBackoff: 10 * time.Second}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	resp, err := get(ctx, c, url)
	if err != nil || resp.StatusCode != 503 || calls.Load() != 1 {
		t.Fatalf("resp %v err %v calls %d: the last response is returned", resp, err, calls.Load())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waited %v after the cancel", d)
	}
	if rec := h.record(EventDependencyCall); rec.Attrs[FieldStatus] != 503.0 || rec.Attrs[FieldRetries] != 0.0 {
		t.Errorf("record %v", rec.Attrs)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999", maxRetryAfter * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Friday, 02-Jan-26 03:05:05 GMT", time.Minute, true}, // RFC 850
	} {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	for n, max := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		max *= time.Millisecond
		for range 100 {
			if d := backoff(&p, n); d < max/2 || d >= max {
				t.Fatalf("backoff(%d) = %v, want [%v, %v)", n, d, max/2, max)
			}
		}
	}
	if d := backoff(&p, 1000); d < 500*time.Millisecond || d >= time.Second {
		t.Errorf("backoff(1000) = %v", d)
	}
	if p := (RetryPolicy{}).withDefaults(); p.MaxAttempts != 3 || p.Backoff != 100*time.Millisecond || p.MaxBackoff != 5*time.Second {
		t.Errorf("defaults %+v", p)
	}
}
