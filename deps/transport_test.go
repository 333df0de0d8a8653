package deps

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// outcomeCase is one way an HTTP call can end.
type outcomeCase struct {
	name    string
	handler http.HandlerFunc // nil: nothing listens
	tls     bool             // serve TLS the client does not trust
	opts    []Option
	// call makes the request; it may cancel ctx.
	call func(ctx context.Context, c *http.Client, url string, arrived <-chan struct{}) error

	level   string
	status  int    // 0: no response
	errType string // "": none
	slow    bool
	errMsg  string // substring of the error field; "": no error field
}

func TestTransportOutcomes(t *testing.T) {
	block := func(arrived chan<- struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
	plain := func(ctx context.Context, c *http.Client, url string, _ <-chan struct{}) error {
		_, err := get(ctx, c, url)
		return err
	}
	hijack := func(linger bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			if linger {
				_ = conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
			}
			_ = conn.Close()
		}
	}
	cases := []outcomeCase{
		{
			name:    "success",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") },
			call:    plain, level: "INFO", status: 200,
		},
		{
			name:    "not_found",
			handler: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			call:    plain, level: "WARN", status: 404, errType: "404",
		},
		{
			name:    "server_error",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
			call:    plain, level: "WARN", status: 500, errType: "500",
		},
		{
			name: "slow",
			handler: func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(30 * time.Millisecond)
			},
			opts: []Option{WithSlowThreshold(10 * time.Millisecond)},
			call: plain, level: "WARN", status: 200, slow: true,
		},
		{
			name: "connection_reset", handler: hijack(true),
			call: plain, level: "ERROR", errType: CategoryConnectionReset, errMsg: "connection reset by peer",
		},
		{
			name: "connection_closed", handler: hijack(false),
			call: plain, level: "ERROR", errType: CategoryConnectionReset, errMsg: "EOF",
		},
		{
			name: "connection_refused",
			call: plain, level: "ERROR", errType: CategoryConnectionRefused, errMsg: "connection refused",
		},
		{
			name: "tls", tls: true,
			handler: func(w http.ResponseWriter, r *http.Request) {},
			call:    plain, level: "ERROR", errType: CategoryTLS, errMsg: "certificate signed by unknown authority",
		},
		{
			name: "timeout",
			call: func(ctx context.Context, c *http.Client, url string, _ <-chan struct{}) error {
				ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				_, err := get(ctx, c, url)
				return err
			},
			level: "ERROR", errType: CategoryTimeout, errMsg: "context deadline exceeded",
		},
		{
			name: "caller_cancel",
			call: func(ctx context.Context, c *http.Client, url string, arrived <-chan struct{}) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				go func() {
					<-arrived
					cancel()
				}()
				_, err := get(ctx, c, url)
				return err
			},
			level: "INFO", errType: CategoryCanceled, errMsg: "context canceled",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			arrived := make(chan struct{}, 1)
			handler := tc.handler
			if tc.name == "timeout" || tc.name == "caller_cancel" {
				handler = block(arrived)
			}
			url := "http://" + freePort(t) + "/items/42"
			if handler != nil {
				srv := httptest.NewUnstartedServer(handler)
				srv.Config.ErrorLog = log.New(io.Discard, "", 0)
				if tc.tls {
					srv.StartTLS()
				} else {
					srv.Start()
				}
				t.Cleanup(srv.Close)
				url = srv.URL + "/items/42"
			}
			c := h.client("inventory", nil, tc.opts...)
			err := tc.call(context.Background(), c, url, arrived)
			if (err != nil) != (tc.status == 0) {
				t.Fatalf("client error %v, want an error: %v", err, tc.status == 0)
			}
			checkCall(t, h, url, tc)
		})
	}
}

