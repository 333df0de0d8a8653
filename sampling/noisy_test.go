package sampling_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/sampling"
)

func TestKeepNoisy(t *testing.T) {
	tests := []struct {
		name  string
		every int
		level slog.Level
		n     int
		kept  int
	}{
		{"1 in 10", 10, slog.LevelInfo, 100, 10},
		{"first kept", 10, slog.LevelInfo, 1, 1},
		{"debug too", 4, slog.LevelDebug, 10, 3},
		{"warn never dropped", 10, slog.LevelWarn, 100, 100},
		{"error never dropped", 10, slog.LevelError, 100, 100},
		{"every 1 keeps all", 1, slog.LevelInfo, 50, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, sampling.WithNoisyEvery(tt.every))
			kept := 0
			for range tt.n {
				if p.KeepNoisy(context.Background(), "request_completed /healthz", tt.level) {
					kept++
				}
			}
			if kept != tt.kept {
				t.Fatalf("kept %d of %d, want %d", kept, tt.n, tt.kept)
			}
			if got := p.Stats().NoisyDropped; got != uint64(tt.n-tt.kept) {
				t.Fatalf("NoisyDropped = %d, want %d", got, tt.n-tt.kept)
			}
		})
	}
}

func TestKeepNoisyConcurrentSafe(t *testing.T) {
	p := mustNew(t, sampling.WithNoisyEvery(10))
	var wg sync.WaitGroup
	var mu sync.Mutex
	kept := 0
	for range 8 {
		wg.Go(func() {
			k := 0
			for range 1000 {
				if p.KeepNoisy(context.Background(), "probe", slog.LevelInfo) {
					k++
				}
			}
			mu.Lock()
			kept += k
			mu.Unlock()
		})
	}
	wg.Wait()
	if kept != 800 || p.Stats().NoisyDropped != 7200 {
		t.Fatalf("kept %d, dropped %d", kept, p.Stats().NoisyDropped)
	}
}
