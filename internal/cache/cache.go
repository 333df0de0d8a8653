// Package cache holds a small read-mostly memo for the instrumentation's
// hot paths: metric attribute sets per series, redacted values that
// repeat.
package cache

import (
	"sync"
	"sync/atomic"
)

// Memo remembers make(k) for up to max keys. Lookups take no lock: the map
// is replaced, never changed, on each addition, which suits the few keys
// (routes, statuses, content types) that repeat millions of times. Past max
// keys, values are made on each call and not kept, so memory stays bounded
// whatever the keys. The zero Memo is not usable; use New.
type Memo[K comparable, V any] struct {
	max  int
	make func(K) V
	mu   sync.Mutex // serializes additions
	m    atomic.Pointer[map[K]V]
}

// New returns a Memo of at most max keys whose values make computes. make
// must be safe for concurrent use.
func New[K comparable, V any](max int, make func(K) V) *Memo[K, V] {
	return &Memo[K, V]{max: max, make: make}
}

// Get returns the value of k.
func (c *Memo[K, V]) Get(k K) V {
	if v, ok := c.Load(k); ok {
		return v
	}
	v := c.make(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if v2, ok := old[k]; ok {
		return v2
	}
	if len(old) >= c.max {
		return v
	}
	m := make(map[K]V, len(old)+1)
	for k2, v2 := range old {
		m[k2] = v2
	}
	m[k] = v
	c.m.Store(&m)
	return v
}

// Load returns the value kept for k, if any; it never calls make.
func (c *Memo[K, V]) Load(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// StoreAll keeps the values of kvs whose keys are not kept yet, as many as
// fit under max, in one addition: a caller that finds many new keys at
// once (a metric export) copies the map once, not once per key. A Memo
// used only through Load and StoreAll may have a nil make.
func (c *Memo[K, V]) StoreAll(kvs map[K]V) {
	if len(kvs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if len(old) >= c.max {
		return
	}
	m := make(map[K]V, min(len(old)+len(kvs), c.max))
	for k, v := range old {
		m[k] = v
	}
	for k, v := range kvs {
		if len(m) >= c.max {
			break
		}
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	c.m.Store(&m)
}

// Len returns the number of keys kept.
func (c *Memo[K, V]) Len() int {
	if p := c.m.Load(); p != nil {
		return len(*p)
	}
	return 0
}
