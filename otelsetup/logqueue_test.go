package otelsetup

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// orderedSink records the bodies it exports, in order; while its gate is
// closed every export waits.
type orderedSink struct {
	gate   *gate
	delay  time.Duration
	mu     sync.Mutex
	bodies []string
}

func (s *orderedSink) Export(ctx context.Context, rs []sdklog.Record) error {
	if err := s.gate.wait(ctx); err != nil {
		return err
	}
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rs {
		s.bodies = append(s.bodies, rs[i].Body().AsString())
	}
	return nil
}

func (s *orderedSink) Shutdown(context.Context) error   { return nil }
func (s *orderedSink) ForceFlush(context.Context) error { return nil }

func (s *orderedSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bodies)
}

// newTestLogQueue is the log pipeline Setup builds, with a ring of ring
// records, a queue of limit, and batches of batch.
// Exports still stuck when the test ends are cancelled, as Shutdown does.
func newTestLogQueue(t *testing.T, sink sdklog.Exporter, ring, limit, batch int) (*logQueue, *admission) {
	rep := newDropReporter(io.Discard, time.Hour)
	adm := &admission{limit: int64(limit), drops: rep.counter("log records"), rep: rep}
	q := &logQueue{adm: adm, ring: int64(ring)}
	abort := newAbortable()
	t.Cleanup(abort.cancel)
	exp := &countingLogExporter{Exporter: sink, adm: adm, queue: q, abort: abort}
	q.Processor = sdklog.NewBatchProcessor(exp,
		sdklog.WithMaxQueueSize(ring),
		sdklog.WithExportMaxBatchSize(batch),
		sdklog.WithExportInterval(time.Hour)) // only size, ForceFlush and Shutdown export
	return q, adm
}

func emitBody(t *testing.T, q *logQueue, body string) {
	t.Helper()
	var r sdklog.Record
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3), attribute.Int("d", 4), attribute.Int("e", 5), attribute.Int("f", 6))
	if err := q.OnEmit(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	// The caller owns the record: changing it after OnEmit must not change
	// what is exported.
	r.SetBody(attribute.StringValue("changed after OnEmit"))
	r.SetAttributes()
}

func seq(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// TestLogQueueSpillsPastTheRing: with the exporter stuck, a queue of 20
// over a ring of 4 takes 20 records without dropping one, drops and counts
// the 21st, then delivers all 20 in order once the exporter answers, and
// frees its spill list.
func TestLogQueueSpillsPastTheRing(t *testing.T) {
	for _, end := range []string{"ForceFlush", "Shutdown"} {
		t.Run(end, func(t *testing.T) {
			sink := &orderedSink{gate: newGate()}
			q, adm := newTestLogQueue(t, sink, 4, 20, 2)
			for i := range 20 {
				emitBody(t, q, strconv.Itoa(i))
			}
			// The stuck export holds the first batch, out of the queue.
			for deadline := time.Now().Add(5 * time.Second); adm.exporting.Load() != 2; {
				if time.Now().After(deadline) {
					t.Fatalf("the exporter took %d records, want a batch of 2", adm.exporting.Load())
				}
				time.Sleep(time.Millisecond)
			}
			if n := q.spillLen(); n != 20-4-2 {
				t.Errorf("spill holds %d records, want 14 (ring 4, a batch of 2 exporting)", n)
			}
			emitBody(t, q, "20")
			emitBody(t, q, "21")
			sent := 22
			emitBody(t, q, "dropped")
			if got := adm.drops.counts[reasonIndex(reasonQueueFull)].Load(); got != 1 {
				t.Fatalf("queue-full drops = %d, want 1", got)
			}
			sink.gate.release()
			var err error
			if end == "ForceFlush" {
				err = q.ForceFlush(context.Background())
			} else {
				err = q.Shutdown(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sink.got(), seq(0, sent); !slices.Equal(got, want) {
				t.Errorf("exported %v\nwant %v", got, want)
			}
			if q.spill != nil || q.spilling.Load() {
				t.Errorf("spill list kept after draining: len %d cap %d", len(q.spill), cap(q.spill))
			}
			if end == "ForceFlush" {
				_ = q.Shutdown(context.Background())
			}
			adm.close()
			if got := adm.drops.counts[reasonIndex(reasonShutdown)].Load(); got != 0 {
				t.Errorf("%d records counted lost at shutdown, want 0", got)
			}
		})
	}
}

// TestLogQueueConcurrentEmitters: many goroutines emitting through a small
// ring into a slow exporter lose nothing, and each goroutine's records
// arrive in the order it emitted them.
func TestLogQueueConcurrentEmitters(t *testing.T) {
	sink := &orderedSink{gate: newGate(), delay: 50 * time.Microsecond}
	sink.gate.release()
	q, adm := newTestLogQueue(t, sink, 16, 100000, 8)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				emitBody(t, q, strconv.Itoa(w)+"/"+strconv.Itoa(i))
			}
		})
	}
	wg.Wait()
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	adm.close()
	got := sink.got()
	if len(got) != workers*each {
		t.Fatalf("exported %d records, want %d", len(got), workers*each)
	}
	next := make([]int, workers)
	for _, b := range got {
		var w, i int
		for j := range len(b) {
			if b[j] == '/' {
				w, _ = strconv.Atoi(b[:j])
				i, _ = strconv.Atoi(b[j+1:])
			}
		}
		if i != next[w] {
			t.Fatalf("worker %d: record %d arrived when %d was next", w, i, next[w])
		}
		next[w]++
	}
}

