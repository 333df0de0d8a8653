package logbridge

import (
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/log"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Option configures a [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	level     slog.Leveler
	levels    map[string]slog.Level
	table     *Levels
	source    bool
	sinks     []sinkConfig
	noConsole bool
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
}

func newConfig(opts []Option) config {
	var c config
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

// WithConsole writes records to w (os.Stdout when nil) in format f. Colour is
// used only when w is a terminal and NO_COLOR is unset. Without this option
// and without [WithoutConsole], the handler writes JSON to os.Stdout.
func WithConsole(w io.Writer, f Format, minLevel slog.Leveler) Option {
	return optionFunc(func(c *config) {
		if w == nil {
			w = os.Stdout
		}
		c.sinks = append(c.sinks, sinkConfig{kind: sinkWriter, name: "console", w: w, format: f, color: f == FormatText && isTerminal(w), level: minLevel})
	})
}

// WithoutConsole turns off the default console sink.
func WithoutConsole() Option {
	return optionFunc(func(c *config) { c.noConsole = true })
}

// FileOptions configures a rotating file sink. Zero values mean: rotate at
// 100 MB, keep every backup, delete none by age, do not compress.
type FileOptions struct {
	MaxSizeMB  int  // size at which the file is rotated
	MaxBackups int  // rotated files kept (0 keeps all)
	MaxAgeDays int  // days rotated files are kept (0 keeps them)
	Compress   bool // gzip rotated files
}

// WithFile writes records to the file at path in format f, rotated as opts
// says. minLevel filters the sink (nil lets every enabled record through);
// an error file is WithFile(path, f, slog.LevelError, opts).
func WithFile(path string, f Format, minLevel slog.Leveler, opts FileOptions) Option {
	return optionFunc(func(c *config) {
		lj := &lumberjack.Logger{
			Filename:   path,
			MaxSize:    opts.MaxSizeMB,
			MaxBackups: opts.MaxBackups,
			MaxAge:     opts.MaxAgeDays,
			Compress:   opts.Compress,
		}
		c.sinks = append(c.sinks, sinkConfig{kind: sinkWriter, name: "file:" + path, w: lj, closer: lj, format: f, level: minLevel})
	})
}

// WithOTLP sends records to the OpenTelemetry LoggerProvider lp through the
// otelslog bridge; each named logger is its own instrumentation scope.
// Register a [Processor] on lp so CRITICAL is named and context fields
// are exported. minLevel filters the sink (nil lets every enabled record through).
func WithOTLP(lp log.LoggerProvider, minLevel slog.Leveler) Option {
	return optionFunc(func(c *config) {
		c.sinks = append(c.sinks, sinkConfig{kind: sinkOTLP, name: "otlp", provider: lp, level: minLevel})
	})
}
