package sampling_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sampling"
)

type benchKey struct{ n int }

// requestContext builds a context shaped like a served request's under
// httpmw: a few unrelated values (server, middleware), the sampling state,
// the server span, whose trace is not ratio sampled, and the sampling state
// again on top.
func requestContext(b *testing.B, p *sampling.Policy) (context.Context, *sampling.Request) {
	ctx := context.Background()
	for i := range 3 {
		ctx = context.WithValue(ctx, benchKey{i}, i)
	}
	ctx, req := p.StartContext(ctx)
	unsampled := trace.TraceID{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	ctx = context.WithValue(ctx, benchKey{9}, 9)
	ctx = withTrace(ctx, unsampled)
	// Innermost again, above the span, as httpmw leaves it.
	ctx = sampling.NewContext(ctx, req)
	if req.Enabled(ctx, slog.LevelDebug) {
		b.Fatal("benchmark trace is sampled")
	}
	return ctx, req
}

// BenchmarkDebugDisabled compares, in one run, slog's disabled DEBUG record
// with a DEBUG record in a request that is not sampled, through a handler
// that follows the integration contract.
func BenchmarkDebugDisabled(b *testing.B) {
	p := mustNew(b, sampling.WithRatio(0.1))
	ctx, _ := requestContext(b, p)
	json := slog.NewJSONHandler(io.Discard, nil)

	b.Run("slog_json_disabled", func(b *testing.B) {
		logger := slog.New(json)
		b.ReportAllocs()
		for b.Loop() {
			logger.Debug("cache miss")
		}
	})
	b.Run("slog_json_disabled_ctx", func(b *testing.B) {
		logger := slog.New(json)
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "cache miss")
		}
	})
	// Only this request is in flight: the policy's gate is closed.
	b.Run("request_not_sampled", func(b *testing.B) {
		logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: json})
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "cache miss")
		}
	})
	// Another request in flight is sampled: the gate is open and the record
	// pays for the context lookup.
	b.Run("request_not_sampled_gate_open", func(b *testing.B) {
		_, other := p.StartContext(context.Background())
		defer other.Finish(200, 0, false)
		logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: json})
		b.ReportAllocs()
		for b.Loop() {
			logger.DebugContext(ctx, "cache miss")
		}
	})
	b.Run("decision_only_gate_open", func(b *testing.B) {
		_, other := p.StartContext(context.Background())
		defer other.Finish(200, 0, false)
		b.ReportAllocs()
		for b.Loop() {
			p.ObserveLevel(ctx, slog.LevelDebug)
			if p.Wants(ctx, slog.LevelDebug) {
				b.Fatal("enabled")
			}
		}
	})
}

// BenchmarkDebugTailBuffered measures a DEBUG record held in a tail buffer,
// in steady state (the buffer is full and drops its oldest record).
func BenchmarkDebugTailBuffered(b *testing.B) {
	p := mustNew(b, sampling.WithTailBuffer(1000, 1<<20))
	ctx, req := requestContext(b, p)
	logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: slog.NewJSONHandler(io.Discard, nil)})
	b.ReportAllocs()
	for b.Loop() {
		logger.DebugContext(ctx, "cache miss", "key", "order:7", "attempt", 2)
	}
	b.StopTimer()
	_ = req.Finish(200, 0, false)
}

// BenchmarkStart measures the per-request decision.
func BenchmarkStart(b *testing.B) {
	p := mustNew(b,
		sampling.WithSecret(testSecret),
		sampling.WithAllowedPeers("10.0.0.0/8"),
		sampling.WithTrustedProxies("192.168.0.0/16"),
		sampling.WithTailBuffer(0, 0),
		sampling.WithRatio(0.1),
		sampling.WithLogger(slog.New(slog.DiscardHandler)),
		sampling.WithWarnInterval(time.Hour),
	)
	tok := mustToken(b, time.Now().Add(time.Hour))
	cases := []struct {
		name   string
		remote string
		header http.Header
	}{
		{"no_header", "203.0.113.9:1234", nil},
		{"token", "203.0.113.9:1234", http.Header{"X-Debug-Log": {tok}}},
		{"allowed_peer_via_proxy", "192.168.0.1:1234", http.Header{"X-Debug-Log": {"1"}, "X-Forwarded-For": {"10.1.2.3"}}},
		{"untrusted", "203.0.113.9:1234", http.Header{"X-Debug-Log": {"1"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := newRequest(c.remote, c.header)
			b.ReportAllocs()
			for b.Loop() {
				_, req := p.Start(r)
				_ = req.Finish(200, 0, false)
			}
		})
	}
}
