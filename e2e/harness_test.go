package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"
)

// The tests in this file check the harness itself with the plain OpenTelemetry SDK and its OTLP
// exporters, so that a failure in the otelsetup tests points at otelsetup, not at the harness.

// plainSDK is the three SDK providers wired to OTLP exporters by hand.
type plainSDK struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
	lp *sdklog.LoggerProvider
}

func newPlainSDK(t *testing.T, protocol, endpoint string) *plainSDK {
	t.Helper()
	ctx := context.Background()
	res := resource.NewSchemaless(
		attribute.String("service.name", "harness"),
		attribute.String("service.version", "0.0.1"),
	)
	var (
		se  sdktrace.SpanExporter
		me  sdkmetric.Exporter
		le  sdklog.Exporter
		err error
	)
	switch protocol {
	case protoGRPC:
		se, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
		if err == nil {
			me, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(endpoint))
		}
		if err == nil {
			le, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpointURL(endpoint))
		}
	default:
		// Unlike OTEL_EXPORTER_OTLP_ENDPOINT, an HTTP exporter's endpoint URL option is the
		// full URL, signal path included.
		se, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
		if err == nil {
			me, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(endpoint+"/v1/metrics"))
		}
		if err == nil {
			le, err = otlploghttp.New(ctx, otlploghttp.WithEndpointURL(endpoint+"/v1/logs"))
		}
	}
	if err != nil {
		t.Fatalf("exporters: %v", err)
	}
	sdk := &plainSDK{
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(se)),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour)))),
		lp: sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(le))),
	}
	// A test that fails before its own shutdown must not leave the SDK running into the next one.
	// Shutting down twice only returns an error, ignored here.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = sdk.shutdown(ctx)
	})
	return sdk
}

func (s *plainSDK) flush(ctx context.Context) error {
	return errors.Join(s.tp.ForceFlush(ctx), s.mp.ForceFlush(ctx), s.lp.ForceFlush(ctx))
}

func (s *plainSDK) shutdown(ctx context.Context) error {
	return errors.Join(s.tp.Shutdown(ctx), s.mp.Shutdown(ctx), s.lp.Shutdown(ctx))
}

func TestHarnessReceivesAllSignals(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			sdk := newPlainSDK(t, protocol, col.Endpoint(protocol))
			ctx := context.Background()

			logger := slog.New(otelslog.NewHandler("harness-logger", otelslog.WithLoggerProvider(sdk.lp)))
			counter, err := sdk.mp.Meter("harness-meter").Int64Counter("harness.requests")
			if err != nil {
				t.Fatal(err)
			}
			spanCtx, sp := sdk.tp.Tracer("harness-tracer").Start(ctx, "harness-span")
			logger.WarnContext(spanCtx, "inside span", "k", "v")
			counter.Add(spanCtx, 3)
			sp.End()
			wantTrace, wantSpan := sp.SpanContext().TraceID().String(), sp.SpanContext().SpanID().String()

			fctx, cancel := context.WithTimeout(ctx, waitTimeout)
			defer cancel()
			if err := sdk.flush(fctx); err != nil {
				t.Fatalf("flush: %v", err)
			}

			recs := col.waitLogs(t, 1)
			r := recs[0]
			if r.TraceID != wantTrace || r.SpanID != wantSpan {
				t.Errorf("log trace/span = %s/%s, want %s/%s", r.TraceID, r.SpanID, wantTrace, wantSpan)
			}
			if r.SeverityNumber != plog.SeverityNumberWarn || r.SeverityText != "WARN" {
				t.Errorf("severity = %v %q, want WARN(13) \"WARN\"", r.SeverityNumber, r.SeverityText)
			}
			if r.Body != "inside span" || r.Attrs["k"] != "v" || r.Scope != "harness-logger" {
				t.Errorf("record = %+v", r)
			}
			if r.Resource["service.name"] != "harness" || r.Resource["service.version"] != "0.0.1" {
				t.Errorf("resource = %v", r.Resource)
			}

			spans := col.waitSpans(t, 1)
			s, ok := spanNamed(spans, "harness-span")
			if !ok || s.TraceID != wantTrace || s.SpanID != wantSpan || s.Scope != "harness-tracer" {
				t.Errorf("spans = %+v", spans)
			}

			ms := col.waitMetrics(t, "harness.requests")
			if ms[0].Resource["service.name"] != "harness" || ms[0].DataPoints != 1 {
				t.Errorf("metrics = %+v", ms)
			}

			if err := sdk.shutdown(fctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

func TestHarnessStopRefusesConnections(t *testing.T) {
	col := startCollector(t)
	for _, addr := range []string{col.GRPCAddr, col.HTTPAddr} {
		if !canDial(addr) {
			t.Fatalf("collector not listening on %s", addr)
		}
	}
	col.Stop(t)
	col.Stop(t) // twice is fine
	for _, addr := range []string{col.GRPCAddr, col.HTTPAddr} {
		if canDial(addr) {
			t.Errorf("stopped collector still accepts connections on %s", addr)
		}
	}
	if addr := strings.TrimPrefix(downEndpoint(t), "http://"); canDial(addr) {
		t.Errorf("down endpoint %s accepts connections", addr)
	}
	if addr := strings.TrimPrefix(hungEndpoint(t), "http://"); !canDial(addr) {
		t.Errorf("hung endpoint %s refuses connections", addr)
	}
}

// TestHarnessLeavesNoGoroutines checks that a stopped collector, and an SDK shut down, leave
// nothing running, so goleak failures in other tests point at the code under test.
func TestHarnessLeavesNoGoroutines(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			sdk := newPlainSDK(t, protocol, col.Endpoint(protocol))
			slog.New(otelslog.NewHandler("leak", otelslog.WithLoggerProvider(sdk.lp))).Info("one")
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := sdk.shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			col.waitLogs(t, 1)
			col.Stop(t)
			goleak.VerifyNone(t)
		})
	}
}

func canDial(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