// checkCall checks the record, the span and the metric point of one call
// made without retries, and that they share one measurement.
func checkCall(t *testing.T, h *harness, url string, tc outcomeCase) {
	t.Helper()
	host, port := hostPortOf(t, url)
	scheme := strings.SplitN(url, ":", 2)[0]
	span := h.span()
	rec := h.record(EventDependencyCall)

	// The record.
	if rec.Level != tc.level {
		t.Errorf("level %s, want %s", rec.Level, tc.level)
	}
	if rec.Message != msgDependencyCall || rec.Logger != LoggerName {
		t.Errorf("message %q logger %q", rec.Message, rec.Logger)
	}
	want := map[string]any{
		FieldEvent:      EventDependencyCall,
		FieldDependency: "inventory",
		FieldMethod:     "GET",
		FieldURL:        url,
		FieldDurationMS: wantMillis(span),
		FieldRetries:    0,
	}
	if tc.status != 0 {
		want[FieldStatus] = tc.status
	}
	if tc.errType != "" {
		want[FieldErrorType] = tc.errType
	}
	if tc.slow {
		want[FieldSlow] = true
	}
	got := rec.Attrs
	if tc.errMsg != "" {
		msg, _ := got[FieldError].(string)
		if !strings.Contains(msg, tc.errMsg) {
			t.Errorf("error field %q, want it to contain %q", msg, tc.errMsg)
		}
		got = without(got, FieldError)
	}
	checkMap(t, "record", got, want)
	if rec.TraceID != span.SpanContext.TraceID().String() || rec.SpanID != span.SpanContext.SpanID().String() {
		t.Errorf("record trace %s span %s, want the call's span %s", rec.TraceID, rec.SpanID, span.SpanContext.SpanID())
	}

	// The span.
	if span.Name != "GET" || span.SpanKind != trace.SpanKindClient {
		t.Errorf("span %q kind %v", span.Name, span.SpanKind)
	}
	if span.InstrumentationScope.Name != ScopeName {
		t.Errorf("scope %q", span.InstrumentationScope.Name)
	}
	wantSpan := map[string]any{
		"http.request.method": "GET",
		"url.full":            url,
		"server.address":      host,
		"server.port":         port,
		"service.peer.name":   "inventory",
	}
	if tc.status != 0 {
		wantSpan["http.response.status_code"] = tc.status
	}
	if tc.errType != "" {
		wantSpan["error.type"] = tc.errType
	}
	checkMap(t, "span attributes", attrMap(span.Attributes), wantSpan)
	wantCode := codes.Unset
	if tc.status >= 400 || (tc.errType != "" && tc.errType != CategoryCanceled) {
		wantCode = codes.Error
	}
	if span.Status.Code != wantCode {
		t.Errorf("span status %v, want %v", span.Status, wantCode)
	}
	if tc.errMsg != "" && tc.errType != CategoryCanceled && !strings.Contains(span.Status.Description, tc.errMsg) {
		t.Errorf("span status description %q, want %q in it", span.Status.Description, tc.errMsg)
	}

	// The metric point: the span's duration, exactly.
	p := h.point(MetricHTTPDuration)
	if p.Count != 1 || p.Sum != span.EndTime.Sub(span.StartTime).Seconds() {
		t.Errorf("metric count %d sum %v, want 1 and %v", p.Count, p.Sum, span.EndTime.Sub(span.StartTime).Seconds())
	}
	wantMetric := map[string]any{
		"http.request.method": "GET",
		"server.address":      host,
		"server.port":         port,
		"url.scheme":          scheme,
		"service.peer.name":   "inventory",
	}
	if tc.status != 0 {
		wantMetric["http.response.status_code"] = tc.status
	}
	if tc.errType != "" {
		wantMetric["error.type"] = tc.errType
	}
	checkMap(t, "metric attributes", setMap(p.Attributes), wantMetric)
}

func TestTransportPropagatesAndForwardsRequestID(t *testing.T) {
	h := newHarness(t)
	got := make(chan http.Header, 4)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	c := h.client("inventory", nil)

	ctx := logbridgeFields(context.Background(), "req-123")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain")
	before := req.Header.Clone()
	if _, err := get(ctx, c, srv.URL); err != nil {
		t.Fatal(err)
	}
	hdr := <-got
	if id := hdr.Get("X-Request-ID"); id != "req-123" {
		t.Errorf("X-Request-ID %q, want req-123", id)
	}
	span := h.span()
	if tp := hdr.Get("Traceparent"); !strings.Contains(tp, span.SpanContext.TraceID().String()+"-"+span.SpanContext.SpanID().String()) {
		t.Errorf("traceparent %q does not name the client span", tp)
	}
	if h.record(EventDependencyCall).Attrs["request_id"] != "req-123" {
		t.Error("record lacks the request_id context field")
	}

	// The caller's request is never modified.
	if resp, err := c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		_ = resp.Body.Close()
	}
	<-got
	if len(req.Header) != len(before) || req.Header.Get("Traceparent") != "" || req.Header.Get("X-Request-ID") != "" {
		t.Errorf("request headers modified: %v", req.Header)
	}

	// A header the caller set wins; an unsafe ID is not sent.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Request-ID", "mine")
	if resp, err := c.Do(req); err == nil {
		_ = resp.Body.Close()
	}
	if id := (<-got).Get("X-Request-ID"); id != "mine" {
		t.Errorf("X-Request-ID %q, want the caller's", id)
	}
	if _, err := get(logbridgeFields(context.Background(), "bad id\r\nX-Evil: 1"), c, srv.URL); err != nil {
		t.Fatal(err)
	}
	if hdr := <-got; hdr.Get("X-Request-ID") != "" || hdr.Get("X-Evil") != "" {
		t.Errorf("unsafe request ID forwarded: %v", hdr)
	}
}

