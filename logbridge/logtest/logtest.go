package logtest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelkit/otelkit/logbridge"
)

// Entry is one recorded record.
type Entry struct {
	Time    time.Time
	Level   string // DEBUG, INFO, WARN, ERROR, CRITICAL
	Logger  string
	Message string
	TraceID string
	SpanID  string
	// Attrs holds the other fields as the JSON sink wrote them; groups are
	// nested maps.
	Attrs map[string]any
}

// Recorder captures records. It is safe for concurrent use.
type Recorder struct {
	t       testing.TB
	handler *logbridge.Handler
	mu      sync.Mutex
	buf     bytes.Buffer
}

// New returns a Recorder whose handler records every level (DEBUG and up)
// unless opts say otherwise. The handler is closed in t.Cleanup.
func New(t testing.TB, opts ...logbridge.Option) *Recorder {
	t.Helper()
	r := &Recorder{t: t}
	base := []logbridge.Option{logbridge.WithLevel(slog.LevelDebug), logbridge.WithWriter("logtest", writerFunc(r.write))}
	r.handler = logbridge.NewHandler(append(base, opts...)...)
	t.Cleanup(func() { _ = r.handler.Close() })
	return r
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (r *Recorder) write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// Handler returns the recording handler.
func (r *Recorder) Handler() *logbridge.Handler { return r.handler }

// Logger returns a logger that records; with a name, a named logger.
func (r *Recorder) Logger(name ...string) *slog.Logger {
	if len(name) > 0 {
		return r.handler.Logger(name[0])
	}
	return slog.New(r.handler)
}

// Output returns the raw bytes written so far, one JSON line per record:
// the place to check that a secret never appears.
func (r *Recorder) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// Entries returns the records so far, in order.
func (r *Recorder) Entries() []Entry {
	r.t.Helper()
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(r.Output()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			r.t.Fatalf("logtest: line %q is not JSON: %v", line, err)
		}
		e := Entry{Attrs: m}
		e.Level, _ = take(m, "level").(string)
		e.Logger, _ = take(m, "logger").(string)
		e.Message, _ = take(m, "msg").(string)
		e.TraceID, _ = take(m, "trace_id").(string)
		e.SpanID, _ = take(m, "span_id").(string)
		if ts, ok := take(m, "time").(string); ok {
			e.Time, _ = time.Parse(time.RFC3339Nano, ts)
		}
		out = append(out, e)
	}
	return out
}

func take(m map[string]any, k string) any {
	v := m[k]
	delete(m, k)
	return v
}

// Has reports whether a record at level with exactly the message msg was
// logged.
func (r *Recorder) Has(level slog.Level, msg string) bool {
	r.t.Helper()
	name := logbridge.LevelName(level)
	for _, e := range r.Entries() {
		if e.Level == name && e.Message == msg {
			return true
		}
	}
	return false
}

// Reset forgets everything recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Reset()
}
