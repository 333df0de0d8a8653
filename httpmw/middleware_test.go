package httpmw

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestRequestCompleted(t *testing.T) {
	tests := []struct {
		name   string
		status int
		opts   []Option
		sleep  time.Duration
		path   string
		level  string
		slow   bool
		absent bool // not written at INFO
	}{
		{name: "200", status: 200, level: "INFO"},
		{name: "201", status: 201, level: "INFO"},
		{name: "302", status: 302, level: "INFO"},
		{name: "404", status: 404, level: "WARN"},
		{name: "499", status: 499, level: "WARN"},
		{name: "500", status: 500, level: "ERROR"},
		{name: "503", status: 503, level: "ERROR"},
		{name: "404 as INFO", status: 404, level: "INFO", opts: []Option{WithStatusLevels(func(s int) slog.Level {
			if s == 404 {
				return slog.LevelInfo
			}
			return DefaultStatusLevel(s)
		})}},
		{name: "slow", status: 200, sleep: 20 * time.Millisecond, level: "WARN", slow: true,
			opts: []Option{WithSlowThreshold(10 * time.Millisecond)}},
		{name: "slow 500 stays ERROR", status: 500, sleep: 20 * time.Millisecond, level: "ERROR", slow: true,
			opts: []Option{WithSlowThreshold(10 * time.Millisecond)}},
		{name: "route threshold overrides", status: 200, sleep: 20 * time.Millisecond, level: "INFO",
			opts: []Option{WithSlowThreshold(10 * time.Millisecond), WithRouteSlowThreshold("POST /items/{id}", time.Minute)}},
		{name: "route threshold tighter", status: 200, sleep: 20 * time.Millisecond, level: "WARN", slow: true,
			opts: []Option{WithRouteSlowThreshold("/items/{id}", 10*time.Millisecond)}},
		{name: "slow rule off", status: 200, sleep: 20 * time.Millisecond, level: "INFO",
			opts: []Option{WithSlowThreshold(0)}},
		{name: "skipped path", status: 200, path: "/items/health", absent: true,
			opts: []Option{WithSkipPaths("/items/health")}},
		{name: "skipped path still WARN", status: 404, path: "/items/health", level: "WARN",
			opts: []Option{WithSkipPaths("/items/health")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			mux := http.NewServeMux()
			mux.HandleFunc("POST /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				time.Sleep(tt.sleep)
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			})
			path := tt.path
			if path == "" {
				path = "/items/42"
			}
			req := httpReq("POST", path)
			req.Body = io.NopCloser(strings.NewReader("hello"))
			serve(h.wrap(mux, tt.opts...), req)

			recs := h.events(EventRequestCompleted)
			if tt.absent {
				if len(recs) != 0 {
					t.Fatalf("request_completed written at INFO: %v", recs)
				}
				if len(h.ended()) != 1 {
					t.Error("skipped path not traced")
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("request_completed: %d records", len(recs))
			}
			rec := recs[0]
			want := map[string]any{
				"level": tt.level, "msg": "request completed", "method": "POST", "path": path,
				"route": "/items/{id}", "status": float64(tt.status), "bytes_in": 5.0, "bytes_out": 5.0,
				"content_type": "text/plain",
			}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
			if d, ok := rec["duration_ms"].(float64); !ok || d < float64(tt.sleep/time.Millisecond) {
				t.Errorf("duration_ms %v", rec["duration_ms"])
			}
			if (rec["slow"] == true) != tt.slow {
				t.Errorf("slow = %v", rec["slow"])
			}
			if rec["trace_id"] == nil || rec["span_id"] == nil || rec["request_id"] == nil {
				t.Errorf("missing IDs: %v", rec)
			}
		})
	}
}

func TestRequestStartedAtDebug(t *testing.T) {
	const secret = "hunter2hunter2"
	h := newHarness(t, logbridge.WithLevel(slog.LevelDebug))
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := get("/search?q=shoes&access_token=" + secret + "&page=2")
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Cookie", "session="+secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "test-agent/1.0")
	req.Header.Set("X-Custom-Secretish", secret)
	serve(handler, req)

	rec := h.one(EventRequestStarted)
	if rec["level"] != "DEBUG" || rec["method"] != "GET" || rec["path"] != "/search" ||
		rec["client_address"] != "192.0.2.1" || rec["user_agent"] != "test-agent/1.0" {
		t.Errorf("record %v", rec)
	}
	if q := rec["query"]; q != "q=shoes&access_token=REDACTED&page=2" {
		t.Errorf("query %v", q)
	}
	hd, _ := rec["headers"].(map[string]any)
	if hd["accept"] != "application/json" {
		t.Errorf("headers %v", hd)
	}
	if strings.Contains(h.console.String(), secret) {
		t.Errorf("secret logged:\n%s", h.console.String())
	}
	if rec["trace_id"] == nil {
		t.Error("request_started has no trace_id")
	}

	// At INFO it costs nothing and writes nothing.
	h2 := newHarness(t)
	serve(h2.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})), get("/"))
	if n := len(h2.events(EventRequestStarted)); n != 0 {
		t.Errorf("request_started at INFO: %d", n)
	}
}

