package otelsetup

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

// otlpSignals are the signals in the order of config.otlpTLS and
// config.insecure, after the general settings at index 0.
var otlpSignals = [4]string{"", "traces", "metrics", "logs"}

// tlsFiles names the PEM files of an OTLP exporter's TLS configuration: the
// CA certificate that verifies the collector, and the client certificate
// and key that the collector may require. The distinct values of tlsFiles
// are the distinct TLS configurations.
type tlsFiles struct{ ca, cert, key string }

// otlpSignal is what one signal's OTLP exporter is built from: the
// signal's own endpoint, protocol, headers, timeout, certificate files and
// insecure flag where they are set, else the general ones. As in the OTLP
// exporter specification, a signal's headers replace the general headers;
// they are not merged with them.
type otlpSignal struct {
	name, endpoint, protocol, path string
	headers                        map[string]string
	timeout                        time.Duration
	tls                            tlsFiles
	// tlsKeys are the setting keys the files came from (for errors).
	tlsKeys     [3]string
	insecure    bool
	insecureKey string
	protocolKey string
}

// otlpSignal returns the OTLP settings of signal: "traces", "metrics" or
// "logs".
func (c *config) otlpSignal(signal string) otlpSignal {
	s := otlpSignal{name: signal, protocol: c.protocol, path: "/v1/" + signal, headers: c.headers,
		timeout: c.timeout, protocolKey: "exporter.protocol"}
	var protocol string
	var headers map[string]string
	var timeout time.Duration
	i := 0
	switch signal {
	case "traces":
		i = 1
		s.endpoint, protocol, headers, timeout = c.tracesEndpoint, c.tracesProtocol, c.tracesHeaders, c.tracesTimeout
	case "metrics":
		i = 2
		s.endpoint, protocol, headers, timeout = c.metricsEndpoint, c.metricsProtocol, c.metricsHeaders, c.metricsTimeout
	case "logs":
		i = 3
		s.endpoint, protocol, headers, timeout = c.logsEndpoint, c.logsProtocol, c.logsHeaders, c.logsTimeout
	}
	if protocol != "" {
		s.protocol, s.protocolKey = protocol, "exporter."+signal+"_protocol"
	}
	own := func(field string) bool { return c.sourceOf("exporter."+signal+"_"+field) != SourceDefault }
	if own("headers") {
		s.headers = headers
	}
	if own("timeout") {
		s.timeout = timeout
	}
	// Each file, and the insecure flag, is taken from the signal's own
	// setting when that is set, else from the general one.
	general, mine := c.otlpTLS[0], c.otlpTLS[i]
	pick := func(n int, field string, g, m string) string {
		if own(field) {
			s.tlsKeys[n] = "exporter." + signal + "_" + field
			return m
		}
		s.tlsKeys[n] = "exporter." + field
		return g
	}
	s.tls = tlsFiles{
		ca:   pick(0, "certificate", general.ca, mine.ca),
		cert: pick(1, "client_certificate", general.cert, mine.cert),
		key:  pick(2, "client_key", general.key, mine.key),
	}
	s.insecure, s.insecureKey = c.insecure[0], "exporter.insecure"
	if own("insecure") {
		s.insecure, s.insecureKey = c.insecure[i], "exporter."+signal+"_insecure"
	}
	return s
}

// named shows the setting key with its variable, its value and where the
// value came from, as the errors about it name it.
func (c *config) named(key, value string) string {
	st, _ := settingByKey(key)
	return fmt.Sprintf("%s=%s (%s, %s)", st.env, value, key, c.sourceOf(key))
}

