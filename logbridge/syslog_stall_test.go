package logbridge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The bounds a log call into a syslog sink is held to in tests. The
// documented cost is formatting plus a non-blocking enqueue, a few
// microseconds (BenchmarkSyslogStalledReceiver), and the target is under
// 1 ms. The slowest of many calls also holds the time its goroutine spent
// preempted: with 4 goroutines on 2 cores, 80,000 calls writing to
// io.Discard on the caller's goroutine see a slowest call of 50-100 ms,
// up to 280 ms under -race. So the slowest call is held to a bound that
// only a blocked call can break (the writer used to block each caller for
// its 5 s write deadline; a call preempted under -race on a machine with
// a load average of 7 was seen to take 2.2 s), and the 99th percentile to
// one generous enough for -race on a loaded machine.
const (
	logCallBound    = 3 * time.Second
	logCallP99Bound = 5 * time.Millisecond
)

// rfc5424 matches a message as the syslog sink writes it: PRI, version,
// timestamp, hostname, app-name, procid, no msgid, no structured data.
var rfc5424 = regexp.MustCompile(`^<([0-9]{1,3})>1 ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z) ([!-~]{1,255}) ([!-~]{1,48}) ([0-9]+) - - (.*)$`)

// checkMessage checks one message strictly and returns its "seq" field.
func checkMessage(msg string) (int, error) {
	m := rfc5424.FindStringSubmatch(msg)
	if m == nil {
		return 0, fmt.Errorf("not an RFC 5424 message: %.200q", msg)
	}
	if _, err := time.Parse(time.RFC3339Nano, m[2]); err != nil {
		return 0, fmt.Errorf("timestamp %q: %v", m[2], err)
	}
	var rec struct {
		Seq *int `json:"seq"`
	}
	if err := json.Unmarshal([]byte(m[6]), &rec); err != nil || rec.Seq == nil {
		return 0, fmt.Errorf("body %.200q: not a JSON record with seq (%v)", m[6], err)
	}
	return *rec.Seq, nil
}

// readOctetCounted reads RFC 6587 octet-counted frames until EOF, strictly:
// a length without leading zeros, one space, exactly that many bytes. A
// stream that ends inside a frame is an error (a torn frame).
func readOctetCounted(r io.Reader, each func(string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		lenText, err := br.ReadString(' ')
		if err == io.EOF && lenText == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("torn frame: stream ended in a length (%q): %v", lenText, err)
		}
		digits := strings.TrimSuffix(lenText, " ")
		n, convErr := strconv.Atoi(digits)
		if convErr != nil || n <= 0 || digits[0] == '0' || len(digits) > 6 {
			return fmt.Errorf("bad frame length %q", lenText)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return fmt.Errorf("torn frame: %d of %d bytes: %v", len(b), n, err)
		}
		if err := each(string(b)); err != nil {
			return err
		}
	}
}

// readLineFrames reads newline-framed messages (the unix stream framing) until
// EOF; a last message without its newline is a torn frame.
func readLineFrames(r io.Reader, each func(string) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("torn frame: %d bytes without their newline: %v", len(line), err)
		}
		if err := each(strings.TrimSuffix(line, "\n")); err != nil {
			return err
		}
	}
}

// seqSet collects sequence numbers and refuses a duplicate.
type seqSet struct {
	mu   sync.Mutex
	seen map[int]bool
}

func (s *seqSet) add(msg string) error {
	seq, err := checkMessage(msg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[int]bool{}
	}
	if s.seen[seq] {
		return fmt.Errorf("seq %d received twice", seq)
	}
	s.seen[seq] = true
	return nil
}

func (s *seqSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// logConcurrently logs total records (seq 0..total-1, each padded to about
// 400 bytes) from workers goroutines and returns every call's duration.
func logConcurrently(log *slog.Logger, workers, total int) []time.Duration {
	pad := strings.Repeat("p", 300)
	per := total / workers
	durs := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			d := make([]time.Duration, 0, per)
			for i := range per {
				start := time.Now()
				log.Info("record", "seq", g*per+i, "pad", pad)
				d = append(d, time.Since(start))
			}
			durs[g] = d
		})
	}
	wg.Wait()
	all := slices.Concat(durs...)
	slices.Sort(all)
	return all
}

