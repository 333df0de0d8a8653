package otelsetup

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePEMPair writes a self-signed certificate and its key to dir and
// returns their paths.
func writePEMPair(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func mustResolve(t *testing.T, opts ...Option) *config {
	t.Helper()
	c, err := resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOTLPTLSPrecedence: each file is the signal's own when set, else the
// general one; env beats the file, which beats code; WithoutEnvironment
// reads none of the variables.
func TestOTLPTLSPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "otelkit.yaml")
	if err := os.WriteFile(file, []byte("exporter:\n  certificate: /file/ca.pem\n  logs_client_key: /file/logs-key.pem\n  metrics_insecure: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/env/client.pem")
	t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/env/client-key.pem")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/env/traces-ca.pem")
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "false")
	opts := []Option{WithConfigFile(file), WithSetting("exporter.certificate", "/code/ca.pem"),
		WithSetting("exporter.metrics_certificate", "/code/metrics-ca.pem")}

	c := mustResolve(t, opts...)
	for _, tc := range []struct {
		signal   string
		want     tlsFiles
		insecure bool
	}{
		{"traces", tlsFiles{"/env/traces-ca.pem", "/env/client.pem", "/env/client-key.pem"}, false},
		{"metrics", tlsFiles{"/code/metrics-ca.pem", "/env/client.pem", "/env/client-key.pem"}, true},
		{"logs", tlsFiles{"/file/ca.pem", "/env/client.pem", "/file/logs-key.pem"}, false},
	} {
		s := c.otlpSignal(tc.signal)
		if s.tls != tc.want || s.insecure != tc.insecure {
			t.Errorf("%s: got %+v insecure=%v, want %+v insecure=%v", tc.signal, s.tls, s.insecure, tc.want, tc.insecure)
		}
	}
	if got := c.sourceOf("exporter.client_certificate"); got != SourceEnv {
		t.Errorf("exporter.client_certificate from %s, want env", got)
	}

	c = mustResolve(t, append(opts, WithoutEnvironment())...)
	if s := c.otlpSignal("traces"); s.tls != (tlsFiles{ca: "/file/ca.pem"}) {
		t.Errorf("WithoutEnvironment: traces got %+v, want only the file's CA", s.tls)
	}
}

func TestOTLPPerSignalTimeout(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3000")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "250")
	c := mustResolve(t, WithSetting("exporter.logs_timeout", "7s"))
	for signal, want := range map[string]time.Duration{"traces": 3 * time.Second, "metrics": 250 * time.Millisecond, "logs": 7 * time.Second} {
		if got := c.otlpSignal(signal).timeout; got != want {
			t.Errorf("%s timeout %v, want %v", signal, got, want)
		}
	}
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "-1")
	if _, err := resolve(nil); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT") {
		t.Errorf("bad per-signal timeout: got %v", err)
	}
}

// TestOTLPTLSFileErrors: a bad file fails with the variable, its source
// and the file named.
func TestOTLPTLSFileErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePEMPair(t, dir, "client")
	_, otherKey := writePEMPair(t, dir, "other")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("fake, no PEM here"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
		opts []Option
	}{
		{"missing CA", map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": missing}, []string{"OTEL_EXPORTER_OTLP_CERTIFICATE=" + missing, "(exporter.certificate, env)", "no such file"}, nil},
		{"CA not PEM", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE": notPEM}, []string{"OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE=" + notPEM, "no PEM certificate"}, nil},
		{"CA a directory, from code", nil, []string{"OTEL_EXPORTER_OTLP_CERTIFICATE=" + dir, "(exporter.certificate, code)", "not a regular file"},
			[]Option{WithSetting("exporter.certificate", dir)}},
		{"cert without key", map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": cert}, []string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + cert, "OTEL_EXPORTER_OTLP_CLIENT_KEY=", "go together"}, nil},
		{"key of another cert", map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": cert, "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY": otherKey},
			[]string{"OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY=" + otherKey, "does not match"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c := mustResolve(t, tc.opts...)
			_, err := c.tlsConfig(c.otlpSignal("logs"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("good pair", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert)
		t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", key)
		t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", cert)
		c := mustResolve(t)
		cfg, err := c.tlsConfig(c.otlpSignal("traces"))
		if err != nil || len(cfg.Certificates) != 1 || cfg.RootCAs == nil {
			t.Fatalf("got %v, %v", cfg, err)
		}
	})
}

// TestOTLPTransportPerTLSConfiguration: signals with the same files share
// a transport; other files, or plaintext, get their own.
func TestOTLPTransportPerTLSConfiguration(t *testing.T) {
	dir := t.TempDir()
	ca, _ := writePEMPair(t, dir, "ca")
	other, _ := writePEMPair(t, dir, "other")
	t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", ca)
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", other)
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1500")
	c := mustResolve(t)
	var p otlpTransports
	defer p.closeIdleConnections()
	client := func(signal, url string) *testingClient {
		hc, err := p.client(c, c.otlpSignal(signal), url)
		if err != nil {
			t.Fatal(err)
		}
		return &testingClient{hc.Transport, hc.Timeout}
	}
	tr, me, lo, plain := client("traces", "https://127.0.0.1:1/v1/traces"), client("metrics", "https://127.0.0.1:1/v1/metrics"),
		client("logs", "https://127.0.0.1:1/v1/logs"), client("traces", "http://127.0.0.1:1/v1/traces")
	if tr.rt != me.rt || tr.rt == lo.rt || tr.rt == plain.rt || lo.rt == plain.rt || len(p.m) != 3 {
		t.Errorf("transports: traces %p metrics %p logs %p plaintext %p (%d)", tr.rt, me.rt, lo.rt, plain.rt, len(p.m))
	}
	if me.timeout != 1500*time.Millisecond || tr.timeout != 10*time.Second {
		t.Errorf("client timeouts: metrics %v traces %v", me.timeout, tr.timeout)
	}
}

type testingClient struct {
	rt      any
	timeout time.Duration
}

// TestOTLPProtocolErrors: http/json is refused for metrics and logs with
// the variable named; insecure with an https:// gRPC endpoint is refused.
func TestOTLPProtocolErrors(t *testing.T) {
	t.Run("json metrics", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
		c := mustResolve(t, WithEndpoint("http://127.0.0.1:1"))
		_, err := newMetricExporter(t.Context(), c, &otlpTransports{})
		if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL=http/json (exporter.protocol, env)") || !strings.Contains(err.Error(), "http/protobuf or grpc") {
			t.Errorf("got %v", err)
		}
		exp, err := newSpanExporter(t.Context(), c, &otlpTransports{})
		if err != nil {
			t.Fatalf("traces over http/json: %v", err)
		}
		if err := exp.Shutdown(t.Context()); err != nil {
			t.Error(err)
		}
	})
	t.Run("insecure https grpc", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "true")
		c := mustResolve(t, WithEndpoint("https://127.0.0.1:1"), WithProtocol("grpc"))
		_, err := newLogExporter(t.Context(), c, &otlpTransports{})
		if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_LOGS_INSECURE=true") {
			t.Errorf("got %v", err)
		}
	})
}
