package logbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/otelkit/otelkit/internal/wire"
	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
)

// Handler is the otelkit slog.Handler: it filters records by the level of
// their logger and of each sink, and fans each record out to the console,
// files and OpenTelemetry. Every record carries the trace and span IDs of
// the span in its context on every sink.
//
// A Handler is safe for concurrent use. WithAttrs, WithGroup and
// [Handler.Logger] return new handlers and never modify the receiver; clones
// share one lock per output, so lines never interleave.
type Handler struct {
	core  *core
	name  string
	level *loggerLevel
	sinks []sink // the sinks this logger's records go to
	ops   []op   // WithAttrs/WithGroup calls, replayed when a logger is renamed
	count *levelCounts
}

type core struct {
	levels   *Levels
	sinks    []*sinkState
	isolated []string
	stacks   bool
	stackMin slog.Level
	rep      *reporter
	metrics  *handlerMetrics
	sampling *sampling.Policy
	redact   *redact.Policy // nil: no redaction

	closeOnce sync.Once
	closeErr  error
}

// sinkState is what all clones of a handler share about one sink.
type sinkState struct {
	cfg    sinkConfig
	out    *output // nil for OTLP
	health *sinkHealth
}

type sink struct {
	h     slog.Handler
	state *sinkState
}

type op struct {
	group string
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler configured by opts. With no sink options it
// writes JSON to os.Stdout. Call [Handler.Close] at exit to drain
// asynchronous sinks and close files.
func NewHandler(opts ...Option) *Handler {
	cfg := newConfig(opts)
	c := &core{levels: cfg.table, isolated: cfg.isolated, stacks: cfg.stacks, stackMin: cfg.stackLevel, sampling: cfg.sampling,
		rep: &reporter{w: cfg.stderr, interval: cfg.reportInterval}}
	if c.levels == nil {
		c.levels = NewLevels(cfg.level)
	}
	if !cfg.noRedact {
		c.redact = cfg.redact
		if c.redact == nil {
			c.redact = defaultRedaction()
		}
	}
	for name, l := range cfg.levels {
		_ = c.levels.Set(name, l)
	}
	sinks := cfg.sinks
	if len(sinks) == 0 && !cfg.noConsole {
		sinks = []sinkConfig{{kind: sinkWriter, name: "console", w: os.Stdout}}
	}
	for _, s := range sinks {
		st := &sinkState{cfg: s, health: &sinkHealth{name: s.name}}
		if s.kind == sinkWriter {
			st.out = &output{w: s.w, format: s.format, color: s.color, source: cfg.source, health: st.health, rep: c.rep, syslog: s.syslog, redact: c.redact}
			if s.async > 0 {
				st.out.async = newAsyncWriter(st.out, s.async, func(err error) { c.rep.fail(st.health, err) })
			}
		}
		c.sinks = append(c.sinks, st)
	}
	c.metrics = newHandlerMetrics(cfg.meterProvider, c.sinks)
	return c.handler("")
}

// handler builds the root handler for a logger name.
func (c *core) handler(name string) *Handler {
	h := &Handler{core: c, name: name, level: &loggerLevel{table: c.levels, name: name}, count: c.metrics.counts(name)}
	isolated := matchesAny(name, c.isolated)
	for _, st := range c.sinks {
		if len(st.cfg.loggers) > 0 {
			if !matchesAny(name, st.cfg.loggers) {
				continue
			}
		} else if isolated {
			continue
		}
		var sh slog.Handler
		switch st.cfg.kind {
		case sinkOTLP:
			// The logger name is the instrumentation scope: valid UTF-8
			// on the wire, as OTLP requires.
			scope, _ := wire.String(name)
			if scope == "" {
				scope = "github.com/otelkit/otelkit"
			}
			sh = newOTLPSink(scope, st.cfg.provider, st.cfg.uniqueProvider, c.redact)
		default:
			sh = &writerHandler{out: st.out, name: name}
		}
		h.sinks = append(h.sinks, sink{h: sh, state: st})
	}
	return h
}

// matchesAny reports whether the logger name is one of names or a dotted
// descendant of one.
func matchesAny(name string, names []string) bool {
	for _, n := range names {
		if name == n || strings.HasPrefix(name, n) && len(name) > len(n) && name[len(n)] == '.' {
			return true
		}
	}
	return false
}

// Logger returns a logger named name: the name is the `logger` field on the
// console and in files, and the instrumentation scope in OpenTelemetry. Its
// level comes from the per-logger levels (see [WithLoggerLevels]). The
// attributes and groups of h are kept.
func (h *Handler) Logger(name string) *slog.Logger {
	return slog.New(h.Named(name))
}

// Named is [Handler.Logger] for callers that need the handler.
func (h *Handler) Named(name string) *Handler {
	h2 := h.core.handler(name)
	for _, o := range h.ops {
		h2 = h2.apply(o)
	}
	return h2
}

// Name returns the logger name of h ("" for the root).
func (h *Handler) Name() string { return h.name }

// Redaction returns the redaction policy of the handler, nil when
// redaction is off. Instrumentation that writes outside the handler (span
// attributes, URLs in HTTP middleware and dependency calls) uses it to
// redact as the logs do.
func (h *Handler) Redaction() *redact.Policy { return h.core.redact }

// Sampling returns the per-request sampling policy of the handler, if any.
func (h *Handler) Sampling() *sampling.Policy { return h.core.sampling }

// Levels returns the level table the handler filters by; changes to it
// reach every logger of the handler.
func (h *Handler) Levels() *Levels { return h.core.levels }

// Enabled reports whether a record at level l would reach any sink: it
// meets the logger's level, or the request in ctx wants it through
// per-request debug, ratio sampling or its tail buffer (see [WithSampling]).
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	sp := h.core.sampling
	if l < h.level.Level() {
		// Below the logger's level only a sampled request can want it.
		return sp != nil && sp.Wants(ctx, l) && h.sinkAccepts(l)
	}
	sp.ObserveLevel(ctx, l) // an ERROR record triggers the tail buffer
	return h.sinkAccepts(l)
}

