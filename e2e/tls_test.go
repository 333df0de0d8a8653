package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/otelsetup"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
)

// testPKI is a CA made in the test, with a server certificate for
// 127.0.0.1 and a client certificate it signed, as PEM files.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T, dir, name string) testPKI {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{ca: writePEM(t, dir, name+"-ca.pem", "CERTIFICATE", caDER)}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		k := newKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return writePEM(t, dir, name+"-"+cn+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-"+cn+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p.serverCert, p.serverKey = leaf(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.clientCert, p.clientKey = leaf(3, "client", x509.ExtKeyUsageClientAuth, nil)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startTLSCollector starts the receiver with TLS on both protocols,
// requiring a client certificate signed by the PKI's CA.
func startTLSCollector(t *testing.T, p testPKI) *collector {
	t.Helper()
	srv := configtls.ServerConfig{Config: configtls.Config{CertFile: p.serverCert, KeyFile: p.serverKey}, ClientCAFile: p.ca}
	var lastErr error
	for range 5 {
		c, err := startCollectorOn(freeAddr(t), freeAddr(t), func(cfg *otlpreceiver.Config) {
			cfg.Protocols.GRPC.GetOrInsertDefault().TLS = configoptional.Some(srv)
			cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.TLS = configoptional.Some(srv)
		})
		if err == nil {
			t.Cleanup(func() { c.Stop(t) })
			return c
		}
		lastErr = err
	}
	t.Fatalf("start TLS collector: %v", lastErr)
	return nil
}

func tlsEndpoint(c *collector, protocol string) string {
	return strings.Replace(c.Endpoint(protocol), "http://", "https://", 1)
}

// emitAll records one log, one span and one metric point.
func emitAll(t *testing.T, tel *otelsetup.Telemetry) {
	t.Helper()
	ctx, sp := tel.TracerProvider().Tracer("tls").Start(context.Background(), "over tls")
	tel.Logger("tls").InfoContext(ctx, "over tls")
	counter, err := tel.MeterProvider().Meter("tls").Int64Counter("tls.calls")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(ctx, 1)
	sp.End()
}

// TestTLSWithClientCertificates: against a receiver that requires client
// certificates, logs, spans and metrics arrive over HTTP and gRPC with the
// general certificate variables and with per-signal ones that override a
// wrong general CA; without a client certificate the export fails with an
// error that says TLS refused it.
func TestTLSWithClientCertificates(t *testing.T) {
	dir := t.TempDir()
	p := newTestPKI(t, dir, "good")
	wrong := newTestPKI(t, dir, "wrong")
	col := startTLSCollector(t, p)

	cases := []struct {
		name string
		env  map[string]string
	}{
		{"general", map[string]string{
			"OTEL_EXPORTER_OTLP_CERTIFICATE":        p.ca,
			"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": p.clientCert,
			"OTEL_EXPORTER_OTLP_CLIENT_KEY":         p.clientKey,
		}},
		{"per-signal", func() map[string]string {
			m := map[string]string{
				// The general files are wrong: every signal must use its own.
				"OTEL_EXPORTER_OTLP_CERTIFICATE":        wrong.ca,
				"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": wrong.clientCert,
				"OTEL_EXPORTER_OTLP_CLIENT_KEY":         wrong.clientKey,
			}
			for _, sig := range []string{"TRACES", "METRICS", "LOGS"} {
				m["OTEL_EXPORTER_OTLP_"+sig+"_CERTIFICATE"] = p.ca
				m["OTEL_EXPORTER_OTLP_"+sig+"_CLIENT_CERTIFICATE"] = p.clientCert
				m["OTEL_EXPORTER_OTLP_"+sig+"_CLIENT_KEY"] = p.clientKey
			}
			return m
		}()},
	}
	for _, protocol := range protocols {
		for _, tc := range cases {
			t.Run(protocol+"/"+tc.name, func(t *testing.T) {
				for k, v := range tc.env {
					t.Setenv(k, v)
				}
				logs, spans := len(col.Logs.AllLogs()), len(col.Traces.AllTraces())
				tel := setup(t, append(opts(protocol, tlsEndpoint(col, protocol), io.Discard),
					otelsetup.WithMetricInterval(200*time.Millisecond))...)
				emitAll(t, tel)
				flush(t, tel)
				col.waitLogs(t, logs+1)
				col.waitSpans(t, spans+1)
				col.waitMetrics(t, "tls.calls")
				shutdown(t, tel)
			})
		}
		t.Run(protocol+"/no client certificate", func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", p.ca)
			tel := setup(t, append(opts(protocol, tlsEndpoint(col, protocol), io.Discard),
				otelsetup.WithExportTimeout(2*time.Second), otelsetup.WithErrorOutput(io.Discard))...)
			emitAll(t, tel)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			err := tel.ForceFlush(ctx)
			t.Logf("ForceFlush without a client certificate: %v", err)
			if err == nil {
				t.Fatal("ForceFlush succeeded against a receiver that requires a client certificate")
			}
			// The server refuses the handshake with a "certificate required"
			// alert. Over HTTP/2, Go's client sometimes reports only that the
			// connection could not be established, without the alert: both
			// are accepted, nothing else (a timeout, a 4xx) is.
			msg := err.Error()
			if !strings.Contains(strings.ToLower(msg), "tls") && !strings.Contains(msg, "certificate") &&
				!strings.Contains(msg, "http2: client conn could not be established") {
				t.Errorf("the error does not say the connection was refused at the handshake: %v", err)
			}
		})
	}
}

// TestTLSBadCertificateFailsSetup: a certificate file that is not one
// fails Setup with the variable and the file named.
func TestTLSBadCertificateFailsSetup(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", bad)
	for _, protocol := range protocols {
		_, err := otelsetup.Setup(context.Background(), opts(protocol, "https://127.0.0.1:1", io.Discard)...)
		if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="+bad) {
			t.Errorf("%s: Setup error %v, want one naming the variable and the file", protocol, err)
		}
	}
}

// TestHTTPJSONTracesDelivered: http/json carries spans to the receiver;
// metrics and logs asked for http/json fail Setup, naming the variable.
func TestHTTPJSONTracesDelivered(t *testing.T) {
	col := startCollector(t)
	tel := setup(t, append(opts(protoHTTP, col.Endpoint(protoHTTP), io.Discard),
		otelsetup.WithSetting("exporter.traces_protocol", "http/json"))...)
	_, sp := tel.TracerProvider().Tracer("json").Start(context.Background(), "over json")
	sp.End()
	flush(t, tel)
	if got := col.waitSpans(t, 1); got[0].Name != "over json" {
		t.Errorf("span %q, want %q", got[0].Name, "over json")
	}
	shutdown(t, tel)

	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	_, err := otelsetup.Setup(context.Background(), opts(protoHTTP, col.Endpoint(protoHTTP), io.Discard)...)
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL=http/json") {
		t.Errorf("Setup with http/json for metrics and logs: %v", err)
	}
}
