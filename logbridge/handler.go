package logbridge

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"go.opentelemetry.io/contrib/bridges/otelslog"
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
	sinks []sink
	ops   []op // WithAttrs/WithGroup calls, replayed when a logger is renamed
}

type core struct {
	levels  *Levels
	configs []sinkConfig
	outputs []*output // per sink; nil for OTLP
}

type sink struct {
	h     slog.Handler
	level slog.Leveler // nil: no own filter
}

type op struct {
	group string
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler configured by opts. With no sink options it
// writes JSON to os.Stdout.
func NewHandler(opts ...Option) *Handler {
	cfg := newConfig(opts)
	c := &core{levels: cfg.table}
	if c.levels == nil {
		c.levels = NewLevels(cfg.level)
	}
	for name, l := range cfg.levels {
		c.levels.Set(name, l)
	}
	sinks := cfg.sinks
	if len(sinks) == 0 && !cfg.noConsole {
		sinks = []sinkConfig{{kind: sinkWriter, name: "console", w: os.Stdout, format: FormatJSON}}
	}
	c.configs = sinks
	for _, s := range sinks {
		var o *output
		if s.kind == sinkWriter {
			o = &output{w: s.w, format: s.format, color: s.color, source: cfg.source}
		}
		c.outputs = append(c.outputs, o)
	}
	return c.handler("")
}

// handler builds the root handler for a logger name.
func (c *core) handler(name string) *Handler {
	h := &Handler{core: c, name: name, level: &loggerLevel{table: c.levels, name: name}}
	h.sinks = make([]sink, len(c.configs))
	for i, s := range c.configs {
		var sh slog.Handler
		switch s.kind {
		case sinkOTLP:
			scope := name
			if scope == "" {
				scope = "github.com/otelkit/otelkit"
			}
			sh = otelslog.NewHandler(scope, otelslog.WithLoggerProvider(s.provider))
		default:
			sh = &writerHandler{out: c.outputs[i], name: name}
		}
		h.sinks[i] = sink{h: sh, level: s.level}
	}
	return h
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

// Levels returns the level table the handler filters by; changes to it
// reach every logger of the handler.
func (h *Handler) Levels() *Levels { return h.core.levels }

// Enabled reports whether a record at level l would reach any sink.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	if l < h.level.Level() {
		return false
	}
	for _, s := range h.sinks {
		if s.level == nil || l >= s.level.Level() {
			return true
		}
	}
	return false
}

// Handle sends r to every sink whose level it meets. Errors of the sinks
// are joined; a failing sink never stops the others.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var errs []error
	for _, s := range h.sinks {
		if s.level != nil && r.Level < s.level.Level() {
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
func safeHandle(h slog.Handler, ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("logbridge: sink panicked while handling a record")
		}
	}()
	return h.Handle(ctx, r)
}

// WithAttrs returns a handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.apply(op{attrs: append([]slog.Attr(nil), attrs...)})
}

// WithGroup returns a handler whose later attributes sit in the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.apply(op{group: name})
}

func (h *Handler) apply(o op) *Handler {
	h2 := &Handler{core: h.core, name: h.name, level: h.level}
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

// Close closes the files the handler writes to. Records handled after
// Close are written to files reopened on demand, so call it last.
func (h *Handler) Close() error {
	var errs []error
	for _, s := range h.core.configs {
		if s.closer != nil {
			errs = append(errs, s.closer.Close())
		}
	}
	return errors.Join(errs...)
}
