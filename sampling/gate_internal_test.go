package sampling

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

func TestWantsGateCounts(t *testing.T) {
	unsampled := trace.TraceID{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	spanCtx := func(ctx context.Context) context.Context {
		return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: unsampled, SpanID: trace.SpanID{1},
		}))
	}
	tests := []struct {
		name      string
		opts      []Option
		forced    bool
		atStart   int64 // open count after Start
		afterSpan int64 // after a DEBUG record with the span in ctx
	}{
		{"nothing configured", nil, false, 0, 0},
		{"forced", []Option{WithAllowedPeers("10.0.0.0/8")}, true, 1, 1},
		{"ratio undecided then off", []Option{WithRatio(0.5)}, false, 1, 0},
		{"ratio one", []Option{WithRatio(1)}, false, 1, 1},
		{"tail", []Option{WithTailBuffer(0, 0)}, false, 1, 1},
		{"tail and ratio off", []Option{WithTailBuffer(0, 0), WithRatio(0.5)}, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(append(tt.opts, WithLogger(slog.New(slog.DiscardHandler)))...)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:1"
			if tt.forced {
				r.Header.Set(DefaultHeader, "1")
			}
			ctx, req := p.Start(r)
			if got := p.open.Load(); got != tt.atStart {
				t.Fatalf("open after Start = %d, want %d", got, tt.atStart)
			}
			ctx = spanCtx(ctx)
			p.Wants(ctx, slog.LevelDebug)
			if got := p.open.Load(); got != tt.afterSpan {
				t.Fatalf("open after span = %d, want %d", got, tt.afterSpan)
			}
			if want := tt.forced || tt.name == "ratio one" || tt.name[:4] == "tail"; p.Wants(ctx, slog.LevelDebug) != want {
				t.Fatalf("Wants(DEBUG) = %v, want %v", !want, want)
			}
			_ = req.Finish(200, 0, false)
			_ = req.Finish(200, 0, false)
			if got := p.open.Load(); got != 0 {
				t.Fatalf("open after Finish = %d", got)
			}
			if p.Wants(ctx, slog.LevelDebug) {
				t.Fatal("wanted after Finish")
			}
		})
	}
}

func TestRingBoundsMemory(t *testing.T) {
	rec := slog.NewRecord(testTime, slog.LevelDebug, "m", 0)
	tests := []struct {
		name       string
		maxN, maxB int
		size, push int
		wantN      int
	}{
		{"count bound", 4, 1 << 20, 10, 100, 4},
		{"byte bound", 1000, 20 * entrySize, 0, 100, 20},
		{"too big to hold", 10, 2 * entrySize, 3 * entrySize, 5, 0},
		{"big records", 100, 40 * entrySize, 9 * entrySize, 20, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q ring
			for range tt.push {
				q.push(entry{rec: rec, size: tt.size}, tt.maxN, tt.maxB)
				if q.memory() > tt.maxB || q.n > tt.maxN {
					t.Fatalf("memory %d > %d or n %d > %d", q.memory(), tt.maxB, q.n, tt.maxN)
				}
			}
			if q.n != tt.wantN || int64(tt.push-q.n) != q.dropped {
				t.Fatalf("n %d (want %d), dropped %d", q.n, tt.wantN, q.dropped)
			}
		})
	}
}

var testTime = time.Unix(1_800_000_000, 0)
