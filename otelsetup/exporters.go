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
)

// signalURL returns the full OTLP URL of a signal. A per-signal endpoint is
// used as given; the base endpoint gets the signal's path over HTTP, as the
// OTLP exporter specification says.
func (c *config) signalURL(signalEndpoint, path string) string {
	if signalEndpoint != "" {
		return signalEndpoint
	}
	base := c.endpoint
	if base == "" {
		base = "http://localhost:4318"
		if c.protocol == "grpc" {
			base = "http://localhost:4317"
		}
	}
	if c.protocol == "grpc" {
		return base
	}
	return strings.TrimSuffix(base, "/") + path
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
// protocol says, and names the signal and the (masked) endpoint in its error.
func otlpExporter[E any](c *config, signal, signalEndpoint, path string, overGRPC, overHTTP func(url string) (E, error)) (E, error) {
	url := c.signalURL(signalEndpoint, path)
	build := overHTTP
	if c.protocol == "grpc" {
		build = overGRPC
	}
	exp, err := build(url)
	if err != nil {
		var none E
		return none, fmt.Errorf("otelsetup: %s exporter for %s: %w", signal, maskURL(url), err)
	}
	return exp, nil
}

func newSpanExporter(ctx context.Context, c *config, client *http.Client) (sdktrace.SpanExporter, error) {
	return otlpExporter(c, "trace", c.tracesEndpoint, "/v1/traces",
		func(url string) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(url),
				otlptracegrpc.WithHeaders(c.headers), otlptracegrpc.WithTimeout(c.timeout))
		},
		func(url string) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url),
				otlptracehttp.WithHeaders(c.headers), otlptracehttp.WithTimeout(c.timeout), otlptracehttp.WithHTTPClient(client))
		})
}

func newMetricExporter(ctx context.Context, c *config, client *http.Client) (sdkmetric.Exporter, error) {
	return otlpExporter(c, "metric", c.metricsEndpoint, "/v1/metrics",
		func(url string) (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(url),
				otlpmetricgrpc.WithHeaders(c.headers), otlpmetricgrpc.WithTimeout(c.timeout))
		},
		func(url string) (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(url),
				otlpmetrichttp.WithHeaders(c.headers), otlpmetrichttp.WithTimeout(c.timeout), otlpmetrichttp.WithHTTPClient(client))
		})
}

func newLogExporter(ctx context.Context, c *config, client *http.Client) (sdklog.Exporter, error) {
	return otlpExporter(c, "log", c.logsEndpoint, "/v1/logs",
		func(url string) (sdklog.Exporter, error) {
			return otlploggrpc.New(ctx, otlploggrpc.WithEndpointURL(url),
				otlploggrpc.WithHeaders(c.headers), otlploggrpc.WithTimeout(c.timeout))
		},
		func(url string) (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url),
				otlploghttp.WithHeaders(c.headers), otlploghttp.WithTimeout(c.timeout), otlploghttp.WithHTTPClient(client))
		})
}
