package logbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SyslogOptions configures a syslog sink.
type SyslogOptions struct {
	// Network is "unix" or "unixgram" (a local socket such as /dev/log),
	// "udp" or "tcp". A "unix" socket found to be a datagram socket
	// (dialling it as a stream fails with EPROTOTYPE, as systemd's
	// /dev/log does) is used as "unixgram": one message a datagram.
	Network string
	// Address is the socket path or host:port.
	Address string
	// Facility is the RFC 5424 facility number; 0 means 1 (user-level).
	// Use 16–23 for local0–local7.
	Facility int
	// AppName is APP-NAME; the executable's name by default.
	AppName string
	// Hostname is HOSTNAME; os.Hostname() by default.
	Hostname string
}

// syslogQueue is the queue size of a syslog sink given no [SinkAsync]:
// records, formatted on the caller's goroutine, wait there for the sink's
// writer goroutine.
const syslogQueue = 4096

// WithSyslog sends records to a syslog receiver as RFC 5424 messages whose
// MSG is the record formatted as the sink's format says (JSON by default).
// Over TCP, messages are framed by octet counting (RFC 6587); over a unix
// stream socket, each ends with a newline (the escaped MSG holds none);
// over UDP and unix datagram sockets, one message is one datagram.
//
// A syslog sink is always asynchronous: the caller formats the record and
// queues it without waiting (a full queue drops it, counted in
// otelkit.log.dropped{reason="queue_full"} and reported), and a goroutine
// of the sink's own writes it. So a receiver that stops reading costs
// dropped records, never a blocked log call: the call costs formatting
// and a non-blocking enqueue, microseconds. The queue holds 4,096 records
// unless [SinkAsync] sets another size, and at most 64 MiB.
//
// The connection is made at the first record. A connection found broken
// (its write failed, or a stream receiver closed its end) is closed and
// dialled again at the next record, no sooner than a backoff that starts
// at 50 ms after each dial and doubles with each failed dial up to 5 s;
// records that meet no connection in the meantime are dropped, counted
// (reason "write_failed") and reported. A message is written in one Write
// and never sent twice: a write that sent nothing is tried once more on a
// new connection, while a write that sent part of a stream message and
// then failed has torn that stream, so the connection is closed and the
// message counted lost. The writer blocks while a stream receiver does not
// read; [Handler.Close] waits for the queue to drain as long as that
// takes, while [Handler.CloseContext] closes the connection when its
// context ends, which ends that Write. TCP has no acknowledgement:
// messages the kernel took just before the receiver closed its end can be
// lost uncounted.
func WithSyslog(so SyslogOptions, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		s := newSink(sinkWriter, "syslog:"+so.Network+":"+so.Address, opts)
		if s.async == 0 {
			s.async = syslogQueue
		}
		w := newSyslogWriter(so)
		s.w, s.closer = w, w
		s.syslog = w
		c.sinks = append(c.sinks, s)
	})
}

const (
	syslogDialTimeout = 5 * time.Second
	syslogMinBackoff  = 50 * time.Millisecond
	syslogMaxBackoff  = 5 * time.Second
)

var errSyslogClosed = errors.New("syslog: sink closed")

// syslogWriter writes messages to one connection. Write is called by one
// goroutine at a time (the sink's writer, under output.mu); Close may run
// at any time, also during a Write, which it makes return.
type syslogWriter struct {
	network, address string
	stream           bool // tcp, unix: messages share a byte stream
	facility         int
	app, host        string
	pid              string

	ctx    context.Context // cancelled by Close, so a dial under way ends
	cancel context.CancelFunc
	dials  atomic.Int64 // dial attempts, for tests

	mu     sync.Mutex // guards conn and closed; never held across I/O
	conn   *syslogConn
	closed bool

	// Used by Write only.
	frame    []byte
	backoff  time.Duration
	nextDial time.Time
	lastErr  error // why there is no connection
}

// syslogConn is one connection; over a stream, a goroutine reads it so a
// receiver that closes its end is noticed before the next write.
type syslogConn struct {
	net.Conn
	done chan struct{} // closed when the reader ends (nil: no reader)
}

