package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

func tailPolicy(t testing.TB, opts ...sampling.Option) *sampling.Policy {
	t.Helper()
	return mustNew(t, append([]sampling.Option{
		sampling.WithTailBuffer(100, 1<<20),
		sampling.WithTailSlow(time.Second),
	}, opts...)...)
}

func TestTailTriggers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		dur      time.Duration
		panicked bool
		observe  slog.Level // level of one extra record logged at INFO or above
		emit     bool
	}{
		{"ok", 200, time.Millisecond, false, slog.LevelInfo, false},
		{"client error", 404, time.Millisecond, false, slog.LevelInfo, false},
		{"warn record", 200, time.Millisecond, false, slog.LevelWarn, false},
		{"server error", 503, time.Millisecond, false, slog.LevelInfo, true},
		{"panic", 200, time.Millisecond, true, slog.LevelInfo, true},
		{"error record", 200, time.Millisecond, false, slog.LevelError, true},
		{"critical record", 200, time.Millisecond, false, sampling.LevelCritical, true},
		{"slow", 200, 2 * time.Second, false, slog.LevelInfo, true},
		{"just under slow", 200, time.Second - 1, false, slog.LevelInfo, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tailPolicy(t)
			sink := &capture{}
			logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: sink})
			ctx, req := p.StartContext(context.Background())

			t0 := time.Now()
			for i := range 3 {
				logger.DebugContext(ctx, "step", "i", i)
			}
			logger.Log(ctx, tt.observe, "outcome")
			if got := len(sink.records()); got != 1 {
				t.Fatalf("%d records before Finish, want only the INFO+ one", got)
			}
			if err := req.Finish(tt.status, tt.dur, tt.panicked); err != nil {
				t.Fatal(err)
			}
			recs := sink.records()[1:]
			st := p.Stats()
			if !tt.emit {
				if len(recs) != 0 || st.TailDiscarded != 3 || st.TailEmitted != 0 {
					t.Fatalf("discard: %d emitted, stats %+v", len(recs), st)
				}
				return
			}
			if len(recs) != 3 || st.TailEmitted != 3 || st.TailDiscarded != 0 {
				t.Fatalf("emit: %d emitted, stats %+v", len(recs), st)
			}
			for i, r := range recs {
				a := attrs(r)
				if a["i"] != strconv.Itoa(i) || a[sampling.SampledByKey] != sampling.SampledByTail {
					t.Errorf("record %d attrs %v", i, a)
				}
				if r.Level != slog.LevelDebug || r.Time.Before(t0) || (i > 0 && r.Time.Before(recs[i-1].Time)) {
					t.Errorf("record %d: level %v time %v", i, r.Level, r.Time)
				}
			}
		})
	}
}

func TestTailKeepsOwnTimestamps(t *testing.T) {
	p := tailPolicy(t)
	sink := &capture{}
	ctx, req := p.StartContext(context.Background())
	want := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	req.Hold(ctx, slog.NewRecord(want, slog.LevelDebug, "old", 0), sink)
	_ = req.Finish(500, 0, false)
	if got := sink.records()[0].Time; !got.Equal(want) {
		t.Fatalf("time %v, want %v", got, want)
	}
}

