package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
)

// services holds what the handlers of one service use.
type services struct {
	tel          *otelsetup.Telemetry
	log          *slog.Logger
	inventory    *http.Client // the orders service's client of inventory
	inventoryURL string
	mw           []httpmw.Option // middleware options (empty when Setup owns the globals)
	dep          []deps.Option
}

// demoUsers are the demo's bearer tokens. Real services verify a signed
// token; this check is only what the demo needs to have users.
var demoUsers = map[string]string{"Bearer demo-token-alice": "alice", "Bearer demo-token-bob": "bob", "Bearer demo-token": "demo"}

// user authenticates the request and records the user on it.
func user(r *http.Request) (string, error) {
	id, ok := demoUsers[r.Header.Get("Authorization")]
	if !ok {
		return "", httpmw.Unauthorized("a valid bearer token is required")
	}
	httpmw.SetUser(r.Context(), id) // user_id on every later record and on the span
	return id, nil
}

// ordersHandler is the orders service's API.
func (s *services) ordersHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", httpmw.HandlerFunc(s.getOrder))
	mux.Handle("POST /orders", httpmw.HandlerFunc(s.createOrder))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { pricingPanic() })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "orders\n") })
	health := httpmw.NewHealth(s.mw...)
	health.AddCheck("inventory", func(ctx context.Context) error { return s.pingInventory(ctx) }, time.Second)
	mux.Handle("GET /healthz", health.LivenessHandler())
	mux.Handle("GET /readyz", health.ReadinessHandler())
	return httpmw.New(mux, s.mw...)
}

func (s *services) getOrder(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := user(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	q := r.URL.Query()
	if q.Get("panic") != "" {
		pricingPanic()
	}
	if q.Get("fail") != "" {
		id = "broken-" + id // its stock lives in a store that is down
	}
	s.log.DebugContext(ctx, "looking up order", "order_id", id)

	ctx, end := deps.Step(ctx, "load_order", s.dep...)
	var order map[string]any
	err := deps.Call(ctx, "postgres", "select_order", func(ctx context.Context) error {
		delay := 2 * time.Millisecond
		if r.URL.Query().Get("slow") != "" {
			delay = 1100 * time.Millisecond // over the 1 s slow threshold
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		if id == "missing" {
			return errNotFound
		}
		order = map[string]any{"id": id, "sku": skuFor(id), "qty": 2}
		return nil
	}, s.dep...)
	end(err)
	if errors.Is(err, errNotFound) {
		return httpmw.NotFound("no such order")
	}
	if err != nil {
		return err
	}
	stock, err := s.stock(ctx, order["sku"].(string))
	if errors.Is(err, errInventoryDown) {
		// The retries are spent and no order can be answered without its
		// stock: a human is needed now (the CriticalLogRecord alert).
		s.log.Log(ctx, logbridge.LevelCritical, "inventory down after retries", "sku", order["sku"], "error", err)
	}
	if err != nil {
		return fmt.Errorf("checking stock of %s: %w", order["sku"], err)
	}
	order["in_stock"] = stock
	s.log.InfoContext(ctx, "order fetched", "order_id", id, "in_stock", stock)
	return writeJSON(w, http.StatusOK, order)
}

var errNotFound = errors.New("order not found")

// errInventoryDown is a 5xx answer of inventory, after the deps client's
// retries.
var errInventoryDown = errors.New("inventory unavailable")

// pricingPanic is a bug: its value carries a secret, which redaction keeps
// out of the logs and the span.
func pricingPanic() {
	panic("pricing failed for request with api_key=fake-demo-key-123")
}

func skuFor(id string) string {
	if strings.HasPrefix(id, "broken") {
		return "broken-sku"
	}
	return "sku-" + id
}

// createOrder logs the order it received, card number and password included:
// redaction keeps them out of every sink.
func (s *services) createOrder(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := user(r); err != nil {
		return err
	}
	var in struct {
		SKU        string `json:"sku"`
		Qty        int    `json:"qty"`
		CardNumber string `json:"card_number"`
		Password   string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		return httpmw.BadRequest("the body is not a JSON order", nil)
	}
	s.log.InfoContext(ctx, "order received", "order", in)
	if in.Qty <= 0 {
		return httpmw.BadRequest("invalid order", map[string]string{"qty": "must be positive"})
	}
	if _, err := s.stock(ctx, in.SKU); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"id": fmt.Sprintf("o-%04d", rand.IntN(10000)), "sku": in.SKU, "qty": in.Qty})
}

// stock asks the inventory service, through the deps client.
func (s *services) stock(ctx context.Context, sku string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.inventoryURL+"/stock/"+sku, nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.inventory.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return 0, fmt.Errorf("%w: %s", errInventoryDown, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("inventory answered %s", resp.Status)
	}
	var out struct {
		Available int `json:"available"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	return out.Available, nil
}

func (s *services) pingInventory(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.inventoryURL+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := s.inventory.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("inventory liveness: %s", resp.Status)
	}
	return nil
}

// inventoryHandler is the inventory service's API.
func (s *services) inventoryHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /stock/{sku}", httpmw.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		sku := r.PathValue("sku")
		s.log.DebugContext(r.Context(), "reading stock", "sku", sku)
		if sku == "broken-sku" {
			s.log.WarnContext(r.Context(), "stock store unavailable", "sku", sku)
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return nil
		}
		return writeJSON(w, http.StatusOK, map[string]any{"sku": sku, "available": 3 + len(sku)%5})
	}))
	health := httpmw.NewHealth(s.mw...)
	mux.Handle("GET /healthz", health.LivenessHandler())
	mux.Handle("GET /readyz", health.ReadinessHandler())
	return httpmw.New(mux, s.mw...)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// runService runs one service until ctx ends: Setup owns the globals, so the
// middleware and the client need no telemetry options.
func runService(ctx context.Context, name, addr string, configure func(*services) error) (err error) {
	tel, err := otelsetup.Setup(ctx, otelsetup.WithServiceName(name), otelsetup.WithServiceVersion("0.2.0"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, shutdown(ctx, tel)) }()
	s := &services{tel: tel, log: tel.Logger(name)}
	s.inventory = deps.NewClient("inventory", nil, deps.WithRetry(deps.RetryPolicy{MaxAttempts: 2}))
	if configure != nil {
		if err := configure(s); err != nil {
			return err
		}
	}
	h := s.inventoryHandler()
	if name == "orders" {
		h = s.ordersHandler()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, h, s.log)
}

// serve serves h on ln until ctx ends, then shuts the server down.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.InfoContext(ctx, "listening", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	log.Info("stopped", "addr", ln.Addr().String())
	return err
}

// shutdown flushes and stops tel within 5 s of a context of its own: ctx,
// the service's, is done by then (a signal), and would leave Shutdown no
// time to flush.
func shutdown(ctx context.Context, tel *otelsetup.Telemetry) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return tel.Shutdown(ctx)
}
