package logbridge

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/otelkit/otelkit/internal/escape"
	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/trace"
)

// output is a destination with a shared lock: clones of a writerHandler write
// through the same output, one Write call per record.
type output struct {
	mu     sync.Mutex
	w      io.Writer
	format Format
	color  bool
	source bool
	async  *asyncWriter   // nil: write on the caller's goroutine
	syslog *syslogWriter  // non-nil: prefix each line with a syslog header
	redact *redact.Policy // applied to context fields; nil: none
	health *sinkHealth
	rep    *reporter
}

func (o *output) write(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := o.w.Write(b)
	return err
}

// emit writes or queues one formatted line and takes ownership of bp.
// Trouble is counted and reported, never returned: a failing sink must not
// fail the caller or the other sinks.
func (o *output) emit(bp *[]byte) {
	if o.async != nil {
		if !o.async.enqueue(bp) {
			o.rep.drop(o.health)
		}
		return
	}
	if err := o.write(*bp); err != nil {
		o.rep.fail(o.health, err)
	}
	putBuf(bp)
}

// WriterUnwrapper is implemented by a writer that writes everything it is
// given to one other writer, adding something on the way (a lock, a
// count): Unwrap returns that writer. [WithConsole] looks through such
// writers, to a depth of 16, to find whether the output is a terminal, so
// a terminal behind a lock still gets colour. A writer that changes the
// bytes or sends them elsewhere as well must not implement it.
type WriterUnwrapper interface {
	io.Writer
	Unwrap() io.Writer
}

// isCharDevice reports whether f is a character device; a variable so
// tests can stand in a terminal.
var isCharDevice = func(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isTerminal reports whether w, or the writer it wraps (see
// [WriterUnwrapper]), is a character device and NO_COLOR is unset.
func isTerminal(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	for range 16 {
		switch v := w.(type) {
		case *os.File:
			return v != nil && isCharDevice(v)
		case WriterUnwrapper:
			w = v.Unwrap()
		default:
			return false
		}
	}
	return false
}

// writerHandler formats records as JSON or text lines. It is the slog.Handler
// behind the console and file sinks. It writes the logger name, the trace and
// span IDs of the context's span and the context's fields on every record.
type writerHandler struct {
	out  *output
	name string

	pre         []byte   // preformatted WithAttrs attributes (with opened groups, JSON)
	groups      []string // all groups
	nOpenGroups int      // groups already opened in pre (JSON)
	prefix      string   // dotted group prefix (text)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *writerHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *writerHandler) clone() *writerHandler {
	h2 := *h
	h2.pre = append([]byte(nil), h.pre...)
	h2.groups = append([]string(nil), h.groups...)
	return &h2
}

func (h *writerHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if countAttrs(attrs) == 0 {
		return h
	}
	h2 := h.clone()
	if h.out.format == FormatText {
		for _, a := range attrs {
			h2.pre = appendTextAttr(h2.pre, h2.prefix, a, 0)
		}
		return h2
	}
	h2.pre = h2.openGroups(h2.pre)
	first := len(h2.pre) == 0 || h2.pre[len(h2.pre)-1] == '{'
	for _, a := range attrs {
		h2.pre, first = appendJSONAttr(h2.pre, a, first, 0)
	}
	return h2
}

func (h *writerHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.groups = append(h2.groups, name)
	h2.prefix += name + "."
	return h2
}

// openGroups appends the groups not yet opened in pre.
func (h *writerHandler) openGroups(b []byte) []byte {
	for _, g := range h.groups[h.nOpenGroups:] {
		if len(b) > 0 && b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendJSONString(b, g)
		b = append(b, ':', '{')
	}
	h.nOpenGroups = len(h.groups)
	return b
}

func countAttrs(attrs []slog.Attr) int {
	n := 0
	for _, a := range attrs {
		if !isEmptyAttr(a) {
			n++
		}
	}
	return n
}

func (h *writerHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if h.out.syslog != nil {
		b = h.out.syslog.appendHeader(b, r)
	}
	if h.out.format == FormatText {
		*bp = h.appendText(b, ctx, r)
	} else {
		*bp = h.appendJSON(b, ctx, r)
	}
	h.out.emit(bp)
	return nil
}

func putBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		bufPool.Put(bp)
	}
}

