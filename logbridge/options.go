package logbridge

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/otelkit/otelkit/redact"
	"github.com/otelkit/otelkit/sampling"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
)

// Option configures a [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	level          slog.Leveler
	levels         map[string]slog.Level
	table          *Levels
	source         bool
	stackLevel     slog.Level
	stacks         bool
	sinks          []sinkConfig
	noConsole      bool
	isolated       []string
	meterProvider  metric.MeterProvider
	stderr         io.Writer
	reportInterval time.Duration
	sampling       *sampling.Policy
	redact         *redact.Policy
	noRedact       bool
}

type sinkKind int

const (
	sinkWriter sinkKind = iota
	sinkOTLP
)

type sinkConfig struct {
	kind     sinkKind
	name     string
	w        io.Writer
	closer   io.Closer
	format   Format
	color    bool
	level    slog.Leveler
	provider log.LoggerProvider
	// uniqueProvider, if set, skips the SDK's duplicate-key check; the
	// OTLP sink uses it only for records it has checked itself.
	uniqueProvider log.LoggerProvider
	async          int      // queue size; 0 writes on the caller's goroutine
	loggers        []string // only these loggers (and descendants); empty: all
	syslog         *syslogWriter
}

func newConfig(opts []Option) config {
	c := config{stderr: os.Stderr, reportInterval: 10 * time.Second}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	return c
}

// WithLevel sets the level of loggers that have no level of their own.
// Pass a *slog.LevelVar to change it at run time. The default is INFO.
func WithLevel(l slog.Leveler) Option {
	return optionFunc(func(c *config) { c.level = l })
}

// WithLoggerLevels sets levels per logger name; a name's level applies to
// its dotted descendants unless they have their own ("app" covers "app.db").
func WithLoggerLevels(levels map[string]slog.Level) Option {
	return optionFunc(func(c *config) {
		if c.levels == nil {
			c.levels = make(map[string]slog.Level, len(levels))
		}
		for k, v := range levels {
			c.levels[k] = v
		}
	})
}

// WithLevels makes the handler use t for its logger levels, so a caller
// (an admin endpoint, a test) can change them at run time. It overrides
// [WithLevel]; [WithLoggerLevels] entries are set in t.
func WithLevels(t *Levels) Option {
	return optionFunc(func(c *config) { c.table = t })
}

// WithSource adds the source file and line of the logging call to the
// console and file sinks.
func WithSource(on bool) Option {
	return optionFunc(func(c *config) { c.source = on })
}

// WithStackTraces adds a stack trace (attribute "stack") to every record
// at or above level, on every sink. [Exception] adds one regardless.
func WithStackTraces(level slog.Level) Option {
	return optionFunc(func(c *config) { c.stacks, c.stackLevel = true, level })
}

// WithMeterProvider sets where the handler's own metrics go:
// otelkit.log.records{severity,logger} and otelkit.log.dropped{sink}. The
// default is the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithErrorOutput sets where the handler reports its own trouble (records
// dropped by a full queue, a sink that fails): os.Stderr by default, at most
// once per interval per sink.
func WithErrorOutput(w io.Writer, interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if w != nil {
			c.stderr = w
		}
		if interval > 0 {
			c.reportInterval = interval
		}
	})
}

// WithIsolatedLoggers keeps the records of these loggers (and their
// descendants) out of the sinks that do not name them with [SinkLoggers],
// as propagate=False does in Python's logging: an "audit" logger can
// write to its own file only.
func WithIsolatedLoggers(names ...string) Option {
	return optionFunc(func(c *config) { c.isolated = append(c.isolated, names...) })
}

// WithSampling lets the sampling policy p turn on records below a logger's
// level for one request: forced debug from a trusted caller, ratio
// sampling by trace ID, and tail buffers (see package sampling). Records
// turned on this way carry sampled_by; httpmw must use the same policy.
func WithSampling(p *sampling.Policy) Option {
	return optionFunc(func(c *config) { c.sampling = p })
}

// WithRedaction sets the redaction policy applied to every record before
// any sink sees it: message, attributes, WithAttrs attributes and context
// fields. Without this option the handler uses redact.New(), the default
// policy; redaction is on unless [WithoutRedaction].
func WithRedaction(p *redact.Policy) Option {
	return optionFunc(func(c *config) { c.redact, c.noRedact = p, false })
}