func TestSetUser(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{name: "plain", want: "u-123"},
		{name: "hashed", opts: []Option{WithHashedUserID(), WithRedaction(redact.New(redact.WithHashKey(key)))},
			want: redact.New(redact.WithHashKey(key)).Hash("u-123")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				h.logger.InfoContext(ctx, "before auth")
				if UserID(ctx) != "" {
					t.Error("user before SetUser")
				}
				SetUser(ctx, "u-123")
				if got := UserID(ctx); got != tt.want {
					t.Errorf("UserID = %q, want %q", got, tt.want)
				}
				// From another goroutine of the request, deeper in the stack.
				var wg sync.WaitGroup
				wg.Go(func() { h.logger.InfoContext(ctx, "after auth") })
				wg.Wait()
			}), tt.opts...)
			serve(handler, get("/"))
			for _, l := range h.lines() {
				switch l["msg"] {
				case "before auth":
					if _, ok := l["user_id"]; ok {
						t.Errorf("user_id before SetUser: %v", l)
					}
				case "after auth", "request completed":
					if l["user_id"] != tt.want {
						t.Errorf("%v: user_id %v, want %q", l["msg"], l["user_id"], tt.want)
					}
				}
			}
			if v, ok := spanAttr(h.ended()[0], AttrUserID); !ok || v.AsString() != tt.want {
				t.Errorf("span user.id %v", v.AsString())
			}
			if tt.want != "u-123" && strings.Contains(h.console.String(), "u-123") {
				t.Error("raw user ID logged with WithHashedUserID")
			}
		})
	}
	SetUser(context.Background(), "x") // outside a request: no effect, no panic
	if UserID(context.Background()) != "" {
		t.Error("UserID outside a request")
	}
}

func TestNilSamplingAndDefaults(t *testing.T) {
	// No options at all: global providers (no-ops) and slog.Default.
	var buf lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(logbridge.NewHandler(logbridge.WithConsole(&buf))))
	defer slog.SetDefault(old)
	rec := serve(New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slog.InfoContext(r.Context(), "hi")
	}), WithSampling(nil), WithRedaction(nil)), get("/"))
	if rec.Code != 200 || rec.Header().Get("X-Request-Id") == "" {
		t.Fatalf("code %d", rec.Code)
	}
	if !strings.Contains(buf.String(), `"msg":"request completed"`) || !strings.Contains(buf.String(), rec.Header().Get("X-Request-Id")) {
		t.Errorf("slog.Default not used per request:\n%s", buf.String())
	}
}