// sinkLosses is what the sink counted as not delivered: dropped at a full
// queue, failed writes, and records still queued at a bounded close.
func sinkLosses(h *Handler) int64 {
	hl := h.core.sinks[0].health
	return hl.dropped.Load() + hl.failed.Load() + hl.lost.Load()
}

// TestSyslogStalledReceiverNeverBlocksLogCalls is the acceptance test of a
// stalled stream receiver: it accepts and stops reading while 4 goroutines
// log 80,000 records. No log call waits past the bound, the overflow is
// counted and reported, and once the receiver reads again every frame of
// the stream is whole, well-formed RFC 5424 and not a duplicate, and
// delivered + counted == logged.
func TestSyslogStalledReceiverNeverBlocksLogCalls(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "s.sock")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			resume := make(chan struct{})
			var got seqSet
			recvErr := make(chan error, 1)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					recvErr <- err
					return
				}
				defer conn.Close()
				<-resume // stalled: accepted, not read
				_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
				read := readOctetCounted
				if network == "unix" {
					read = readLineFrames
				}
				recvErr <- read(conn, got.add)
			}()

			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer mp.Shutdown(context.Background())
			var stderr syncBuffer
			h := NewHandler(WithoutConsole(), WithMeterProvider(mp), WithErrorOutput(&stderr, time.Hour),
				WithSyslog(SyslogOptions{Network: network, Address: ln.Addr().String(), AppName: "orders", Hostname: "host-1"}))
			const total = 80_000
			durs := logConcurrently(slog.New(h), 4, total)
			maxD, p99 := durs[len(durs)-1], durs[len(durs)*99/100]
			t.Logf("%s: %d log calls into a stalled receiver: max %v, p99 %v, p50 %v", network, len(durs), maxD, p99, durs[len(durs)/2])
			if maxD > logCallBound || p99 > logCallP99Bound {
				t.Errorf("slowest log call took %v (bound %v), p99 %v (bound %v)", maxD, logCallBound, p99, logCallP99Bound)
			}
			queueFull := sinkDropped(t, reader, "syslog:"+network+":"+ln.Addr().String())
			if queueFull == 0 {
				t.Error("nothing dropped: the receiver never stalled the writer")
			}

			close(resume)
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-recvErr; err != nil {
				t.Fatalf("receiver: %v", err)
			}
			delivered, counted := int64(got.len()), sinkLosses(h)
			t.Logf("%s: delivered %d, counted lost %d (queue full %d)", network, delivered, counted, queueFull)
			if delivered+counted != total {
				t.Errorf("delivered %d + counted %d = %d, want %d", delivered, counted, delivered+counted, total)
			}
			if !strings.Contains(string(stderr.Bytes()), "records (queue full") {
				t.Errorf("drops not reported: %q", stderr.Bytes())
			}
		})
	}
}

// TestSyslogStalledDatagramReceiver: a unix datagram receiver that does not
// read fills its socket queue, where the kernel blocks the sender; log
// calls still return at once, and the overflow is counted.
func TestSyslogStalledDatagramReceiver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Skip("unixgram sockets unavailable:", err)
	}
	defer pc.Close()
	h := NewHandler(WithoutConsole(), WithErrorOutput(&syncBuffer{}, time.Hour),
		WithSyslog(SyslogOptions{Network: "unixgram", Address: path}, SinkAsync(256)))
	const total = 20_000
	durs := logConcurrently(slog.New(h), 4, total)
	if maxD, p99 := durs[len(durs)-1], durs[len(durs)*99/100]; maxD > logCallBound || p99 > logCallP99Bound {
		t.Errorf("slowest log call took %v (bound %v), p99 %v (bound %v)", maxD, logCallBound, p99, logCallP99Bound)
	}
	// Read what arrived while Close drains; the receiver keeps reading
	// until it has been quiet for a while.
	var got seqSet
	recvErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			_ = pc.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					recvErr <- nil
				} else {
					recvErr <- err
				}
				return
			}
			if err := got.add(string(buf[:n])); err != nil {
				recvErr <- err
				return
			}
		}
	}()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-recvErr; err != nil {
		t.Fatal(err)
	}
	delivered, counted := int64(got.len()), sinkLosses(h)
	if delivered+counted != total || counted == 0 {
		t.Errorf("delivered %d + counted %d, want %d with some counted", delivered, counted, total)
	}
}

