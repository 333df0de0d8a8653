package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	ordersBin string
	buildErr  error
)

// ordersBinary builds examples/orders once per test run.
func ordersBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelkit-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		ordersBin = filepath.Join(dir, "orders")
		cmd := exec.Command("go", "build", "-o", ordersBin, "./examples/orders")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building examples/orders: %v", buildErr)
	}
	return ordersBin
}

// exampleEnv is the environment of an example process: the collector's
// endpoint, nothing from the developer's environment that could change it.
func exampleEnv(endpoint string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoint, "OTEL_METRIC_EXPORT_INTERVAL=500"}
	return append(env, extra...)
}

// TestDemoTraceSpansBothServices runs the README's demo with OTLP to the
// collector: one trace holds spans of both services, and log records of both
// services carry its trace ID.
func TestDemoTraceSpansBothServices(t *testing.T) {
	col := startCollector(t)
	cmd := exec.Command(ordersBinary(t), "demo")
	cmd.Env = exampleEnv(col.Endpoint(protoHTTP))
	done := make(chan error, 1)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("demo did not exit within 60 s\n%s", out.String())
	}
	if !strings.Contains(out.String(), "SUMMARY") {
		t.Errorf("demo printed no summary:\n%s", out.String())
	}

	spans := flattenSpans(col.Traces.AllTraces())
	services := map[string]map[string]bool{} // trace ID -> service names
	for _, s := range spans {
		if services[s.TraceID] == nil {
			services[s.TraceID] = map[string]bool{}
		}
		services[s.TraceID][s.Resource["service.name"].(string)] = true
	}
	var shared string
	for id, names := range services {
		if names["orders"] && names["inventory"] {
			shared = id
			break
		}
	}
	if shared == "" {
		t.Fatalf("no trace spans both services among %d spans", len(spans))
	}
	logServices := map[string]bool{}
	for _, r := range flattenLogs(col.Logs.AllLogs()) {
		if r.TraceID == shared {
			logServices[r.Resource["service.name"].(string)] = true
		}
	}
	if !logServices["orders"] || !logServices["inventory"] {
		t.Errorf("log records of trace %s come from %v, want orders and inventory", shared, logServices)
	}
}

// TestSIGTERMFlushesTelemetry starts the inventory service, sends it a few
// requests, then SIGTERM: the signal handler shuts telemetry down and the
// records logged before the signal arrive.
func TestSIGTERMFlushesTelemetry(t *testing.T) {
	col := startCollector(t)
	addr := freeAddr(t)
	cmd := exec.Command(ordersBinary(t), "inventory")
	// A long batch delay: records reach the collector only through the
	// flush at shutdown.
	cmd.Env = exampleEnv(col.Endpoint(protoHTTP), "ADDR="+addr, "OTEL_BLRP_SCHEDULE_DELAY=60000", "OTEL_BSP_SCHEDULE_DELAY=60000")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	client := &http.Client{Timeout: 2 * time.Second}
	if !eventually(func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("inventory did not start listening\n%s", out.String())
	}
	const n = 5
	for i := range n {
		resp, err := client.Get("http://" + addr + "/stock/sku-" + string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("inventory exited with %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("inventory did not exit after SIGTERM\n%s", out.String())
	}
	completed := 0
	for _, r := range flattenLogs(col.Logs.AllLogs()) {
		if r.Attrs["event"] == "request_completed" && r.Resource["service.name"] == "inventory" {
			completed++
		}
	}
	if completed != n {
		t.Errorf("%d request_completed records arrived, want %d", completed, n)
	}
	if len(flattenSpans(col.Traces.AllTraces())) < n {
		t.Errorf("spans of the requests did not arrive")
	}

}
