// Command orders is a small orders service instrumented with otelkit.
//
//	go run ./examples/orders demo   # serve a few requests to itself, print the logs, exit
//	go run ./examples/orders        # serve on :8080 until interrupted
//
// With no OTLP endpoint configured, logs, spans and metrics go to the
// console; set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelkit/otelkit/otelsetup"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

func run(args []string) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	demo := len(args) > 0 && args[0] == "demo"
	opts := []otelsetup.Option{otelsetup.WithServiceName("orders"), otelsetup.WithServiceVersion("0.1.0")}
	if demo {
		// Readable output for a person at a terminal; the environment
		// (LOG_FORMAT, OTEL_*) still overrides these.
		opts = append(opts, otelsetup.WithProfile(otelsetup.ProfileDevelopment))
	}
	tel, err := otelsetup.Setup(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, tel.Shutdown(shutdownCtx))
	}()

	addr := ":8080"
	if demo {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newHandler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	slog.InfoContext(ctx, "orders listening", "addr", ln.Addr().String())

	if demo {
		err = drive(ctx, "http://"+ln.Addr().String())
	} else {
		<-ctx.Done()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(shutdownCtx))
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.PathValue("id")
		slog.InfoContext(ctx, "fetching order", "order_id", id)
		if id == "missing" {
			slog.WarnContext(ctx, "order not found", "order_id", id)
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		slog.DebugContext(ctx, "order loaded from cache", "order_id", id, "items", 3)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"status":"shipped"}`+"\n", id)
	})
	// The route pattern names the span and the http.route attribute, so
	// /orders/{id} stays one series.
	return otelhttp.NewHandler(mux, "orders",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}))
}

// drive sends the demo's requests to the service and logs each result.
func drive(ctx context.Context, base string) error {
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport), Timeout: 5 * time.Second}
	log := slog.Default().With("component", "demo")
	for _, path := range []string{"/orders/o-1001", "/orders/o-1002", "/orders/missing"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		log.InfoContext(ctx, "demo request done", "path", path, "status", resp.StatusCode)
	}
	return nil
}