func TestTransportRequestIDOptions(t *testing.T) {
	h := newHarness(t)
	got := make(chan http.Header, 2)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	c := h.client("inventory", nil,
		WithRequestIDHeader("x-correlation-id"),
		WithRequestID(func(context.Context) string { return "corr-1" }))
	if _, err := get(context.Background(), c, srv.URL); err != nil {
		t.Fatal(err)
	}
	hdr := <-got
	if hdr.Get("X-Correlation-Id") != "corr-1" || hdr.Get("X-Request-ID") != "" {
		t.Errorf("headers %v", hdr)
	}
	off := h.client("inventory", nil, WithRequestIDHeader(""))
	if _, err := get(logbridgeFields(context.Background(), "req-9"), off, srv.URL); err != nil {
		t.Fatal(err)
	}
	if hdr := <-got; hdr.Get("X-Request-ID") != "" {
		t.Errorf("forwarded with forwarding off: %v", hdr)
	}
}

func TestRedirectChain(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/c", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "done") })
	srv := serve(t, mux)
	c := h.client("inventory", nil)
	ctx, parent := h.tp.Tracer("test").Start(context.Background(), "parent")
	resp, err := get(ctx, c, srv.URL+"/a")
	parent.End()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	recs := h.records(EventDependencyCall)
	if len(recs) != 3 {
		t.Fatalf("%d records, want one per hop:\n%s", len(recs), h.rec.Output())
	}
	spans := h.spans() // one per hop, then the caller's
	if len(spans) != 4 {
		t.Fatalf("spans %v, want one per hop and the caller's", spanNames(spans))
	}
	hops := []attempt{
		{url: srv.URL + "/a", status: 302},
		{url: srv.URL + "/b", status: 301, resend: 1},
		{url: srv.URL + "/c", status: 200, resend: 2},
	}
	// Every hop's span and metric point, exactly.
	checkAttempts(t, h, spans, parent.SpanContext().SpanID(), hops)
	for i, w := range hops {
		rec := recs[i]
		wantRec := map[string]any{
			FieldEvent: EventDependencyCall, FieldDependency: "inventory", FieldMethod: "GET",
			FieldURL: w.url, FieldStatus: w.status, FieldRetries: 0, FieldDurationMS: wantMillis(spans[i]),
		}
		if i > 0 {
			wantRec[FieldRedirects] = i
		}
		checkMap(t, "record "+w.url, rec.Attrs, wantRec)
		if rec.Level != "INFO" || rec.Message != msgDependencyCall || rec.Logger != LoggerName {
			t.Errorf("%s: level %s message %q logger %q", w.url, rec.Level, rec.Message, rec.Logger)
		}
		if rec.TraceID != spans[i].SpanContext.TraceID().String() || rec.SpanID != spans[i].SpanContext.SpanID().String() {
			t.Errorf("record of %s is not on its hop's span", w.url)
		}
	}
}

// TestSecretsNeverLeave sends secrets in the userinfo, the query and an
// error message, and looks for them in every byte deps wrote.
func TestSecretsNeverLeave(t *testing.T) {
	secrets := []string{"hunter2", "s3cr3t-token", "sig-abcdef", "pw-in-error", "AKIAIOSFODNN7EXAMPLE"}
	check := func(t *testing.T, h *harness) {
		t.Helper()
		all := h.everything()
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("secret %q leaked:\n%s", s, all)
			}
		}
		if !strings.Contains(all, "REDACTED") {
			t.Errorf("nothing redacted:\n%s", all)
		}
	}
	t.Run("url", func(t *testing.T) {
		h := newHarness(t)
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		url := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) +
			"/v1/items?token=s3cr3t-token&sig=sig-abcdef&page=2"
		c := h.client("inventory", nil, WithRetry(RetryPolicy{MaxAttempts: 2, Backoff: time.Millisecond}))
		if _, err := get(context.Background(), c, url); err != nil {
			t.Fatal(err)
		}
		rec := h.record(EventDependencyCall)
		wantURL := strings.Replace(srv.URL, "http://", "http://REDACTED:REDACTED@", 1) +
			"/v1/items?token=REDACTED&sig=REDACTED&page=2"
		if rec.Attrs[FieldURL] != wantURL {
			t.Errorf("url %v, want %s", rec.Attrs[FieldURL], wantURL)
		}
		check(t, h)
	})
	t.Run("error", func(t *testing.T) {
		h := newHarness(t)
		base := rtFunc(func(r *http.Request) (*http.Response, error) {
			return nil, &urlError{r.URL.String(), errors.New("upstream said password=pw-in-error key AKIAIOSFODNN7EXAMPLE")}
		})
		c := h.client("inventory", base)
		_, err := get(context.Background(), c, "http://bob:hunter2@127.0.0.1:1/x?token=s3cr3t-token")
		if err == nil {
			t.Fatal("no error")
		}
		if msg := h.record(EventDependencyCall).Attrs[FieldError]; !strings.Contains(msg.(string), "REDACTED") {
			t.Errorf("error field %q", msg)
		}
		check(t, h)
	})
}

