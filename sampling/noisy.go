package sampling

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync/atomic"
)

// noisyBuckets is the number of counters keys are hashed into. Keys that
// share a bucket share a count, as in zap's sampler: the kept fraction stays
// 1 in N overall while memory stays fixed whatever the keys.
const noisyBuckets = 1024

type noisyCounters struct {
	seed   maphash.Seed
	counts [noisyBuckets]atomic.Uint64
}

// KeepNoisy reports whether to keep a record of a noisy kind, such as
// request_completed for a health probe, identified by key (for example the
// event name and route). Keys are hashed (with a per-policy random seed)
// into 1024 counters, and each counter keeps its first record and then
// every Nth (see [WithNoisyEvery]). A key alone in its counter thus keeps
// its first record and 1 in N after it; keys that share a counter share
// the count, so together they keep 1 in N, and a key's own first record
// may be dropped if another key in its counter came before it. With many
// keys, some always share. Records at WARN and above are always kept.
// Dropped records are counted. It is safe for concurrent use and does not
// allocate.
func (p *Policy) KeepNoisy(ctx context.Context, key string, level slog.Level) bool {
	if p == nil || level >= slog.LevelWarn || p.cfg.noisyEvery <= 1 {
		return true
	}
	c := &p.noisy.counts[maphash.String(p.noisy.seed, key)%noisyBuckets]
	if (c.Add(1)-1)%p.cfg.noisyEvery == 0 {
		return true
	}
	p.stats.noisyDropped.Add(1)
	if ctx == nil {
		ctx = context.Background()
	}
	p.meters.noisyDropped(ctx)
	return false
}