func (h *Handler) sinkAccepts(l slog.Level) bool {
	for _, s := range h.sinks {
		if s.state.cfg.level == nil || l >= s.state.cfg.level.Level() {
			return true
		}
	}
	return false
}

// Handle sends r to every sink whose level it meets. A failing or
// panicking sink never stops the others; write failures are reported on
// the error output (see [WithErrorOutput]) rather than returned.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if p := h.core.redact; p != nil {
		// Once, before sampling and fan-out, so no sink and no tail buffer
		// ever holds a secret.
		r, _ = p.Record(r)
	}
	return h.handle(ctx, r)
}

// HandleRedacted writes r through h, as h.Handle does, for a record whose
// attributes and message the caller has made safe itself: values it
// redacted with the handler's policy (see [Handler.Redaction]) or that
// cannot carry secrets (constants, numbers, route templates). When h is a
// logbridge [Handler], it skips its own redaction pass over them (the
// context fields are redacted as usual); any other handler gets
// h.Handle. otelkit's HTTP middleware and dependency client use it for
// their request and call records, whose paths, URLs and error texts they
// redact as they build them. When in doubt, use Handle.
func HandleRedacted(ctx context.Context, h slog.Handler, r slog.Record) error {
	if lh, ok := h.(*Handler); ok {
		return lh.handle(ctx, r)
	}
	return h.Handle(ctx, r)
}

func (h *Handler) handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if r.Level < h.level.Level() {
		// Only per-request sampling lets such a record through.
		req := sampling.FromContext(ctx)
		switch {
		case req.Enabled(ctx, r.Level):
			r = r.Clone()
			r.AddAttrs(slog.String(sampling.SampledByKey, req.SampledBy(ctx)))
		case req.Holds(r.Level):
			req.Hold(ctx, r, emitter{h})
			return nil
		default:
			return nil
		}
	}
	return h.emit(ctx, &r)
}

// emitter is the handler past the level and sampling decisions: what a
// tail buffer flushes into.
type emitter struct{ h *Handler }

func (e emitter) Enabled(context.Context, slog.Level) bool { return true }
func (e emitter) Handle(ctx context.Context, r slog.Record) error {
	return e.h.emit(ctx, &r)
}
func (e emitter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return emitter{e.h.WithAttrs(attrs).(*Handler)}
}
func (e emitter) WithGroup(name string) slog.Handler {
	return emitter{e.h.WithGroup(name).(*Handler)}
}

