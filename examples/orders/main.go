// Command orders is an orders service and the inventory service it calls,
// instrumented with otelkit: one Setup per service, httpmw on every route,
// a deps client between them (one trace spans both services), steps, a
// simulated database call, user IDs after a token check, redaction and
// per-request debug.
//
//	go run ./examples/orders demo       # both services on loopback, a scripted mix of requests, a summary; exits 0
//	go run ./examples/orders serve      # the orders service on $ADDR (default :8080), calling $INVENTORY_URL
//	go run ./examples/orders inventory  # the inventory service on $ADDR (default :8081)
//	go run ./examples/orders load       # a bounded load against $ORDERS_URL, run by hand (the compose stack's loadgen runs deploy/loadgen/load.sh instead)
//
// With no OTLP endpoint configured, logs go to the console; set
// OTEL_EXPORTER_OTLP_ENDPOINT to send all telemetry to a collector.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cmd := "demo"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "demo":
		err = runDemo(ctx)
	case "serve":
		err = runService(ctx, "orders", env("ADDR", ":8080"), func(s *services) error {
			s.inventoryURL = env("INVENTORY_URL", "http://localhost:8081")
			return nil
		})
	case "inventory":
		err = runService(ctx, "inventory", env("ADDR", ":8081"), nil)
	case "load":
		err = runLoad(ctx, env("ORDERS_URL", "http://localhost:8080"))
	default:
		err = errors.New("usage: orders [demo|serve|inventory|load]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