// stalledReceiver listens on 127.0.0.1 and accepts one connection that it
// never reads; listener and connection are closed at Cleanup.
func stalledReceiver(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	tb.Cleanup(func() {
		ln.Close()
		if c := <-accepted; c != nil {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestSyslogCloseContextBoundedWhenReceiverStalls: a writer blocked on a
// receiver that never reads again is ended by CloseContext's deadline,
// which closes the connection; the loss is counted and returned.
func TestSyslogCloseContextBoundedWhenReceiverStalls(t *testing.T) {
	h := NewHandler(WithoutConsole(), WithErrorOutput(&syncBuffer{}, time.Hour),
		WithSyslog(SyslogOptions{Network: "tcp", Address: stalledReceiver(t)}))
	logConcurrently(slog.New(h), 2, 40_000) // 16 MB: more than the socket buffers hold
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := h.CloseContext(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("CloseContext took %v with a 100ms deadline", d)
	}
	if err == nil || !strings.Contains(err.Error(), "queued records lost") {
		t.Errorf("CloseContext error = %v, want the queued records reported lost", err)
	}
	select {
	case <-h.core.sinks[0].out.async.done:
	default:
		t.Error("the sink's writer goroutine still runs after CloseContext")
	}
}

// TestSyslogReceiverClosesMidStream: a receiver that closes its connection
// gets the next records on a new connection. Closed between records, it
// loses none (the writer notices the close before writing); closed while
// records flow, what the kernel had taken is lost, but no frame on either
// connection is torn or duplicated.
func TestSyslogReceiverClosesMidStream(t *testing.T) {
	type conn struct {
		seqs seqSet
		err  error
	}
	// serve accepts two connections: the first is read for first frames
	// and closed, the second until EOF.
	serve := func(ln net.Listener, first int, firstClosed chan<- struct{}) <-chan [2]*conn {
		out := make(chan [2]*conn, 1)
		go func() {
			var res [2]*conn
			for i := range res {
				res[i] = &conn{}
				c, err := ln.Accept()
				if err != nil {
					res[i].err = err
					break
				}
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				n := 0
				errStop := errors.New("stop")
				res[i].err = readOctetCounted(c, func(msg string) error {
					if err := res[i].seqs.add(msg); err != nil {
						return err
					}
					if n++; i == 0 && n == first {
						return errStop
					}
					return nil
				})
				if res[i].err == errStop {
					res[i].err = nil
				}
				c.Close()
				if i == 0 {
					close(firstClosed)
				}
			}
			out <- res
		}()
		return out
	}
	// start listens, serves and returns a handler logging to the receiver.
	start := func(t *testing.T, first int) (*Handler, *slog.Logger, <-chan struct{}, <-chan [2]*conn) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		firstClosed := make(chan struct{})
		done := serve(ln, first, firstClosed)
		h := NewHandler(WithoutConsole(), WithErrorOutput(&syncBuffer{}, time.Hour),
			WithSyslog(SyslogOptions{Network: "tcp", Address: ln.Addr().String()}))
		return h, slog.New(h), firstClosed, done
	}
	check := func(t *testing.T, res [2]*conn) (int, int) {
		t.Helper()
		for i, c := range res {
			if c.err != nil {
				t.Errorf("connection %d: %v", i+1, c.err)
			}
		}
		for seq := range res[0].seqs.seen {
			if res[1].seqs.seen[seq] {
				t.Errorf("seq %d arrived on both connections", seq)
			}
		}
		return res[0].seqs.len(), res[1].seqs.len()
	}

	t.Run("between records", func(t *testing.T) {
		h, log, firstClosed, done := start(t, 500)
		for i := range 500 {
			log.Info("record", "seq", i)
		}
		<-firstClosed
		// The close reaches the writer's reader goroutine; the dial's
		// backoff (50 ms) passes.
		w := h.core.sinks[0].cfg.syslog
		waitFor(t, func() bool {
			w.mu.Lock()
			c := w.conn
			w.mu.Unlock()
			return c == nil || c.broken()
		})
		time.Sleep(100 * time.Millisecond)
		for i := 500; i < 1000; i++ {
			log.Info("record", "seq", i)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		n1, n2 := check(t, <-done)
		if n1 != 500 || n2 != 500 || sinkLosses(h) != 0 {
			t.Errorf("first connection %d, second %d, counted lost %d; want 500, 500, 0", n1, n2, sinkLosses(h))
		}
		if d := h.core.sinks[0].cfg.syslog.dials.Load(); d != 2 {
			t.Errorf("%d dials, want 2", d)
		}
	})

	t.Run("while records flow", func(t *testing.T) {
		h, log, firstClosed, done := start(t, 2000)
		const total = 20_000
		after := 0
		for i := range total {
			log.Info("record", "seq", i)
			select {
			case <-firstClosed:
				after++
			default:
			}
			if i%500 == 0 {
				time.Sleep(time.Millisecond) // let the writer keep up
			}
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		n1, n2 := check(t, <-done)
		lost := sinkLosses(h)
		t.Logf("first connection %d, second %d, counted lost %d, uncounted %d; %d logged after the close", n1, n2, lost, total-n1-n2-int(lost), after)
		if n1 != 2000 || n2 == 0 || int64(n1+n2)+lost > total {
			t.Errorf("first connection %d (want 2000), second %d (want > 0), counted lost %d: more than logged or nothing after the close", n1, n2, lost)
		}
		if d := h.core.sinks[0].cfg.syslog.dials.Load(); d > 5 {
			t.Errorf("%d dials for one receiver close", d)
		}
	})
}

// TestSyslogRefusedReceiverBacksOff: a receiver that refuses connections
// is dialled with backoff, not once per record, and every record is
// counted and reported as failed.
func TestSyslogRefusedReceiverBacksOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	var stderr syncBuffer
	h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, 200*time.Millisecond),
		WithSyslog(SyslogOptions{Network: "tcp", Address: addr}))
	const total = 200
	start := time.Now()
	for i := range total {
		slog.New(h).Info("record", "seq", i)
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	dials := h.core.sinks[0].cfg.syslog.dials.Load()
	// Backoff 50 ms, doubling to 5 s: about log2(elapsed/50ms)+1 dials.
	t.Logf("%d dials in %v for %d records", dials, elapsed, total)
	if dials < 2 || dials > 10 {
		t.Errorf("%d dials in %v, want a handful (backoff)", dials, elapsed)
	}
	if failed := h.core.sinks[0].health.failed.Load(); failed != total {
		t.Errorf("failed = %d, want %d", failed, total)
	}
	if out := string(stderr.Bytes()); !strings.Contains(out, "failed to write") || !strings.Contains(out, "refused") {
		t.Errorf("no report of the refused receiver: %q", out)
	}
}

// BenchmarkSyslogStalledReceiver measures a log call into a syslog sink
// whose TCP receiver accepted and never reads: after the socket buffers
// and the queue fill, every call formats, finds the queue full, counts the
// drop and returns.
func BenchmarkSyslogStalledReceiver(b *testing.B) {
	h := NewHandler(WithoutConsole(), WithErrorOutput(io.Discard, time.Hour),
		WithSyslog(SyslogOptions{Network: "tcp", Address: stalledReceiver(b)}))
	log := slog.New(h)
	pad := strings.Repeat("p", 300)
	for i := range 100_000 { // fill the socket buffers and the queue
		log.Info("record", "seq", i, "pad", pad)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		log.Info("record", "seq", i, "pad", pad)
	}
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = h.CloseContext(ctx)
}

// TestSyslogQueueBoundedInBytes: large records into a stalled receiver are
// held to the byte bound of the queue, not to its 4,096 records.
func TestSyslogQueueBoundedInBytes(t *testing.T) {
	h := NewHandler(WithoutConsole(), WithoutRedaction(), WithErrorOutput(&syncBuffer{}, time.Hour),
		WithSyslog(SyslogOptions{Network: "tcp", Address: stalledReceiver(t)}))
	big := strings.Repeat("b", 1<<20)
	peak := int64(0)
	a := h.core.sinks[0].out.async
	for i := range 200 {
		slog.New(h).Info("big", "seq", i, "v", big)
		peak = max(peak, a.bytes.Load())
	}
	t.Logf("peak %d dropped %d", peak, h.core.sinks[0].health.dropped.Load())
	if peak > maxQueuedBytes {
		t.Errorf("queued bytes reached %d, bound %d", peak, maxQueuedBytes)
	}
	if d := h.core.sinks[0].health.dropped.Load(); d == 0 {
		t.Error("200 MiB into a stalled receiver and nothing dropped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = h.CloseContext(ctx)
}