func TestTailDropsOldestByCount(t *testing.T) {
	p := mustNew(t, sampling.WithTailBuffer(3, 1<<20))
	sink := &capture{}
	ctx, req := p.StartContext(context.Background())
	for i := range 10 {
		r := slog.NewRecord(time.Now(), slog.LevelDebug, "m", 0)
		r.AddAttrs(slog.Int("i", i))
		if !req.Hold(ctx, r, sink) {
			t.Fatal("not held")
		}
	}
	if n, _ := req.TailLen(); n != 3 {
		t.Fatalf("TailLen = %d, want 3", n)
	}
	_ = req.Finish(500, 0, false)
	var got []string
	for _, r := range sink.records() {
		got = append(got, attrs(r)["i"])
	}
	if fmt.Sprint(got) != "[7 8 9]" {
		t.Fatalf("emitted %v, want the newest three", got)
	}
	if st := p.Stats(); st.TailDropped != 7 || st.TailEmitted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTailNotHeld(t *testing.T) {
	sink := &capture{}
	rec := slog.NewRecord(time.Now(), slog.LevelDebug, "m", 0)

	p := mustNew(t) // tail off
	ctx, req := p.StartContext(context.Background())
	if req.Holds(slog.LevelDebug) || req.Hold(ctx, rec, sink) {
		t.Error("held with the tail off")
	}

	p = tailPolicy(t, sampling.WithAllowedPeers("10.0.0.0/8"), sampling.WithLogger(slog.New(&capture{})))
	_, req = p.Start(newRequest("10.0.0.1:1", map[string][]string{"X-Debug-Log": {"1"}}))
	if req.Holds(slog.LevelDebug) {
		t.Error("forced request must write, not hold")
	}

	ctx, req = p.StartContext(context.Background())
	if req.Holds(slog.LevelInfo) {
		t.Error("INFO held above the tail level")
	}
	if req.Hold(ctx, rec, nil) {
		t.Error("held with a nil handler")
	}
	_ = req.Finish(200, 0, false)
	if req.Holds(slog.LevelDebug) || req.Hold(ctx, rec, sink) {
		t.Error("held after Finish")
	}
	if err := req.Finish(500, 0, true); err != nil || len(sink.records()) != 0 {
		t.Error("second Finish did something")
	}
}

type panicky struct{ capture }

func (*panicky) Handle(context.Context, slog.Record) error { panic("boom") }

type failing struct{ capture }

func (*failing) Handle(context.Context, slog.Record) error { return errors.New("disk full") }

func TestTailHandlerFailures(t *testing.T) {
	p := tailPolicy(t)
	ctx, req := p.StartContext(context.Background())
	rec := slog.NewRecord(time.Now(), slog.LevelDebug, "m", 0)
	ok := &capture{}
	req.Hold(ctx, rec, &panicky{})
	req.Hold(ctx, rec, &failing{})
	req.Hold(ctx, rec, ok)
	err := req.Finish(500, 0, false)
	if err == nil || len(ok.records()) != 1 {
		t.Fatalf("Finish = %v, %d written after failures", err, len(ok.records()))
	}
}

func TestTailFlushIgnoresCancellation(t *testing.T) {
	p := tailPolicy(t)
	sink := &ctxCheck{}
	ctx, cancel := context.WithCancel(context.Background())
	ctx, req := p.StartContext(ctx)
	req.Hold(ctx, slog.NewRecord(time.Now(), slog.LevelDebug, "m", 0), sink)
	cancel()
	_ = req.Finish(500, 0, false)
	if sink.err != nil || !sink.called {
		t.Fatalf("handler saw a cancelled context: %v", sink.err)
	}
}

type ctxCheck struct {
	capture
	called bool
	err    error
}

func (c *ctxCheck) Handle(ctx context.Context, _ slog.Record) error {
	c.called, c.err = true, ctx.Err()
	return nil
}

func TestTailMillionRecordsStayWithinBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const maxBytes = 256 << 10
	p := mustNew(t, sampling.WithTailBuffer(1_000_000, maxBytes))
	sink := &capture{}
	logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: sink})
	ctx, req := p.StartContext(context.Background())

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	payload := "some debug detail that is not short"
	for i := range 1_000_000 {
		logger.DebugContext(ctx, "step", "i", i, "a", payload, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6)
		if i%10_000 == 0 {
			if _, b := req.TailLen(); b > maxBytes {
				t.Fatalf("after %d records: %d bytes > bound %d", i, b, maxBytes)
			}
		}
	}
	n, b := req.TailLen()
	if b > maxBytes || n == 0 {
		t.Fatalf("final: %d records, %d bytes, bound %d", n, b, maxBytes)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// The estimate must not undercount the real heap: allow GC noise only.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > maxBytes+64<<10 {
		t.Fatalf("heap grew by %d bytes holding %d records, bound %d", grown, n, maxBytes)
	}
	runtime.KeepAlive(req)
	_ = req.Finish(200, 0, false)
	st := p.Stats()
	if st.TailDropped+st.TailDiscarded != 1_000_000 || st.TailDiscarded != uint64(n) {
		t.Fatalf("stats %+v, held %d", st, n)
	}
	t.Logf("held %d records in %d estimated bytes; heap grew by %d bytes",
		n, b, int64(after.HeapAlloc)-int64(before.HeapAlloc))
}

