package otelsetup

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFailedSetupDoesNotWaitOnTheEndpoint: a Setup that fails after it
// built the metrics pipeline (here at the traces exporter's certificate)
// shuts down what it built without waiting on the endpoint: nothing was
// recorded, so nothing is sent. The endpoint accepts connections and never
// answers; the old final export of an empty collection waited there until
// Shutdown's 5 s deadline.
func TestFailedSetupDoesNotWaitOnTheEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and hold connections, answer nothing
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", bad)
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		start := time.Now()
		_, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}),
			WithEndpoint("https://"+ln.Addr().String()), WithProtocol(protocol))
		if err == nil {
			t.Fatalf("%s: Setup succeeded with a bad certificate file", protocol)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: failed Setup took %v, want no wait on the endpoint", protocol, d)
		}
	}
}