// WithoutRedaction turns redaction off, for sinks that must see records as
// logged (tests of the redaction itself, say).
func WithoutRedaction() Option {
	return optionFunc(func(c *config) { c.redact, c.noRedact = nil, true })
}

// SinkUniqueKeys gives the OTLP sink a second LoggerProvider, built like
// the first (same resource, the same processors) plus
// sdklog.WithAllowKeyDuplication(). The sink sends it the records it has
// checked to have unique attribute keys (no key twice among the record's
// attributes, the logger's WithAttrs attributes and the context fields,
// and no groups), which is most records, and sends the rest through the
// first provider, whose SDK removes duplicates. The SDK's per-record
// duplicate check is about a third of a record's cost. otelsetup.Setup
// does this.
//
// Records of plain values take a direct path on this provider (see
// docs/ARCHITECTURE.md): when the provider runs [Processor], the sink hands
// the attributes past the fifth to it, to add in one call. So, as for
// Processor in general, register Processor before the provider's exporting
// processors; a provider without Processor gets whole records.
func SinkUniqueKeys(lp log.LoggerProvider) SinkOption {
	return sinkOptionFunc(func(s *sinkConfig) { s.uniqueProvider = lp })
}

// SinkOption configures one sink.
type SinkOption interface{ applySink(*sinkConfig) }

type sinkOptionFunc func(*sinkConfig)

func (f sinkOptionFunc) applySink(s *sinkConfig) { f(s) }

// SinkFormat sets the format of a console or file sink (JSON by default).
func SinkFormat(f Format) SinkOption {
	return sinkOptionFunc(func(s *sinkConfig) { s.format = f })
}

// SinkLevel makes a sink take only records at or above l, after the
// logger's own level has let them through (an error file, say).
func SinkLevel(l slog.Leveler) SinkOption {
	return sinkOptionFunc(func(s *sinkConfig) { s.level = l })
}

// SinkAsync writes through a queue of size records on a goroutine of the
// sink's own, so the caller never waits for the disk or terminal. When the
// queue is full (size records, or 64 MiB of them) the record is dropped
// and counted, never blocking.
// [Handler.Close] drains the queue; [Handler.CloseContext] drains it until
// its context ends and counts what is left as dropped (reason "shutdown").
// A size of 0 or less leaves the sink's default: synchronous for console,
// file and writer sinks, a queue of 4,096 records for syslog.
func SinkAsync(size int) SinkOption {
	return sinkOptionFunc(func(s *sinkConfig) {
		if size > 0 {
			s.async = size
		}
	})
}

// SinkLoggers routes only the records of these loggers (and their
// descendants) to the sink.
func SinkLoggers(names ...string) SinkOption {
	return sinkOptionFunc(func(s *sinkConfig) { s.loggers = append(s.loggers, names...) })
}

func newSink(kind sinkKind, name string, opts []SinkOption) sinkConfig {
	s := sinkConfig{kind: kind, name: name}
	for _, o := range opts {
		if o != nil {
			o.applySink(&s)
		}
	}
	return s
}

// WithConsole writes records to w (os.Stdout when nil). Colour is used only
// in the text format when w is a terminal, or wraps one (see
// [WriterUnwrapper]), and NO_COLOR is unset. Without
// any sink option and without [WithoutConsole], the handler writes JSON to
// os.Stdout.
func WithConsole(w io.Writer, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		if w == nil {
			w = os.Stdout
		}
		s := newSink(sinkWriter, "console", opts)
		s.w = w
		s.color = s.format == FormatText && isTerminal(w)
		c.sinks = append(c.sinks, s)
	})
}

// WithoutConsole turns off the default console sink.
func WithoutConsole() Option {
	return optionFunc(func(c *config) { c.noConsole = true })
}

// WithWriter writes records to any io.Writer, named name in metrics and
// error reports. If w is an io.Closer, [Handler.Close] closes it.
func WithWriter(name string, w io.Writer, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		s := newSink(sinkWriter, name, opts)
		s.w = w
		if cl, ok := w.(io.Closer); ok {
			s.closer = cl
		}
		c.sinks = append(c.sinks, s)
	})
}

// WithOTLP sends records to the OpenTelemetry LoggerProvider lp through the
// otelslog bridge; each named logger is its own instrumentation scope.
// Register a [Processor] on lp so CRITICAL is named and context fields
// are exported.
func WithOTLP(lp log.LoggerProvider, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		s := newSink(sinkOTLP, "otlp", opts)
		s.provider = lp
		c.sinks = append(c.sinks, s)
	})
}