// tlsConfig reads the signal's certificate files, at Setup only, bounded
// as checkExporterFiles bounds them, and returns the TLS configuration
// they make: nil when no file is set (the system roots, no client
// certificate).
func (c *config) tlsConfig(s otlpSignal) (*tls.Config, error) {
	if s.tls == (tlsFiles{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.tls.ca != "" {
		pem, err := readExporterFile(s.tls.ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.named(s.tlsKeys[0], s.tls.ca), err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in the file", c.named(s.tlsKeys[0], s.tls.ca))
		}
		cfg.RootCAs = pool
	}
	if (s.tls.cert == "") != (s.tls.key == "") {
		return nil, fmt.Errorf("%s and %s go together: give both the client certificate and its key, or neither",
			c.named(s.tlsKeys[1], s.tls.cert), c.named(s.tlsKeys[2], s.tls.key))
	}
	if s.tls.cert != "" {
		certPEM, err := readExporterFile(s.tls.cert)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.named(s.tlsKeys[1], s.tls.cert), err)
		}
		keyPEM, err := readExporterFile(s.tls.key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.named(s.tlsKeys[2], s.tls.key), err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s with %s: %w", c.named(s.tlsKeys[1], s.tls.cert), c.named(s.tlsKeys[2], s.tls.key), err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// readExporterFile reads a certificate or key file whole: a regular file
// of at most maxConfigFileSize bytes.
func readExporterFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := unreadable(fi, maxConfigFileSize); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFileSize {
		return nil, tooLarge(maxConfigFileSize)
	}
	return data, nil
}

// signalURL returns the full OTLP URL of a signal. A per-signal endpoint is
// used as given; the base endpoint gets the signal's path over HTTP, as the
// OTLP exporter specification says.
func (c *config) signalURL(s otlpSignal) string {
	if s.endpoint != "" {
		return s.endpoint
	}
	base := c.endpoint
	if base == "" {
		base = "http://localhost:4318"
		if s.protocol == "grpc" {
			base = "http://localhost:4317"
		}
	}
	if s.protocol == "grpc" {
		return base
	}
	return strings.TrimSuffix(base, "/") + s.path
}

// grpcCredentials returns the transport security of a gRPC exporter: none
// for an http:// URL, TLS with the signal's certificate files for an
// https:// one. They are always given to the exporter, so it never reads
// OTEL_EXPORTER_OTLP_*CERTIFICATE itself: our resolver did, in its
// precedence. The insecure flag applies, as the specification says, where
// the URL's scheme does not decide; every URL here has a scheme, so an
// insecure flag against an https:// URL is refused rather than ignored.
func (c *config) grpcCredentials(s otlpSignal, url string) (credentials.TransportCredentials, error) {
	if !isHTTPS(url) {
		return insecure.NewCredentials(), nil
	}
	if s.insecure {
		return nil, fmt.Errorf("%s asks for no transport security, but the endpoint is https://: the scheme decides; use an http:// endpoint for a plaintext gRPC connection",
			c.named(s.insecureKey, "true"))
	}
	cfg, err := c.tlsConfig(s)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// grpcNoCompression is the dial option that replaces the compression the
// exporters would read from OTEL_EXPORTER_OTLP_*COMPRESSION when the
// environment is ignored.
var grpcNoCompression = grpc.WithDefaultCallOptions(grpc.UseCompressor(encoding.Identity))

func isHTTPS(url string) bool { return strings.HasPrefix(strings.ToLower(url), "https://") }

// otlpTransports are the HTTP transports of the OTLP/HTTP exporters, one
// per distinct TLS configuration (the plaintext one among them), each its
// own rather than the exporters' shared default, so Shutdown can close
// its idle connections (the default transport keeps them, and their
// goroutines, alive). Proxies come from the environment as usual.
type otlpTransports struct {
	mu sync.Mutex
	m  map[tlsFiles]*http.Transport
}

// client returns an HTTP client of the signal with the export timeout as
// its timeout, on the transport of the signal's TLS configuration: made,
// and its files read, when first asked for.
func (p *otlpTransports) client(c *config, s otlpSignal, url string) (*http.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var key tlsFiles
	if isHTTPS(url) {
		key = s.tls
	}
	tr, ok := p.m[key]
	if !ok {
		cfg, err := c.tlsConfig(s)
		if err != nil {
			return nil, err
		}
		tr = http.DefaultTransport.(*http.Transport).Clone()
		if cfg != nil {
			tr.TLSClientConfig = cfg
		}
		if p.m == nil {
			p.m = map[tlsFiles]*http.Transport{}
		}
		p.m[key] = tr
	}
	return &http.Client{Transport: tr, Timeout: s.timeout}, nil
}

func (p *otlpTransports) closeIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tr := range p.m {
		tr.CloseIdleConnections()
	}
}

// otlpExporter builds a signal's OTLP exporter over gRPC or HTTP, as the
// signal's protocol says, and names the signal and the (masked) endpoint in
// its error.
//
// Every exporter is given the headers, timeout and transport security we
// resolved, so the exporters never use OTEL_EXPORTER_OTLP_*HEADERS,
// *TIMEOUT or *CERTIFICATE themselves: our resolver already read them, in
// its precedence, and not at all under WithoutEnvironment. With the
// environment ignored, the builders also pass explicit values for what the
// exporters would otherwise read from the environment (compression, metric
// temporality and histogram aggregation).
func otlpExporter[E any](c *config, s otlpSignal, overGRPC func(url string, creds credentials.TransportCredentials) (E, error), overHTTP func(url string) (E, error)) (E, error) {
	url := c.signalURL(s)
	var exp E
	var err error
	switch s.protocol {
	case "grpc":
		var creds credentials.TransportCredentials
		if creds, err = c.grpcCredentials(s, url); err == nil {
			exp, err = overGRPC(url, creds)
		}
	case "http/json":
		if s.name != "traces" {
			// otlpmetrichttp v1.47.0 and otlploghttp v0.23.0 have no JSON
			// encoding (otlptracehttp has).
			err = fmt.Errorf("%s: the Go OTLP %s exporter sends protobuf only; for %s use http/protobuf or grpc (http/json works for traces)",
				c.named(s.protocolKey, s.protocol), strings.TrimSuffix(s.name, "s"), s.name)
			break
		}
		fallthrough
	default:
		exp, err = overHTTP(url)
	}
	if err != nil {
		var none E
		return none, fmt.Errorf("otelsetup: %s exporter for %s: %w", strings.TrimSuffix(s.name, "s"), maskURL(url), err)
	}
	return exp, nil
}

func newSpanExporter(ctx context.Context, c *config, hc *otlpTransports) (sdktrace.SpanExporter, error) {
	s := c.otlpSignal("traces")
	return otlpExporter(c, s,
		func(url string, creds credentials.TransportCredentials) (sdktrace.SpanExporter, error) {
			opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(url),
				otlptracegrpc.WithHeaders(s.headers), otlptracegrpc.WithTimeout(s.timeout), otlptracegrpc.WithTLSCredentials(creds)}
			if c.ignoreEnv {
				opts = append(opts, otlptracegrpc.WithDialOption(grpcNoCompression))
			}
			return otlptracegrpc.New(ctx, opts...)
		},
		func(url string) (sdktrace.SpanExporter, error) {
			client, err := hc.client(c, s, url)
			if err != nil {
				return nil, err
			}
			opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(url),
				otlptracehttp.WithHeaders(s.headers), otlptracehttp.WithTimeout(s.timeout), otlptracehttp.WithHTTPClient(client),
				otlptracehttp.WithTLSClientConfig(nil)}
			if s.protocol == "http/json" {
				opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
			} else {
				opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf))
			}
			if c.ignoreEnv {
				opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
			}
			return otlptracehttp.New(ctx, opts...)
		})
}