// urlError prints its URL whole, as *url.Error does.
type urlError struct {
	url string
	err error
}

func (e *urlError) Error() string { return "Get " + e.url + ": " + e.err.Error() }
func (e *urlError) Unwrap() error { return e.err }

func TestTransportConcurrentSafe(t *testing.T) {
	h := newHarness(t)
	var seen sync.Map
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every tenth URL fails once.
		if _, again := seen.LoadOrStore(r.URL.RawQuery, true); !again && r.URL.Query().Get("n") == "7" {
			w.WriteHeader(503)
		}
	}))
	c := h.client("inventory", nil, WithRetry(RetryPolicy{Backoff: time.Millisecond}))
	const goroutines, each = 50, 10
	errs := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			var err error
			for i := range each {
				if _, e := get(context.Background(), c, srv.URL+"/?n="+strconv.Itoa(i)+"&g="+strconv.Itoa(g)); e != nil {
					err = e
				}
			}
			errs <- err
		}()
	}
	for range goroutines {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	const total, retried = goroutines * each, goroutines
	recs := h.records(EventDependencyCall)
	if len(recs) != total {
		t.Errorf("%d records, want %d", len(recs), total)
	}
	n := 0
	for _, r := range recs {
		if r.Attrs[FieldRetries] == 1.0 {
			n++
		}
	}
	if n != retried {
		t.Errorf("%d retried calls, want %d", n, retried)
	}
	// One logical span per call, one attempt span per attempt.
	if n := len(h.spans()); n != 2*total+retried {
		t.Errorf("%d spans, want %d", n, 2*total+retried)
	}
	var count uint64
	for _, p := range h.points(MetricHTTPDuration) {
		count += p.Count
	}
	if count != total+retried {
		t.Errorf("%d measurements, want one per attempt, %d", count, total+retried)
	}
}

func TestEndAtBodyClose(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(200 * time.Millisecond)
		_, _ = io.WriteString(w, "body")
	}))
	for _, atClose := range []bool{false, true} {
		h := newHarness(t)
		var opts []Option
		if atClose {
			opts = append(opts, WithEndAtBodyClose())
		}
		c := h.client("inventory", nil, opts...)
		if _, err := get(context.Background(), c, srv.URL); err != nil {
			t.Fatal(err)
		}
		span := h.span()
		d := span.EndTime.Sub(span.StartTime)
		if atClose != (d >= 200*time.Millisecond) {
			t.Errorf("end at close %v: the call took %v", atClose, d)
		}
		if rec := h.record(EventDependencyCall); rec.Attrs[FieldDurationMS] != wantMillis(span) {
			t.Errorf("record %v, span %v", rec.Attrs[FieldDurationMS], wantMillis(span))
		}
		if p := h.point(MetricHTTPDuration); p.Sum != d.Seconds() {
			t.Errorf("metric %v, span %v", p.Sum, d.Seconds())
		}
	}
}

func TestEndAtBodyCloseReadError(t *testing.T) {
	h := newHarness(t)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "short")
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		if conn != nil {
			_ = conn.Close()
		}
	}))
	c := h.client("inventory", nil, WithEndAtBodyClose())
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.spans()) != 0 {
		t.Error("the call ended before the body")
	}
	_, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	_ = resp.Body.Close()
	if rerr == nil {
		t.Fatal("no read error")
	}
	rec := h.record(EventDependencyCall)
	if rec.Level != "ERROR" || rec.Attrs[FieldErrorType] != CategoryConnectionReset || rec.Attrs[FieldStatus] != 200.0 {
		t.Errorf("record %s %v", rec.Level, rec.Attrs)
	}
}

