package cache

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

func TestMemo(t *testing.T) {
	var made atomic.Int32
	m := New(3, func(k int) string { made.Add(1); return strconv.Itoa(k) })
	for range 2 {
		for k := range 5 {
			if got := m.Get(k); got != strconv.Itoa(k) {
				t.Fatalf("Get(%d) = %q", k, got)
			}
		}
	}
	if m.Len() != 3 {
		t.Errorf("kept %d keys, want 3", m.Len())
	}
	// 0, 1, 2 made once and kept; 3 and 4 made on each call.
	if n := made.Load(); n != 3+2*2 {
		t.Errorf("made %d values, want 7", n)
	}
}

func TestMemoConcurrent(t *testing.T) {
	m := New(100, func(k int) int { return k * 2 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := (i + g) % 150
				if got := m.Get(k); got != k*2 {
					t.Errorf("Get(%d) = %d", k, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if m.Len() != 100 {
		t.Errorf("kept %d", m.Len())
	}
}

func TestMemoLoadStoreAll(t *testing.T) {
	m := New[int, string](3, nil)
	if _, ok := m.Load(1); ok {
		t.Fatal("Load on an empty memo found a value")
	}
	m.StoreAll(map[int]string{1: "a", 2: "b"})
	m.StoreAll(map[int]string{2: "x", 3: "c", 4: "d", 5: "e"})
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (the bound)", m.Len())
	}
	if v, ok := m.Load(2); !ok || v != "b" {
		t.Fatalf("Load(2) = %q, %v; the first value stored must stay", v, ok)
	}
	if v, ok := m.Load(1); !ok || v != "a" {
		t.Fatalf("Load(1) = %q, %v", v, ok)
	}
	m.StoreAll(map[int]string{6: "f"})
	if _, ok := m.Load(6); ok || m.Len() != 3 {
		t.Fatal("StoreAll went past the bound")
	}
}