func (c *syslogConn) watch() {
	defer close(c.done)
	buf := make([]byte, 256)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// broken reports whether the receiver closed its end (or the read failed).
func (c *syslogConn) broken() bool {
	if c.done == nil {
		return false
	}
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *syslogConn) close() error {
	err := c.Close()
	if c.done != nil {
		<-c.done
	}
	return err
}

func newSyslogWriter(so SyslogOptions) *syslogWriter {
	w := &syslogWriter{network: so.Network, address: so.Address, facility: so.Facility, app: so.AppName, host: so.Hostname, pid: strconv.Itoa(os.Getpid())}
	w.stream = so.Network == "tcp" || so.Network == "tcp4" || so.Network == "tcp6" || so.Network == "unix"
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if w.facility <= 0 || w.facility > 23 {
		w.facility = 1
	}
	if w.app == "" {
		if exe, err := os.Executable(); err == nil {
			w.app = filepath.Base(exe)
		} else {
			w.app = "-"
		}
	}
	if w.host == "" {
		w.host, _ = os.Hostname()
	}
	w.app, w.host = syslogField(w.app, 48), syslogField(w.host, 255)
	return w
}

// syslogField makes s a valid header field: printable US-ASCII without
// spaces, at most n characters, "-" when empty.
func syslogField(s string, n int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// syslogSeverity maps a slog level to an RFC 5424 severity.
func syslogSeverity(l slog.Level) int {
	switch {
	case l >= LevelCritical:
		return 2
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	}
	return 7
}

// appendHeader appends "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD ".
func (w *syslogWriter) appendHeader(b []byte, r slog.Record) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(w.facility*8+syslogSeverity(r.Level)), 10)
	b = append(b, ">1 "...)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, ' ')
	b = append(b, w.host...)
	b = append(b, ' ')
	b = append(b, w.app...)
	b = append(b, ' ')
	b = append(b, w.pid...)
	return append(b, " - - "...)
}

// Write sends one formatted message (header included, trailing newline
// dropped) in one write on the current connection, dialling one if needed.
// See [WithSyslog] for when a message is tried again and when it is lost.
func (w *syslogWriter) Write(p []byte) (int, error) {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	for attempt := 0; ; attempt++ {
		c, err := w.connect()
		if err != nil {
			return 0, err
		}
		// Framed once connected: a "unix" sink may have found a datagram
		// socket.
		frame := w.appendFrame(w.frame[:0], p)
		if cap(frame) <= 64<<10 {
			w.frame = frame
		}
		n, err := c.Write(frame)
		if err == nil {
			w.backoff = 0
			return len(p), nil
		}
		w.drop(c)
		w.lastErr = err
		switch {
		case w.isClosed():
			return 0, errSyslogClosed
		case n > 0:
			return 0, fmt.Errorf("syslog: message torn after %d of %d bytes, connection closed: %w", n, len(frame), err)
		case attempt > 0:
			return 0, fmt.Errorf("syslog: %w", err)
		}
		// Nothing was sent: once more, on a new connection.
	}
}

func (w *syslogWriter) appendFrame(b, p []byte) []byte {
	switch w.network {
	case "unix":
		return append(append(b, p...), '\n')
	case "tcp", "tcp4", "tcp6":
		b = strconv.AppendInt(b, int64(len(p)), 10)
		return append(append(b, ' '), p...)
	}
	return append(b, p...)
}

// connect returns the current connection, or dials one when there is none
// (or the receiver closed it) and the backoff allows.
func (w *syslogWriter) connect() (*syslogConn, error) {
	w.mu.Lock()
	c, closed := w.conn, w.closed
	w.mu.Unlock()
	if closed {
		return nil, errSyslogClosed
	}
	if c != nil {
		if !c.broken() {
			return c, nil
		}
		w.drop(c)
		w.lastErr = errors.New("the receiver closed the connection")
	}
	now := time.Now()
	if now.Before(w.nextDial) {
		return nil, fmt.Errorf("syslog: not connected, next dial in %v; last error: %w", w.nextDial.Sub(now).Round(time.Millisecond), w.lastErr)
	}
	w.dials.Add(1)
	d := net.Dialer{Timeout: syslogDialTimeout}
	nc, err := d.DialContext(w.ctx, w.network, w.address)
	if err != nil && w.network == "unix" && errors.Is(err, syscall.EPROTOTYPE) {
		// A datagram socket (systemd's /dev/log is one): use it as one
		// from now on, as log/syslog does.
		if gc, gerr := d.DialContext(w.ctx, "unixgram", w.address); gerr == nil {
			nc, err = gc, nil
			w.network, w.stream = "unixgram", false
		}
	}
	switch {
	case err != nil:
		w.backoff = min(max(2*w.backoff, syslogMinBackoff), syslogMaxBackoff)
	case w.backoff == 0:
		w.backoff = syslogMinBackoff
	}
	w.nextDial = now.Add(w.backoff)
	if err != nil {
		w.lastErr = err
		return nil, fmt.Errorf("syslog: %w", err)
	}
	c = &syslogConn{Conn: nc}
	if w.stream {
		c.done = make(chan struct{})
		go c.watch()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		_ = c.close()
		return nil, errSyslogClosed
	}
	w.conn = c
	w.mu.Unlock()
	return c, nil
}

// drop closes c and forgets it if it is the current connection.
func (w *syslogWriter) drop(c *syslogConn) {
	w.mu.Lock()
	if w.conn == c {
		w.conn = nil
	}
	w.mu.Unlock()
	_ = c.close()
}

func (w *syslogWriter) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// Close closes the connection, ending a Write or dial under way; later
// writes fail.
func (w *syslogWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	c := w.conn
	w.conn = nil
	w.mu.Unlock()
	w.cancel()
	if c == nil {
		return nil
	}
	if err := c.close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// closeUnblocksWrite marks syslogWriter as an [unblockingCloser].
func (w *syslogWriter) closeUnblocksWrite() {}