func TestNewClientCopies(t *testing.T) {
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	orig := &http.Client{Transport: base, Timeout: 3 * time.Second}
	c := NewClient("inventory", orig)
	if orig.Transport != base {
		t.Error("the caller's client was modified")
	}
	if c == orig || c.Timeout != 3*time.Second {
		t.Errorf("not a copy: %+v", c)
	}
	if tr := c.Transport.(*transport); tr.base != base || tr.name != "inventory" {
		t.Errorf("transport %+v", tr)
	}
	again := NewClient("orders", c)
	if tr := again.Transport.(*transport); tr.base != base || tr.name != "orders" {
		t.Errorf("wrapped twice: %+v", tr)
	}
	if d := NewClient("x", nil); d.Transport.(*transport).base != http.DefaultTransport || d.Timeout != 0 {
		t.Errorf("nil client: %+v", d)
	}
}

func TestTransportBrokenBase(t *testing.T) {
	h := newHarness(t)
	tr := NewTransport("inventory", rtFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), h.opts()...)
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	if resp, err := tr.RoundTrip(req); err == nil || resp != nil {
		t.Errorf("nil, nil from base gave %v, %v", resp, err)
	}
	if _, err := tr.RoundTrip(nil); !errors.Is(err, errNilRequest) {
		t.Errorf("nil request: %v", err)
	}
	if rec := h.record(EventDependencyCall); rec.Level != "ERROR" || rec.Attrs[FieldErrorType] != CategoryOther {
		t.Errorf("record %s %v", rec.Level, rec.Attrs)
	}
}

func TestLogicalCall(t *testing.T) {
	h := newHarness(t)
	c := h.client("inventory", staticRT{status: 503})
	ctx := LogicalCall(context.Background())
	for range 3 {
		if _, err := get(ctx, c, "http://127.0.0.1:1/x"); err != nil {
			t.Fatal(err)
		}
	}
	recs := h.records(EventDependencyCall)
	if len(recs) != 3 {
		t.Fatalf("%d records, want one per call:\n%s", len(recs), h.rec.Output())
	}
	for i, r := range recs {
		want := "WARN"
		if i > 0 {
			want = "ERROR" // still 503 after retrying
		}
		if r.Attrs[FieldRetries] != float64(i) || r.Level != want {
			t.Errorf("attempt %d: %s retries %v", i, r.Level, r.Attrs[FieldRetries])
		}
	}
	if m := attrMap(h.spans()[2].Attributes); m["http.request.resend_count"] != int64(2) {
		t.Errorf("third attempt's span %v", m)
	}
}

func TestDefaultLoggerIsNamed(t *testing.T) {
	h := newHarness(t)
	old := slog.Default()
	slog.SetDefault(h.rec.Logger())
	defer slog.SetDefault(old)
	c := NewClient("inventory", &http.Client{Transport: staticRT{status: 200}},
		WithTracerProvider(h.tp), WithMeterProvider(h.mp))
	for range 2 {
		if _, err := get(context.Background(), c, "http://127.0.0.1:1/"); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range h.records(EventDependencyCall) {
		if r.Logger != LoggerName {
			t.Errorf("logger %q, want %q", r.Logger, LoggerName)
		}
	}
}

type rwc struct {
	io.Reader
	wrote []byte
}

func (r *rwc) Write(p []byte) (int, error) { r.wrote = append(r.wrote, p...); return len(p), nil }
func (r *rwc) Close() error                { return nil }

func TestEndAtBodyCloseKeepsWriter(t *testing.T) {
	h := newHarness(t)
	conn := &rwc{Reader: strings.NewReader("")}
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusSwitchingProtocols, Body: conn, Request: r}, nil
	})
	tr := NewTransport("ws", base, h.opts(WithEndAtBodyClose())...)
	resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://127.0.0.1:1/ws", nil))
	if err != nil {
		t.Fatal(err)
	}
	w, ok := resp.Body.(io.Writer)
	if !ok {
		t.Fatal("the body of a 101 response lost its Write method")
	}
	_, _ = w.Write([]byte("ping"))
	_ = resp.Body.Close()
	if string(conn.wrote) != "ping" || h.record(EventDependencyCall).Level != "INFO" {
		t.Errorf("wrote %q, records:\n%s", conn.wrote, h.rec.Output())
	}
}