func TestSamplingForcedDebug(t *testing.T) {
	late := &lateHandler{}
	policy, err := sampling.New(sampling.WithAllowedPeers("192.0.2.1"), sampling.WithLogger(slog.New(late)))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, logbridge.WithSampling(policy))
	late.h = h.handler
	// Spans are sampled only when sampling.TraceSampler sees forced debug,
	// which proves Start ran before the span started.
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.TraceSampler(sdktrace.NeverSample())),
		sdktrace.WithSpanProcessor(h.spans))
	t.Cleanup(func() { _ = h.tp.Shutdown(context.Background()) })
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.logger.DebugContext(r.Context(), "detail")
	}), WithSampling(policy))

	serve(handler, get("/plain"))
	if len(h.ended()) != 0 || len(h.events(EventRequestStarted)) != 0 || strings.Contains(h.console.String(), "detail") {
		t.Fatalf("plain request sampled:\n%s", h.console.String())
	}

	req := get("/forced")
	req.Header.Set("X-Debug-Log", "1")
	serve(handler, req)
	if len(h.ended()) != 1 {
		t.Fatalf("forced request not traced: %d spans", len(h.ended()))
	}
	rec := h.one(EventRequestStarted)
	if rec["sampled_by"] != "debug" || rec["path"] != "/forced" {
		t.Errorf("request_started %v", rec)
	}
	if !strings.Contains(h.console.String(), `"msg":"detail"`) {
		t.Error("handler DEBUG record missing")
	}
	// The audit record of the trusted header carries the request ID.
	if audit := h.one("debug_sampled"); audit["request_id"] != rec["request_id"] || audit["request_id"] == nil {
		t.Errorf("debug_sampled %v", audit)
	}
	if st := policy.Stats(); st.DebugHonoured != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSamplingTailBufferFinished(t *testing.T) {
	policy, err := sampling.New(sampling.WithTailBuffer(100, 1<<16))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		emitted bool
	}{
		{"200 discards", func(w http.ResponseWriter) {}, false},
		{"500 emits", func(w http.ResponseWriter) { w.WriteHeader(500) }, true},
		{"panic emits", func(w http.ResponseWriter) { panic("x") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, logbridge.WithSampling(policy))
			handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.logger.DebugContext(r.Context(), "held")
				tt.handler(w)
			}), WithSampling(policy))
			serve(handler, get("/"))
			got := strings.Contains(h.console.String(), `"msg":"held"`)
			if got != tt.emitted {
				t.Errorf("held record emitted %v, want %v:\n%s", got, tt.emitted, h.console.String())
			}
		})
	}
}

func TestHealthProbesNotAtInfo(t *testing.T) {
	policy, err := sampling.New(sampling.WithNoisyEvery(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, withPolicy := range []bool{false, true} {
		t.Run(fmt.Sprint("policy=", withPolicy), func(t *testing.T) {
			h := newHarness(t)
			health := NewHealth(WithLogger(h.logger))
			mux := http.NewServeMux()
			mux.Handle("GET /healthz", health.LivenessHandler())
			opts := []Option{}
			if withPolicy {
				opts = append(opts, WithSampling(policy))
			}
			handler := h.wrap(mux, opts...)
			for range 10 {
				if rec := serve(handler, get("/healthz")); rec.Code != 200 {
					t.Fatalf("code %d", rec.Code)
				}
			}
			n := len(h.events(EventRequestCompleted))
			if withPolicy && n != 2 || !withPolicy && n != 0 {
				t.Errorf("request_completed at INFO: %d", n)
			}
			if len(h.ended()) != 10 {
				t.Errorf("probes traced: %d", len(h.ended()))
			}
		})
	}
}

// TestConcurrentSafe serves many requests at once; -race checks the state.
func TestConcurrentSafe(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /u/{id}", func(w http.ResponseWriter, r *http.Request) {
		SetUser(r.Context(), r.PathValue("id"))
		h.logger.InfoContext(r.Context(), "work", "id", r.PathValue("id"))
		if r.PathValue("id") == "13" {
			panic("unlucky")
		}
	})
	srv, client := newServer(t, h.wrap(mux))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			resp, err := client.Get(fmt.Sprintf("%s/u/%d", srv.URL, i))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	// Records never mix requests: each work record's user is its own ID.
	for _, l := range h.lines() {
		if l["msg"] == "work" && l["user_id"] != l["id"] {
			t.Errorf("mixed record %v", l)
		}
	}
	if n := len(h.events(EventRequestCompleted)); n != 40 {
		t.Errorf("request_completed: %d", n)
	}
}

// lateHandler forwards to a handler set after it was given to a policy.
type lateHandler struct{ h slog.Handler }

func (l *lateHandler) Enabled(ctx context.Context, lv slog.Level) bool { return l.h.Enabled(ctx, lv) }
func (l *lateHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }
func (l *lateHandler) WithAttrs(as []slog.Attr) slog.Handler           { return l.h.WithAttrs(as) }
func (l *lateHandler) WithGroup(n string) slog.Handler                 { return l.h.WithGroup(n) }

func TestOTelHTTPOptions(t *testing.T) {
	h := newHarness(t)
	handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		WithOTelHTTPOptions(otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/untraced" })))
	serve(handler, get("/untraced"))
	serve(handler, get("/traced"))
	if n := len(h.ended()); n != 1 {
		t.Errorf("spans: %d, want 1", n)
	}
	recs := h.events(EventRequestCompleted)
	if len(recs) != 2 || recs[0]["request_id"] == nil || recs[0]["trace_id"] != nil {
		t.Errorf("records %v", recs)
	}
}