// emit counts r and sends it to every sink whose own level it meets.
// It takes r by pointer: a Record is large, and each copy of one costs
// write barriers while the GC runs.
func (h *Handler) emit(ctx context.Context, r *slog.Record) error {
	h.count.add(ctx, r.Level)
	if h.core.stacks && r.Level >= h.core.stackMin && !hasStack(*r) {
		c := r.Clone()
		c.AddAttrs(slog.String(StackKey, stack(4)))
		r = &c
	}
	var errs []error
	for _, s := range h.sinks {
		if lv := s.state.cfg.level; lv != nil && r.Level < lv.Level() {
			continue
		}
		if err := safeHandle(s.h, ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// safeHandle keeps a panic in a sink (or in a user's LogValuer) from
// escaping into the caller.
func safeHandle(h slog.Handler, ctx context.Context, r *slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("logbridge: sink panicked while handling a record")
		}
	}()
	return h.Handle(ctx, *r)
}

// WithAttrs returns a handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if p := h.core.redact; p != nil {
		attrs, _ = p.Attrs(attrs)
	}
	return h.apply(op{attrs: append([]slog.Attr(nil), attrs...)})
}

// WithGroup returns a handler whose later attributes sit in the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	if p := h.core.redact; p != nil {
		name, _ = p.Key(name) // a group name that is itself a secret
	}
	return h.apply(op{group: name})
}

func (h *Handler) apply(o op) *Handler {
	h2 := &Handler{core: h.core, name: h.name, level: h.level, count: h.count}
	h2.ops = append(append(make([]op, 0, len(h.ops)+1), h.ops...), o)
	h2.sinks = make([]sink, len(h.sinks))
	for i, s := range h.sinks {
		if o.group != "" {
			s.h = s.h.WithGroup(o.group)
		} else {
			s.h = s.h.WithAttrs(o.attrs)
		}
		h2.sinks[i] = s
	}
	return h2
}

// Close drains the queues of asynchronous sinks, so nothing queued is
// lost, closes the files the handler writes to, and reports any sink
// trouble not yet reported. It waits as long as draining takes: it is
// [Handler.CloseContext] with a context that never ends; use CloseContext
// to bound it. It is safe to call more than once; records
// handled after Close are dropped by asynchronous sinks and fail on file
// sinks; both are counted and reported on the error output.
func (h *Handler) Close() error {
	return h.CloseContext(context.Background())
}

// closeSink closes a sink's writer. Records its Close still had to write
// and could not (a log file removed and not made again) are counted as
// failed writes, as they would have been had Write failed.
func (c *core) closeSink(st *sinkState, cl io.Closer) error {
	err := cl.Close()
	if ml, ok := errors.AsType[multiLoss](err); ok {
		st.health.failed.Add(ml.recordsLost())
		st.health.lastErr.Store(err.Error())
	}
	return err
}

// CloseContext is [Handler.Close] bounded by ctx. The asynchronous sinks
// drain in parallel; when ctx ends before one has written everything, the
// records still in its queue are dropped, counted in
// otelkit.log.dropped{reason="shutdown"} and reported on the error output,
// and the returned error says so. A Write already under way cannot be
// interrupted: the sink's goroutine ends when it returns (writing nothing
// more), and the sink's file is closed then; a syslog sink's connection is
// closed at once, which ends its Write. The first call
// decides the result; later calls, Close included, return it at once.
func (h *Handler) CloseContext(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c := h.core
	c.closeOnce.Do(func() {
		var errs []error
		// Stop every queue first so they all drain at once, within the
		// same bound.
		for _, st := range c.sinks {
			if st.out != nil && st.out.async != nil {
				st.out.async.stop()
			}
		}
		for _, st := range c.sinks {
			finished := true
			if st.out != nil && st.out.async != nil {
				before := st.health.lost.Load()
				if finished = st.out.async.wait(ctx); !finished || st.health.lost.Load() > before {
					errs = append(errs, fmt.Errorf("logbridge: sink %s: %d queued records lost, its writer did not finish: %w",
						st.cfg.name, st.health.lost.Load()-before, context.Cause(ctx)))
				}
			}
			if cl := st.cfg.closer; cl != nil {
				_, unblocks := cl.(unblockingCloser)
				switch {
				case finished:
					errs = append(errs, c.closeSink(st, cl))
				case unblocks:
					// Closing ends the blocked Write; the goroutine, finding
					// the queue abandoned, then ends at once.
					errs = append(errs, c.closeSink(st, cl))
					st.out.async.waitDone(time.Second)
				default:
					// Closing now would wait for the blocked Write (files
					// lock around it); close once the goroutine has ended.
					done := st.out.async.done
					go func() {
						<-done
						_ = c.closeSink(st, cl)
					}()
				}
			}
			c.rep.report(st.health)
		}
		errs = append(errs, c.metrics.close())
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}
