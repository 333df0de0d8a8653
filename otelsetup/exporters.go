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

func newSpanExporter(ctx context.Context, c *config, client *http.Client) (sdktrace.SpanExporter, error) {
	url := c.signalURL(c.tracesEndpoint, "/v1/traces")
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if c.protocol == "grpc" {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(url),
			otlptracegrpc.WithHeaders(c.headers), otlptracegrpc.WithTimeout(c.timeout))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url),
			otlptracehttp.WithHeaders(c.headers), otlptracehttp.WithTimeout(c.timeout), otlptracehttp.WithHTTPClient(client))
	}
	if err != nil {
		return nil, fmt.Errorf("otelsetup: trace exporter for %s: %w", maskURL(url), err)
	}
	return exp, nil
}

func newMetricExporter(ctx context.Context, c *config, client *http.Client) (sdkmetric.Exporter, error) {
	url := c.signalURL(c.metricsEndpoint, "/v1/metrics")
	var (
		exp sdkmetric.Exporter
		err error
	)
	if c.protocol == "grpc" {
		exp, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(url),
			otlpmetricgrpc.WithHeaders(c.headers), otlpmetricgrpc.WithTimeout(c.timeout))
	} else {
		exp, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(url),
			otlpmetrichttp.WithHeaders(c.headers), otlpmetrichttp.WithTimeout(c.timeout), otlpmetrichttp.WithHTTPClient(client))
	}
	if err != nil {
		return nil, fmt.Errorf("otelsetup: metric exporter for %s: %w", maskURL(url), err)
	}
	return exp, nil
}

func newLogExporter(ctx context.Context, c *config, client *http.Client) (sdklog.Exporter, error) {
	url := c.signalURL(c.logsEndpoint, "/v1/logs")
	var (
		exp sdklog.Exporter
		err error
	)
	if c.protocol == "grpc" {
		exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpointURL(url),
			otlploggrpc.WithHeaders(c.headers), otlploggrpc.WithTimeout(c.timeout))
	} else {
		exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url),
			otlploghttp.WithHeaders(c.headers), otlploghttp.WithTimeout(c.timeout), otlploghttp.WithHTTPClient(client))
	}
	if err != nil {
		return nil, fmt.Errorf("otelsetup: log exporter for %s: %w", maskURL(url), err)
	}
	return exp, nil
}