func TestTailConcurrentRequestsNeverMix(t *testing.T) {
	p := tailPolicy(t)
	const requests, perReq = 32, 50
	var wg sync.WaitGroup
	shared := &capture{}
	logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: shared})
	for id := range requests {
		wg.Go(func() {
			ctx, req := p.StartContext(context.Background())
			var inner sync.WaitGroup
			for g := range 2 { // two goroutines per request
				inner.Go(func() {
					for i := range perReq / 2 {
						logger.DebugContext(ctx, "step", "req", id, "g", g, "i", i)
					}
				})
			}
			inner.Wait()
			status := 200
			if id%2 == 0 {
				status = 500
			}
			_ = req.Finish(status, 0, false)
		})
	}
	wg.Wait()
	byReq := map[string][]slog.Record{}
	for _, r := range shared.records() {
		id := attrs(r)["req"]
		byReq[id] = append(byReq[id], r)
	}
	if len(byReq) != requests/2 {
		t.Fatalf("%d requests emitted, want %d", len(byReq), requests/2)
	}
	for id, recs := range byReq {
		n, _ := strconv.Atoi(id)
		if n%2 != 0 {
			t.Errorf("request %s (status 200) emitted records", id)
		}
		if len(recs) != perReq {
			t.Errorf("request %s: %d records, want %d", id, len(recs), perReq)
		}
	}
	// Within a request, each goroutine's records come out in order.
	for id, recs := range byReq {
		next := map[string]int{}
		for _, r := range recs {
			a := attrs(r)
			if a["i"] != strconv.Itoa(next[a["g"]]) {
				t.Fatalf("request %s goroutine %s: got i=%s, want %d", id, a["g"], a["i"], next[a["g"]])
			}
			next[a["g"]]++
		}
	}
}

// payloadNode and payloadValuer are payloads of kind Any and LogValuer.
type payloadNode struct {
	Name string
	Tags []string
	Next *payloadNode
}

type payloadValuer struct{ blob string }

func (v payloadValuer) LogValue() slog.Value { return slog.StringValue("elided") }

// bigPayloads returns makers of payloads by name. A maker returns, for
// record i, a large value built afresh (so that holding it keeps its memory
// alive) and the bytes of string data it holds: a lower bound of the memory
// it keeps alive.
func bigPayloads() map[string]func(i int) (any, int) {
	chunk := func(i, j int) string { return strings.Repeat(string(rune('a'+(i+j)%26)), 512) }
	return map[string]func(i int) (any, int){
		"map_of_strings": func(i int) (any, int) {
			m := map[string]string{}
			n := 0
			for j := range 32 {
				m["k"+strconv.Itoa(j)] = chunk(i, j)
				n += 512
			}
			return m, n
		},
		"struct": func(i int) (any, int) {
			head := &payloadNode{Name: chunk(i, 0)}
			n := 512
			for j := range 16 {
				head.Tags = append(head.Tags, chunk(i, j))
				n += 512
			}
			head.Next = &payloadNode{Name: chunk(i, 99), Tags: []string{chunk(i, 98)}}
			return *head, n + 1024
		},
		"map_of_any": func(i int) (any, int) {
			m := map[string]any{}
			n := 0
			for j := range 16 {
				m["k"+strconv.Itoa(j)] = []string{chunk(i, j), chunk(i, j+1)}
				n += 1024
			}
			return m, n
		},
		"error": func(i int) (any, int) {
			return fmt.Errorf("call failed: %s: %w", chunk(i, 0), errors.New(strings.Repeat(chunk(i, 1), 16))), 512 * 17
		},
		"log_valuer": func(i int) (any, int) {
			return payloadValuer{blob: strings.Repeat(chunk(i, 2), 16)}, 512 * 16
		},
	}
}

