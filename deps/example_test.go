package deps_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"

	"github.com/otelkit/otelkit/deps"
)

// exampleLogger prints records as text without the parts that change from
// run to run: the time, the duration and the test server's address.
func exampleLogger(serverURL string) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, deps.FieldDurationMS:
				return slog.Attr{}
			case deps.FieldURL:
				return slog.String(a.Key, strings.Replace(a.Value.String(), serverURL, "http://inventory.internal", 1))
			}
			return a
		},
	}))
}

func ExampleNewClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/items/42" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"id":42,"stock":7}`)
	}))
	defer srv.Close()

	client := deps.NewClient("inventory", srv.Client(), deps.WithLogger(exampleLogger(srv.URL)))
	for _, path := range []string{"/items/42?api_key=s3cr3t", "/items/43"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			continue
		}
		_ = resp.Body.Close()
	}
	// Output:
	// level=INFO msg="dependency call" event=dependency_call dependency=inventory method=GET url="http://inventory.internal/items/42?api_key=REDACTED" status=200 retries=0
	// level=WARN msg="dependency call" event=dependency_call dependency=inventory method=GET url=http://inventory.internal/items/43 status=404 retries=0 error.type=404
}

func ExampleWithRetry() {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	client := deps.NewClient("inventory", srv.Client(),
		deps.WithLogger(exampleLogger(srv.URL)),
		deps.WithRetry(deps.RetryPolicy{MaxAttempts: 3}))
	resp, err := client.Get(srv.URL + "/items")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = resp.Body.Close()
	fmt.Println(resp.StatusCode, "after", calls.Load(), "attempts")
	// Output:
	// level=WARN msg="dependency call" event=dependency_call dependency=inventory method=GET url=http://inventory.internal/items status=200 retries=1
	// 200 after 2 attempts
}

func ExampleLogicalCall() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	client := deps.NewClient("inventory", srv.Client(), deps.WithLogger(exampleLogger(srv.URL)))

	// A retry loop of your own: the attempts count as retries of one call.
	ctx := deps.LogicalCall(context.Background())
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/items", nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
	}
	// Output:
	// level=WARN msg="dependency call" event=dependency_call dependency=inventory method=GET url=http://inventory.internal/items status=502 retries=0 error.type=502
	// level=ERROR msg="dependency call" event=dependency_call dependency=inventory method=GET url=http://inventory.internal/items status=502 retries=1 error.type=502
}

func ExampleStep() {
	logger := exampleLogger("")
	ctx := context.Background()

	ctx, end := deps.Step(ctx, "fetch_customer", deps.WithLogger(logger))
	_ = ctx // do the step's work with ctx, which holds the step's span
	end(nil)
	// Output:
	// level=INFO msg="step timing" event=step_timing step=fetch_customer
}

func ExampleCall() {
	logger := exampleLogger("")
	err := deps.Call(context.Background(), "postgres", "query_orders", func(ctx context.Context) error {
		return errors.New(`connect "postgres://app:hunter2@db:5432/orders": connection refused`)
	}, deps.WithLogger(logger))
	fmt.Println(err != nil)
	// Output:
	// level=ERROR msg="dependency call" event=dependency_call dependency=postgres operation=query_orders error.type=_OTHER error="connect \"postgres://REDACTED:REDACTED@db:5432/orders\": connection refused"
	// true
}

func ExampleErrorType() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := http.DefaultClient.Do(must(http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)))
	fmt.Println(deps.ErrorType(ctx, err))
	fmt.Println(deps.ErrorType(context.Background(), context.DeadlineExceeded))
	fmt.Println(deps.ErrorType(context.Background(), io.ErrUnexpectedEOF))
	fmt.Println(deps.ErrorType(context.Background(), errors.New("boom")))
	// Output:
	// canceled
	// timeout
	// connection_reset
	// _OTHER
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ExampleWithLevel() {
	var slow slog.LevelVar // change at run time
	slow.Set(slog.LevelError)
	_ = deps.NewClient("payments", nil,
		deps.WithLevel(deps.Success, slog.LevelDebug), // quiet successes
		deps.WithLevel(deps.Degraded, &slow),
	)
	fmt.Println(deps.Success, deps.Degraded, deps.Failed, deps.Canceled)
	// Output:
	// success degraded failed canceled
}
