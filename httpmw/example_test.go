package httpmw_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/redact"
)

func ExampleNew() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		// Every record logged with r.Context() carries request_id, and
		// trace_id and span_id.
		slog.InfoContext(r.Context(), "fetching order", "order_id", r.PathValue("id"))
		fmt.Println("handler sees request", httpmw.RequestID(r.Context()))
	})
	// Records go to slog.Default(), looked up per request; otelsetup.Setup
	// installs logbridge there. This example discards them.
	handler := httpmw.New(mux, httpmw.WithLogger(slog.New(slog.DiscardHandler)))

	req := httptest.NewRequest("GET", "/orders/7", nil)
	req.Header.Set("X-Request-ID", "req-7f3a")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, "echoed", rec.Header().Get("X-Request-ID"))

	// Output:
	// handler sees request req-7f3a
	// 200 echoed req-7f3a
}

// The request_completed record, printed here by a plain text handler
// without the time and duration. With logbridge the record also carries
// request_id, user_id, trace_id and span_id.
func ExampleNew_requestLog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == httpmw.FieldDurationMS {
				return slog.Attr{}
			}
			return a
		},
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such order", http.StatusNotFound)
	})
	handler := httpmw.New(mux, httpmw.WithLogger(logger))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/7", nil))
	// Output:
	// level=WARN msg="request completed" event=request_completed method=GET path=/orders/7 route=/orders/{id} status=404 bytes_in=0 bytes_out=14 content_type="text/plain; charset=utf-8"
}

func ExampleHandlerFunc() {
	errStore := errors.New("pq: connection refused to 10.0.0.5")
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", httpmw.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		switch r.PathValue("id") {
		case "0":
			return httpmw.BadRequest("invalid order id", map[string]string{"id": "must be positive"})
		case "404":
			return httpmw.NotFound("order not found")
		default:
			return fmt.Errorf("load order: %w", errStore) // logged, never sent
		}
	}))
	handler := httpmw.New(mux, httpmw.WithLogger(slog.New(slog.DiscardHandler)))

	for _, id := range []string{"0", "404", "1"} {
		req := httptest.NewRequest("GET", "/orders/"+id, nil)
		req.Header.Set("X-Request-ID", "req-"+id)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 400 {"error":{"status":400,"message":"invalid order id","details":{"id":"must be positive"},"request_id":"req-0"}}
	// 404 {"error":{"status":404,"message":"order not found","request_id":"req-404"}}
	// 500 {"error":{"status":500,"message":"Internal Server Error","request_id":"req-1"}}
}

func ExampleSetUser() {
	policy := redact.New(redact.WithHashKey([]byte("example key, from configuration")))
	handler := httpmw.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// After authentication: later records and the span carry the user.
		httpmw.SetUser(r.Context(), "alice@example.com")
		fmt.Println(httpmw.UserID(r.Context()))
	}), httpmw.WithHashedUserID(), httpmw.WithRedaction(policy), httpmw.WithLogger(slog.New(slog.DiscardHandler)))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// hmac:94e0275115c50d0c
}

func ExampleHealth() {
	health := httpmw.NewHealth()
	health.AddCheck("db", func(ctx context.Context) error { return nil }, 0)
	health.AddCheck("queue", func(ctx context.Context) error { return errors.New("broker unreachable") }, 0)

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health.LivenessHandler())
	mux.Handle("GET /readyz", health.ReadinessHandler())
	handler := httpmw.New(mux, httpmw.WithLogger(slog.New(slog.DiscardHandler)))

	for _, path := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var rep httpmw.HealthReport
		_ = json.Unmarshal(rec.Body.Bytes(), &rep)
		fmt.Println(path, rec.Code, rep.Status)
		for _, name := range []string{"db", "queue"} {
			if c, ok := rep.Checks[name]; ok {
				fmt.Println("  ", name, c.Status)
			}
		}
	}
	// Output:
	// /healthz 200 ok
	// /readyz 503 fail
	//    db ok
	//    queue fail
}

// An incoming ID that could forge a log line, or is too long, is replaced
// by a new one, and the replacement is noted at WARN with a sanitized
// preview.
func ExampleRequestID_replaced() {
	handler := httpmw.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		httpmw.WithLogger(slog.New(slog.DiscardHandler)))
	for _, incoming := range []string{"abc-123", "x\r\nlevel=ERROR msg=forged", "ID-é"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Request-ID", incoming)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		id := rec.Header().Get("X-Request-ID")
		fmt.Printf("%q kept: %v\n", incoming, id == incoming)
	}
	// Output:
	// "abc-123" kept: true
	// "x\r\nlevel=ERROR msg=forged" kept: false
	// "ID-é" kept: false
}