// TestLogQueueShutdownDeadline: with the exporter stuck, Shutdown returns
// at its deadline and the admission counts every record not delivered.
func TestLogQueueShutdownDeadline(t *testing.T) {
	sink := &orderedSink{gate: newGate()} // never released
	q, adm := newTestLogQueue(t, sink, 4, 50, 2)
	for i := range 30 {
		emitBody(t, q, strconv.Itoa(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := q.Shutdown(ctx); err == nil {
		t.Error("Shutdown with a stuck exporter returned no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with a 100ms deadline", d)
	}
	adm.close()
	lost := func() (n int64) {
		for i := range adm.drops.counts {
			n += adm.drops.counts[i].Load()
		}
		return n
	}
	// An export the deadline ended counts as failed, the rest as lost at
	// shutdown.
	if got := lost(); got != 30 {
		t.Errorf("%d records counted lost, want 30", got)
	}
	// After Shutdown, records go nowhere and are counted as lost.
	emitBody(t, q, "late")
	if got := lost(); got != 31 {
		t.Errorf("after a late record, %d counted lost, want 31", got)
	}
}

// TestSetupDoesNotPreallocateTheLogQueue: the default queue of 20,480
// records costs memory only when a burst fills it. Before the spill list,
// Setup allocated the whole queue (about 12 MB).
func TestSetupDoesNotPreallocateTheLogQueue(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(io.Discard),
		WithLogExporter(&orderedSink{gate: newGate()}), WithSpanExporter(newGate()),
		WithMetricReader(sdkmetric.NewManualReader()), WithRuntimeMetrics(false), WithErrorOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = tel.Shutdown(ctx)
	}()
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("Setup allocated %d bytes, want under 4 MiB", n)
	}
}

// TestQueueLargerThanRingThroughSetup: a queue of 3,000 records, larger
// than the SDK ring, with the exporter stuck: records past the ring wait,
// what does not fit is counted, and everything else arrives.
func TestQueueLargerThanRingThroughSetup(t *testing.T) {
	t.Setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "3000")
	t.Setenv("OTELKIT_DROP_REPORT_INTERVAL", "1h")
	g := newGate()
	reader := sdkmetric.NewManualReader()
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}), WithErrorOutput(io.Discard),
		WithLogExporter(g), WithTracesExporter("none"), WithMetricReader(reader), WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	log := tel.Logger("app")
	for i := range n {
		log.Info("record", "i", i)
	}
	dropped := droppedTotal(t, reader, "log records")
	if dropped == 0 || dropped > n-3000+1 {
		t.Errorf("dropped %d of %d with a queue of 3000", dropped, n)
	}
	g.release()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.received.Load() + dropped; got != n+1 { // + the start-up record
		t.Errorf("delivered %d + dropped %d = %d, want %d", g.received.Load(), dropped, got, n+1)
	}
}

// stallSink holds its first export until first is closed, then takes it;
// later exports wait while stall is set, until their context ends.
type stallSink struct {
	first   chan struct{}
	stall   atomic.Bool
	exports atomic.Int64
	got     atomic.Int64
}

func (s *stallSink) Export(ctx context.Context, rs []sdklog.Record) error {
	if s.exports.Add(1) == 1 {
		select {
		case <-s.first:
			s.got.Add(int64(len(rs)))
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for s.stall.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	s.got.Add(int64(len(rs)))
	return nil
}

func (s *stallSink) Shutdown(context.Context) error   { return nil }
func (s *stallSink) ForceFlush(context.Context) error { return nil }

// TestForceFlushDeadlineLosesNothing: a ForceFlush whose deadline passes
// in the middle of exporting the queue in batches must not lose the
// batches it had not reached, nor leave them counted in the queue's
// bounds. (The SDK processor takes the whole queue out first and stops
// between batches when the flush's context ends.)
func TestForceFlushDeadlineLosesNothing(t *testing.T) {
	sink := &stallSink{first: make(chan struct{})}
	sink.stall.Store(true)
	q, adm := newTestLogQueue(t, sink, 8, 100, 2)
	emitBody(t, q, "0")
	emitBody(t, q, "1") // a batch: the first export takes it and waits
	for deadline := time.Now().Add(5 * time.Second); adm.exporting.Load() != 2; {
		if time.Now().After(deadline) {
			t.Fatal("the first export did not start")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 2; i < 10; i++ {
		emitBody(t, q, strconv.Itoa(i)) // the ring's 8 records: 4 batches
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	flushed := make(chan error, 1)
	go func() { flushed <- q.ForceFlush(ctx) }()
	time.Sleep(20 * time.Millisecond) // the flush request waits for the worker
	close(sink.first)                 // the worker takes it: its first batch stalls past the deadline
	if err := <-flushed; err == nil {
		t.Fatal("ForceFlush returned no error at its deadline")
	}
	sink.stall.Store(false)
	if err := q.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); sink.got.Load() < 10 || adm.inflight.Load() != 0 || q.inRing.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of 10; %d still counted queued, %d in the ring; drops %v",
				sink.got.Load(), adm.inflight.Load(), q.inRing.Load(), adm.drops.counts[reasonIndex(reasonExportFailed)].Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