func (h *writerHandler) appendJSON(b []byte, ctx context.Context, r slog.Record) []byte {
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":"`...)
		b = appendTime(b, r.Time, 6)
		b = append(b, `",`...)
	}
	b = append(b, `"level":"`...)
	b = append(b, LevelName(r.Level)...)
	b = append(b, '"')
	if h.name != "" {
		b = append(b, `,"logger":`...)
		b = appendJSONString(b, h.name)
	}
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, r.Message)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		b = appendIDs(b, sc, `,"trace_id":"`, `","span_id":"`)
		b = append(b, '"')
	}
	if h.out.source && r.PC != 0 {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, source(r.PC))
	}
	for _, a := range redactedFieldsFrom(ctx, h.out.redact) {
		b, _ = appendJSONAttr(b, fieldAttr(a, h.out.redact), false, 0)
	}
	opened := h.nOpenGroups
	if len(h.pre) > 0 {
		b = append(b, ',')
		b = append(b, h.pre...)
	}
	if r.NumAttrs() > 0 {
		// Open the remaining groups only when the record has attributes, so
		// an empty group is never printed.
		mark, markOpened := len(b), opened
		for _, g := range h.groups[opened:] {
			if b[len(b)-1] != '{' {
				b = append(b, ',')
			}
			b = appendJSONString(b, g)
			b = append(b, ':', '{')
			opened++
		}
		n := 0
		r.Attrs(func(a slog.Attr) bool {
			was := len(b)
			b, _ = appendJSONAttr(b, a, b[len(b)-1] == '{', 0)
			if len(b) != was {
				n++
			}
			return true
		})
		if n == 0 {
			b, opened = b[:mark], markOpened
		}
	}
	for range opened {
		b = append(b, '}')
	}
	return append(b, '}', '\n')
}

func (h *writerHandler) appendText(b []byte, ctx context.Context, r slog.Record) []byte {
	if !r.Time.IsZero() {
		b = appendTime(b, r.Time, 3)
		b = append(b, ' ')
	}
	if h.out.color {
		b = append(b, levelColor(r.Level)...)
		b = append(b, LevelName(r.Level)...)
		b = append(b, "\x1b[0m"...)
	} else {
		b = append(b, LevelName(r.Level)...)
	}
	if h.name != "" {
		b = append(b, ' ')
		b = appendTextString(b, h.name)
	}
	b = append(b, ' ')
	b = escape.AppendTextMessage(b, r.Message)
	b = append(b, h.pre...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendTextAttr(b, h.prefix, a, 0)
		return true
	})
	for _, a := range redactedFieldsFrom(ctx, h.out.redact) {
		b = appendTextAttr(b, "", fieldAttr(a, h.out.redact), 0)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		b = appendIDs(b, sc, " trace_id=", " span_id=")
	}
	if h.out.source && r.PC != 0 {
		b = append(b, " source="...)
		b = appendTextString(b, source(r.PC))
	}
	return append(b, '\n')
}

func appendIDs(b []byte, sc trace.SpanContext, traceKey, spanKey string) []byte {
	tid, sid := sc.TraceID(), sc.SpanID()
	b = append(b, traceKey...)
	b = appendHex(b, tid[:])
	b = append(b, spanKey...)
	return appendHex(b, sid[:])
}

func appendHex(b []byte, id []byte) []byte {
	for _, c := range id {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// source returns "dir/file.go:line" for a program counter.
func source(pc uintptr) string {
	fs := runtime.CallersFrames([]uintptr{pc})
	f, _ := fs.Next()
	if f.File == "" {
		return ""
	}
	dir, file := filepath.Split(f.File)
	return filepath.Join(filepath.Base(dir), file) + ":" + strconv.Itoa(f.Line)
}

func levelColor(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "\x1b[1;35m"
	case l >= slog.LevelError:
		return "\x1b[31m"
	case l >= slog.LevelWarn:
		return "\x1b[33m"
	case l >= slog.LevelInfo:
		return "\x1b[32m"
	}
	return "\x1b[36m"
}
