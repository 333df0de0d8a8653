package logbridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// SyslogOptions configures a syslog sink.
type SyslogOptions struct {
	// Network is "unix" or "unixgram" (a local socket such as /dev/log),
	// "udp" or "tcp".
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

// WithSyslog sends records to a syslog receiver as RFC 5424 messages whose
// MSG is the record formatted as the sink's format says (JSON by default).
// Over TCP, messages are framed by octet counting (RFC 6587); over UDP and
// unix datagram sockets, one message is one datagram. A broken connection
// is dialled again at the next record; write failures are counted and
// reported like any sink's. The connection is made lazily.
func WithSyslog(so SyslogOptions, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		s := newSink(sinkWriter, "syslog:"+so.Network+":"+so.Address, opts)
		w := newSyslogWriter(so)
		s.w, s.closer = w, w
		s.syslog = w
		c.sinks = append(c.sinks, s)
	})
}

type syslogWriter struct {
	network, address string
	facility         int
	app, host        string
	pid              string

	mu   sync.Mutex
	conn net.Conn
}

func newSyslogWriter(so SyslogOptions) *syslogWriter {
	w := &syslogWriter{network: so.Network, address: so.Address, facility: so.Facility, app: so.AppName, host: so.Hostname, pid: strconv.Itoa(os.Getpid())}
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

// Write sends one formatted message (header included, no trailing newline).
func (w *syslogWriter) Write(p []byte) (int, error) {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if w.conn == nil {
			if w.conn, err = net.DialTimeout(w.network, w.address, 5*time.Second); err != nil {
				w.conn = nil
				return 0, fmt.Errorf("syslog: %w", err)
			}
		}
		_ = w.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if w.network == "tcp" {
			frame := strconv.AppendInt(make([]byte, 0, len(p)+8), int64(len(p)), 10)
			frame = append(append(frame, ' '), p...)
			_, err = w.conn.Write(frame)
		} else {
			_, err = w.conn.Write(p)
		}
		if err == nil {
			return len(p), nil
		}
		w.conn.Close()
		w.conn = nil
	}
	return 0, fmt.Errorf("syslog: %w", err)
}

func (w *syslogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn = nil
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
