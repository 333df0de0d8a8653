package e2e

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Protocols the tests run over, with the values OTEL_EXPORTER_OTLP_PROTOCOL takes.
const (
	protoHTTP = "http/protobuf"
	protoGRPC = "grpc"
)

var protocols = []string{protoHTTP, protoGRPC}

// waitTimeout bounds every wait for telemetry to arrive.
const waitTimeout = 10 * time.Second

// collector is the Collector's own OTLP receiver running in the test process, listening for
// gRPC and HTTP on 127.0.0.1, with sinks that keep everything it received.
type collector struct {
	// GRPCAddr and HTTPAddr are "127.0.0.1:PORT".
	GRPCAddr string
	HTTPAddr string

	Traces  *consumertest.TracesSink
	Metrics *consumertest.MetricsSink
	Logs    *consumertest.LogsSink

	stopOnce sync.Once
	stopErr  error
	rcv      []component.Component
}

// Endpoint returns the URL an OTLP exporter for protocol uses to reach the collector,
// e.g. "http://127.0.0.1:4318". Both protocols use the http scheme: no TLS.
func (c *collector) Endpoint(protocol string) string {
	if protocol == protoGRPC {
		return "http://" + c.GRPCAddr
	}
	return "http://" + c.HTTPAddr
}

// Stop shuts the receiver down; after it returns, both ports refuse connections. Safe to call
// more than once; the test's cleanup calls it too.
func (c *collector) Stop(t testing.TB) {
	t.Helper()
	c.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		var errs []error
		for _, r := range c.rcv {
			errs = append(errs, r.Shutdown(ctx))
		}
		c.stopErr = errors.Join(errs...)
	})
	if c.stopErr != nil {
		t.Errorf("stop collector: %v", c.stopErr)
	}
}

// startCollector starts an OTLP receiver on two free ports of 127.0.0.1 (gRPC and HTTP) and
// stops it when the test ends. Ports are picked by binding :0 and closing; if another process
// takes one in between, Start fails and it tries again with fresh ports.
func startCollector(t testing.TB) *collector {
	t.Helper()
	var lastErr error
	for range 5 {
		c, err := tryStartCollector(t)
		if err == nil {
			t.Cleanup(func() { c.Stop(t) })
			return c
		}
		lastErr = err
	}
	t.Fatalf("start collector: %v", lastErr)
	return nil
}

func tryStartCollector(t testing.TB) (*collector, error) {
	return startCollectorOn(freeAddr(t), freeAddr(t))
}

// startCollectorOn starts the receiver on the given addresses, for tests
// whose exporters were pointed there before the collector existed; tune,
// if any, changes the receiver's configuration first (TLS, for one).
func startCollectorOn(grpcAddr, httpAddr string, tune ...func(*otlpreceiver.Config)) (*collector, error) {
	c := &collector{
		GRPCAddr: grpcAddr,
		HTTPAddr: httpAddr,
		Traces:   new(consumertest.TracesSink),
		Metrics:  new(consumertest.MetricsSink),
		Logs:     new(consumertest.LogsSink),
	}

	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = c.GRPCAddr
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = c.HTTPAddr
	for _, f := range tune {
		f(cfg)
	}

	// One receiver serves the three signals: the factory shares it per *Config, so the three
	// Create calls return the same component, which starts and stops once.
	set := receivertest.NewNopSettings(f.Type())
	ctx := context.Background()
	tr, err := f.CreateTraces(ctx, set, cfg, c.Traces)
	if err != nil {
		return nil, err
	}
	mr, err := f.CreateMetrics(ctx, set, cfg, c.Metrics)
	if err != nil {
		return nil, err
	}
	lr, err := f.CreateLogs(ctx, set, cfg, c.Logs)
	if err != nil {
		return nil, err
	}
	c.rcv = []component.Component{tr, mr, lr}
	host := componenttest.NewNopHost()
	for _, r := range c.rcv {
		if err := r.Start(ctx, host); err != nil {
			// Shutdown also removes the config from the factory's shared map.
			sctx, cancel := context.WithTimeout(ctx, waitTimeout)
			defer cancel()
			return nil, errors.Join(err, tr.Shutdown(sctx))
		}
	}
	return c, nil
}

// freeAddr returns "127.0.0.1:PORT" for a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	// The port is released and used later (a collector that comes up after the
	// service), so it must stay free in between. A port the kernel hands out for
	// ":0" lies in the ephemeral range, where any outgoing connection made in the
	// meantime (or a client's own retries, through a TCP self-connect) can take
	// it as its source port. Ports below that range are only ever taken by an
	// explicit bind, which nothing else in these tests does.
	const lo, hi = 20000, 32000 // below Linux's default ip_local_port_range (32768-60999)
	for range 200 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+rand.IntN(hi-lo)))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if err := ln.Close(); err != nil {
			t.Fatalf("close listener: %v", err)
		}
		return addr
	}
	t.Fatalf("no free loopback port in [%d, %d)", lo, hi)
	return ""
}

// downEndpoint returns an endpoint URL ("http://127.0.0.1:PORT") on which nobody listens:
// connections are refused, like a collector that is not running.
func downEndpoint(t testing.TB) string {
	t.Helper()
	return "http://" + freeAddr(t)
}

// hungEndpoint returns an endpoint URL whose listener accepts connections and never answers,
// like a collector that is overloaded or stuck. Connections are closed when the test ends.
func hungEndpoint(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// eventually polls cond every 20 ms until it holds or waitTimeout passes, and reports whether it held.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(waitTimeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLogs waits until the collector holds at least n log records and returns them all.
func (c *collector) waitLogs(t testing.TB, n int) []logRecord {
	t.Helper()
	if !eventually(func() bool { return c.Logs.LogRecordCount() >= n }) {
		t.Fatalf("collector received %d log records in %v, want at least %d", c.Logs.LogRecordCount(), waitTimeout, n)
	}
	return flattenLogs(c.Logs.AllLogs())
}

// waitSpans waits until the collector holds at least n spans and returns them all.
func (c *collector) waitSpans(t testing.TB, n int) []span {
	t.Helper()
	if !eventually(func() bool { return c.Traces.SpanCount() >= n }) {
		t.Fatalf("collector received %d spans in %v, want at least %d", c.Traces.SpanCount(), waitTimeout, n)
	}
	return flattenSpans(c.Traces.AllTraces())
}

// waitMetrics waits until the collector received a metric of each of the given names and
// returns all metrics received. With no names, it waits for any metric.
func (c *collector) waitMetrics(t testing.TB, names ...string) []metric {
	t.Helper()
	var got []metric
	ok := eventually(func() bool {
		got = flattenMetrics(c.Metrics.AllMetrics())
		if len(names) == 0 {
			return len(got) > 0
		}
		have := metricNames(got)
		for _, n := range names {
			if !have[n] {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("collector received metrics %v in %v, want %v", sortedKeys(metricNames(got)), waitTimeout, names)
	}
	return got
}