func newMetricExporter(ctx context.Context, c *config, hc *otlpTransports) (sdkmetric.Exporter, error) {
	s := c.otlpSignal("metrics")
	return otlpExporter(c, s,
		func(url string, creds credentials.TransportCredentials) (sdkmetric.Exporter, error) {
			opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(url),
				otlpmetricgrpc.WithHeaders(s.headers), otlpmetricgrpc.WithTimeout(s.timeout), otlpmetricgrpc.WithTLSCredentials(creds)}
			if c.ignoreEnv {
				opts = append(opts, otlpmetricgrpc.WithDialOption(grpcNoCompression),
					otlpmetricgrpc.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
					otlpmetricgrpc.WithAggregationSelector(sdkmetric.DefaultAggregationSelector))
			}
			return otlpmetricgrpc.New(ctx, opts...)
		},
		func(url string) (sdkmetric.Exporter, error) {
			client, err := hc.client(c, s, url)
			if err != nil {
				return nil, err
			}
			opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(url),
				otlpmetrichttp.WithHeaders(s.headers), otlpmetrichttp.WithTimeout(s.timeout), otlpmetrichttp.WithHTTPClient(client),
				otlpmetrichttp.WithTLSClientConfig(nil)}
			if c.ignoreEnv {
				opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression),
					otlpmetrichttp.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
					otlpmetrichttp.WithAggregationSelector(sdkmetric.DefaultAggregationSelector))
			}
			return otlpmetrichttp.New(ctx, opts...)
		})
}

func newLogExporter(ctx context.Context, c *config, hc *otlpTransports) (sdklog.Exporter, error) {
	s := c.otlpSignal("logs")
	return otlpExporter(c, s,
		func(url string, creds credentials.TransportCredentials) (sdklog.Exporter, error) {
			opts := []otlploggrpc.Option{otlploggrpc.WithEndpointURL(url),
				otlploggrpc.WithHeaders(s.headers), otlploggrpc.WithTimeout(s.timeout), otlploggrpc.WithTLSCredentials(creds)}
			if c.ignoreEnv {
				opts = append(opts, otlploggrpc.WithDialOption(grpcNoCompression))
			}
			return otlploggrpc.New(ctx, opts...)
		},
		func(url string) (sdklog.Exporter, error) {
			client, err := hc.client(c, s, url)
			if err != nil {
				return nil, err
			}
			opts := []otlploghttp.Option{otlploghttp.WithEndpointURL(url),
				otlploghttp.WithHeaders(s.headers), otlploghttp.WithTimeout(s.timeout), otlploghttp.WithHTTPClient(client),
				otlploghttp.WithTLSClientConfig(nil)}
			if c.ignoreEnv {
				opts = append(opts, otlploghttp.WithCompression(otlploghttp.NoCompression))
			}
			return otlploghttp.New(ctx, opts...)
		})
}
