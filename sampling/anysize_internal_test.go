package sampling

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAnySize(t *testing.T) {
	type cyc struct {
		Name string
		Next *cyc
	}
	loop := &cyc{Name: strings.Repeat("n", 100)}
	loop.Next = loop
	big := make([]string, 100_000)
	for i := range big {
		big[i] = strings.Repeat("s", 100)
	}
	type withTime struct {
		At time.Time
		N  int
	}
	tests := []struct {
		name     string
		v        any
		min, max int
	}{
		{"nil", nil, 0, 0},
		{"string", strings.Repeat("x", 1000), 1000, 1100},
		{"bytes", make([]byte, 1000), 1000, 1100},
		{"ints", make([]int64, 1000), 8000, 8100},
		{"map_of_strings", map[string]string{"a": strings.Repeat("x", 1000), "b": strings.Repeat("y", 1000)}, 2000, 3000},
		{"map_of_ints", map[int]int{1: 1, 2: 2}, 32, 512},
		{"error", errors.New(strings.Repeat("e", 1000)), 1000, 1100},
		// Walked to anyMaxDepth levels, then stops.
		{"cycle", loop, 100, (anyMaxDepth + 1) * (100 + 32)},
		// Sampled and extrapolated: 100,000 strings of 100 bytes.
		{"large_slice", big, 100_000 * 116, 100_000*116 + 64},
		// The shared time.Location is not charged.
		{"time", withTime{At: time.Now()}, 24, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anySize(tt.v); got < tt.min || got > tt.max {
				t.Errorf("anySize = %d, want [%d, %d]", got, tt.min, tt.max)
			}
		})
	}
}

func TestAnySizeBoundedWork(t *testing.T) {
	// A map of 200,000 entries is sampled, not walked.
	const entries = 200_000
	m := make(map[string][]string, entries)
	for i := range entries {
		m[strconv.Itoa(i)] = []string{"abcdefgh"}
	}
	start := time.Now()
	n := anySize(m)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("anySize of a %d-entry map took %v", entries, d)
	}
	if n < entries*(24+8) {
		t.Errorf("anySize = %d, below the entries' data", n)
	}
}

func TestAnySizeCommonMapsDoNotAllocate(t *testing.T) {
	ms := map[string]string{"a": "b", "c": strings.Repeat("d", 100)}
	ma := map[string]any{"a": 1, "b": "two", "c": []string{"x"}}
	if a := testing.AllocsPerRun(100, func() { _ = anySize(ms) + anySize(ma) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}