// TestTailBytesBoundCountsAnyPayloads holds records whose slog.Any values
// (maps, structs, errors, LogValuers) are far larger than a flat guess, and
// checks that what the buffer holds, measured by the payloads' own string
// data, stays within the byte bound, the rest being dropped and counted.
func TestTailBytesBoundCountsAnyPayloads(t *testing.T) {
	const maxBytes, records = 64 << 10, 100
	for name, build := range bigPayloads() {
		t.Run(name, func(t *testing.T) {
			p := mustNew(t, sampling.WithTailBuffer(10_000, maxBytes))
			sink := &capture{}
			logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: sink})
			ctx, req := p.StartContext(context.Background())
			payload := map[string]int{}
			for i := range records {
				v, n := build(i)
				payload[strconv.Itoa(i)] = n
				logger.DebugContext(ctx, "step", "i", i, slog.Any("payload", v))
			}
			held, est := req.TailLen()
			if err := req.Finish(500, 0, false); err != nil {
				t.Fatal(err)
			}
			recs := sink.records()
			data := 0
			for _, r := range recs {
				data += payload[attrs(r)["i"]]
			}
			st := p.Stats()
			if held == 0 || len(recs) != held || est > maxBytes || data > maxBytes || data > est {
				t.Fatalf("held %d records, estimated %d bytes, holding %d bytes of payload strings; bound %d",
					held, est, data, maxBytes)
			}
			if st.TailEmitted != uint64(held) || st.TailDropped != uint64(records-held) {
				t.Fatalf("stats %+v, held %d of %d", st, held, records)
			}
			t.Logf("held %d of %d records: estimate %d bytes, payload strings %d bytes", held, records, est, data)
		})
	}
}

func TestTailDropsAnyPayloadLargerThanBound(t *testing.T) {
	p := mustNew(t, sampling.WithTailBuffer(100, 16<<10))
	ctx, req := p.StartContext(context.Background())
	m := map[string]string{}
	for j := range 64 {
		m[strconv.Itoa(j)] = strings.Repeat("x", 1024)
	}
	rec := slog.NewRecord(time.Now(), slog.LevelDebug, "big", 0)
	rec.AddAttrs(slog.Any("payload", m))
	req.Hold(ctx, rec, &capture{})
	if n, b := req.TailLen(); n != 0 || b > 16<<10 {
		t.Fatalf("held %d records, %d bytes: a 64 KiB map does not fit in 16 KiB", n, b)
	}
	_ = req.Finish(500, 0, false)
	if st := p.Stats(); st.TailDropped != 1 || st.TailEmitted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTailAnyPayloadsStayWithinHeap measures the heap: records whose maps
// are built afresh must not keep more than the bound alive.
func TestTailAnyPayloadsStayWithinHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const maxBytes = 256 << 10
	p := mustNew(t, sampling.WithTailBuffer(1_000_000, maxBytes))
	logger := slog.New(&bridge{policy: p, level: slog.LevelInfo, sink: &capture{}})
	ctx, req := p.StartContext(context.Background())
	build := bigPayloads()["map_of_strings"]

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 2_000 {
		v, _ := build(i)
		logger.DebugContext(ctx, "step", "i", i, slog.Any("payload", v))
	}
	n, b := req.TailLen()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if b > maxBytes || n == 0 || grown > maxBytes+64<<10 {
		t.Fatalf("held %d records in %d estimated bytes; heap grew by %d bytes, bound %d", n, b, grown, maxBytes)
	}
	runtime.KeepAlive(req)
	_ = req.Finish(200, 0, false)
	t.Logf("held %d records in %d estimated bytes; heap grew by %d bytes", n, b, grown)
}
