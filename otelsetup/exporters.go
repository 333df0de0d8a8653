package otelsetup

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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

// otlpSignal is what one signal's OTLP exporter is built from: the
// signal's own endpoint, protocol and headers where they are set, else the
// general ones. As in the OTLP exporter specification, a signal's headers
// replace the general headers; they are not merged with them.
type otlpSignal struct {
	name, endpoint, protocol, path string
	headers                        map[string]string
}

// otlpSignal returns the OTLP settings of signal: "traces", "metrics" or
// "logs".
func (c *config) otlpSignal(signal string) otlpSignal {
	s := otlpSignal{name: signal, protocol: c.protocol, path: "/v1/" + signal, headers: c.headers}
	var protocol string
	var headers map[string]string
	switch signal {
	case "traces":
		s.endpoint, protocol, headers = c.tracesEndpoint, c.tracesProtocol, c.tracesHeaders
	case "metrics":
		s.endpoint, protocol, headers = c.metricsEndpoint, c.metricsProtocol, c.metricsHeaders
	case "logs":
		s.endpoint, protocol, headers = c.logsEndpoint, c.logsProtocol, c.logsHeaders
	}
	if protocol != "" {
		s.protocol = protocol
	}
	if c.sourceOf("exporter."+signal+"_headers") != SourceDefault {
		s.headers = headers
	}
	return s
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

// grpcIgnoringEnv returns the gRPC dial settings that replace what the
// exporters would otherwise read from OTEL_EXPORTER_OTLP_* themselves
// (certificates, compression) when the environment is ignored: the
// transport security the URL's scheme says, and no compression.
func grpcIgnoringEnv(url string) (credentials.TransportCredentials, grpc.DialOption) {
	creds := insecure.NewCredentials()
	if strings.HasPrefix(strings.ToLower(url), "https://") {
		creds = credentials.NewTLS(nil)
	}
	return creds, grpc.WithDefaultCallOptions(grpc.UseCompressor(encoding.Identity))
}

// otlpHTTPClient is the one client of the three OTLP/HTTP exporters: its
// own transport, so Shutdown can close its idle connections (the
// exporters' shared default transport keeps them, and their goroutines,
// alive), with the export timeout as its timeout. Proxies come from the
// environment as usual; custom roots from SSL_CERT_FILE.
func otlpHTTPClient(c *config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: tr, Timeout: c.timeout}
}

// otlpExporter builds a signal's OTLP exporter over gRPC or HTTP, as the
// signal's protocol says, and names the signal and the (masked) endpoint in
// its error.
//
// Every exporter is given the headers we resolved (possibly none), so the
// exporters never read OTEL_EXPORTER_OTLP_*HEADERS themselves: our
// resolver already did, in its precedence, and not at all under
// WithoutEnvironment. With the environment ignored, the builders also
// pass explicit values for what the exporters would otherwise read from
// the environment (certificates, compression, metric temporality and
// histogram aggregation).
func otlpExporter[E any](c *config, s otlpSignal, overGRPC, overHTTP func(url string) (E, error)) (E, error) {
	url := c.signalURL(s)
	build := overHTTP
	if s.protocol == "grpc" {
		build = overGRPC
	}
	exp, err := build(url)
	if err != nil {
		var none E
		return none, fmt.Errorf("otelsetup: %s exporter for %s: %w", strings.TrimSuffix(s.name, "s"), maskURL(url), err)
	}
	return exp, nil
}

func newSpanExporter(ctx context.Context, c *config, client *http.Client) (sdktrace.SpanExporter, error) {
	s := c.otlpSignal("traces")
	return otlpExporter(c, s,
		func(url string) (sdktrace.SpanExporter, error) {
			opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(url),
				otlptracegrpc.WithHeaders(s.headers), otlptracegrpc.WithTimeout(c.timeout)}
			if c.ignoreEnv {
				creds, noCompression := grpcIgnoringEnv(url)
				opts = append(opts, otlptracegrpc.WithTLSCredentials(creds), otlptracegrpc.WithDialOption(noCompression))
			}
			return otlptracegrpc.New(ctx, opts...)
		},
		func(url string) (sdktrace.SpanExporter, error) {
			opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(url),
				otlptracehttp.WithHeaders(s.headers), otlptracehttp.WithTimeout(c.timeout), otlptracehttp.WithHTTPClient(client)}
			if c.ignoreEnv {
				opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression), otlptracehttp.WithTLSClientConfig(nil))
			}
			return otlptracehttp.New(ctx, opts...)
		})
}

func newMetricExporter(ctx context.Context, c *config, client *http.Client) (sdkmetric.Exporter, error) {
	s := c.otlpSignal("metrics")
	return otlpExporter(c, s,
		func(url string) (sdkmetric.Exporter, error) {
			opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(url),
				otlpmetricgrpc.WithHeaders(s.headers), otlpmetricgrpc.WithTimeout(c.timeout)}
			if c.ignoreEnv {
				creds, noCompression := grpcIgnoringEnv(url)
				opts = append(opts, otlpmetricgrpc.WithTLSCredentials(creds), otlpmetricgrpc.WithDialOption(noCompression),
					otlpmetricgrpc.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
					otlpmetricgrpc.WithAggregationSelector(sdkmetric.DefaultAggregationSelector))
			}
			return otlpmetricgrpc.New(ctx, opts...)
		},
		func(url string) (sdkmetric.Exporter, error) {
			opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(url),
				otlpmetrichttp.WithHeaders(s.headers), otlpmetrichttp.WithTimeout(c.timeout), otlpmetrichttp.WithHTTPClient(client)}
			if c.ignoreEnv {
				opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression), otlpmetrichttp.WithTLSClientConfig(nil),
					otlpmetrichttp.WithTemporalitySelector(sdkmetric.DefaultTemporalitySelector),
					otlpmetrichttp.WithAggregationSelector(sdkmetric.DefaultAggregationSelector))
			}
			return otlpmetrichttp.New(ctx, opts...)
		})
}

func newLogExporter(ctx context.Context, c *config, client *http.Client) (sdklog.Exporter, error) {
	s := c.otlpSignal("logs")
	return otlpExporter(c, s,
		func(url string) (sdklog.Exporter, error) {
			opts := []otlploggrpc.Option{otlploggrpc.WithEndpointURL(url),
				otlploggrpc.WithHeaders(s.headers), otlploggrpc.WithTimeout(c.timeout)}
			if c.ignoreEnv {
				creds, noCompression := grpcIgnoringEnv(url)
				opts = append(opts, otlploggrpc.WithTLSCredentials(creds), otlploggrpc.WithDialOption(noCompression))
			}
			return otlploggrpc.New(ctx, opts...)
		},
		func(url string) (sdklog.Exporter, error) {
			opts := []otlploghttp.Option{otlploghttp.WithEndpointURL(url),
				otlploghttp.WithHeaders(s.headers), otlploghttp.WithTimeout(c.timeout), otlploghttp.WithHTTPClient(client)}
			if c.ignoreEnv {
				opts = append(opts, otlploghttp.WithCompression(otlploghttp.NoCompression), otlploghttp.WithTLSClientConfig(nil))
			}
			return otlploghttp.New(ctx, opts...)
		})
}
