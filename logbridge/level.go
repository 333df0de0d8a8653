package logbridge

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelkit/otelkit/sampling"
	otellog "go.opentelemetry.io/otel/log"
)

// LevelCritical is the level above [slog.LevelError] for records that need
// a human now. It prints as CRITICAL on every sink and maps to the
// OpenTelemetry severity FATAL with the severity text "CRITICAL".
const LevelCritical = slog.Level(12)

// LevelName returns the name otelkit prints for l: DEBUG, INFO, WARN, ERROR
// or CRITICAL, with an offset for levels in between (for example "INFO+2").
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return offsetName("CRITICAL", l-LevelCritical)
	case l >= slog.LevelError:
		return offsetName("ERROR", l-slog.LevelError)
	case l >= slog.LevelWarn:
		return offsetName("WARN", l-slog.LevelWarn)
	case l >= slog.LevelInfo:
		return offsetName("INFO", l-slog.LevelInfo)
	default:
		return offsetName("DEBUG", l-slog.LevelDebug)
	}
}

func offsetName(base string, off slog.Level) string {
	if off == 0 {
		return base
	}
	return base + strconv.FormatInt(int64(off), 10)
}

// ParseLevel parses a level name as LOG_LEVEL takes it: debug, info, warn
// (or warning), error, critical (or fatal), case-insensitive, optionally with
// an offset such as "info+2", or a plain slog level number.
func ParseLevel(s string) (slog.Level, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(name); err == nil {
		return slog.Level(n), nil
	}
	base, off := name, 0
	if i := strings.IndexAny(name, "+-"); i > 0 {
		n, err := strconv.Atoi(name[i:])
		if err != nil {
			return 0, fmt.Errorf("logbridge: invalid level %q", s)
		}
		base, off = name[:i], n
	}
	var l slog.Level
	switch base {
	case "DEBUG":
		l = slog.LevelDebug
	case "INFO":
		l = slog.LevelInfo
	case "WARN", "WARNING":
		l = slog.LevelWarn
	case "ERROR":
		l = slog.LevelError
	case "CRITICAL", "FATAL":
		l = LevelCritical
	default:
		return 0, fmt.Errorf("logbridge: invalid level %q (want debug, info, warn, error or critical)", s)
	}
	return l + slog.Level(off), nil
}

// Severity returns the OpenTelemetry severity for a slog level: DEBUG is 5,
// INFO 9, WARN 13, ERROR 17 and CRITICAL 21 (FATAL), as otelslog maps them.
func Severity(l slog.Level) otellog.Severity {
	const offset = slog.Level(otellog.SeverityDebug) - slog.LevelDebug
	s := l + offset
	switch {
	case s < slog.Level(otellog.SeverityTrace1):
		return otellog.SeverityTrace1
	case s > slog.Level(otellog.SeverityFatal4):
		return otellog.SeverityFatal4
	}
	return otellog.Severity(s)
}

// Levels holds the log levels by logger name: a logger named "app.db"
// takes the level set for "app.db", else for "app", else the default level
// (the name ""), as Python's logging hierarchy does. Levels may be read and
// changed concurrently; a change reaches loggers already created. Levels
// implements sampling.LevelStore, so the admin handler of package sampling
// can read and change them at run time.
type Levels struct {
	def *slog.LevelVar

	mu  sync.RWMutex
	m   map[string]*slog.LevelVar
	gen atomic.Uint64
}

// NewLevels returns a table whose loggers default to def (nil means INFO).
// If def is a *slog.LevelVar, the table uses it, so changes made to it
// reach every logger; otherwise the table starts from def's level.
func NewLevels(def slog.Leveler) *Levels {
	v, ok := def.(*slog.LevelVar)
	if !ok {
		v = new(slog.LevelVar)
		if def != nil {
			v.Set(def.Level())
		}
	}
	return &Levels{def: v, m: make(map[string]*slog.LevelVar)}
}

// Set sets the level of the logger name and of its descendants that have
// no level of their own; the name "" sets the default level.
func (t *Levels) Set(name string, l slog.Level) error {
	if name == "" {
		t.def.Set(l)
		return nil
	}
	t.mu.Lock()
	v, ok := t.m[name]
	if !ok {
		v = new(slog.LevelVar)
		t.m[name] = v
	}
	v.Set(l)
	t.mu.Unlock()
	t.gen.Add(1)
	return nil
}

// Delete removes the level of name, so it inherits again. The default
// level ("") cannot be deleted.
func (t *Levels) Delete(name string) error {
	if name == "" {
		return fmt.Errorf("logbridge: the default level cannot be deleted")
	}
	t.mu.Lock()
	delete(t.m, name)
	t.mu.Unlock()
	t.gen.Add(1)
	return nil
}

// Get returns the level set for name itself and whether there is one; ""
// always has one, the default.
func (t *Levels) Get(name string) (slog.Level, bool) {
	if name == "" {
		return t.def.Level(), true
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if v, ok := t.m[name]; ok {
		return v.Level(), true
	}
	return 0, false
}

// List returns a copy of every level set, the default under "".
func (t *Levels) List() map[string]slog.Level {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(map[string]slog.Level, len(t.m)+1)
	for k, v := range t.m {
		out[k] = v.Level()
	}
	out[""] = t.def.Level()
	return out
}

// Default returns the level variable of loggers with no level of their own.
func (t *Levels) Default() *slog.LevelVar { return t.def }

// Effective returns the level in force for the logger name.
func (t *Levels) Effective(name string) slog.Level {
	return t.leveler(name).Level()
}

// leveler finds the nearest configured ancestor of name.
func (t *Levels) leveler(name string) *slog.LevelVar {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for n := name; n != ""; {
		if v, ok := t.m[n]; ok {
			return v
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return t.def
}

// levelCache remembers which leveler a named logger resolved to, until the
// table changes.
type levelCache struct {
	gen     uint64
	leveler *slog.LevelVar // concrete, so Level inlines
}

// loggerLevel is the per-handler view of the table: a lock-free lookup on
// the hot path, re-resolved only after Set or Unset.
type loggerLevel struct {
	table *Levels
	name  string
	cache atomic.Pointer[levelCache]
}

func (l *loggerLevel) Level() slog.Level {
	gen := l.table.gen.Load()
	if c := l.cache.Load(); c != nil && c.gen == gen {
		return c.leveler.Level()
	}
	c := &levelCache{gen: gen, leveler: l.table.leveler(l.name)}
	l.cache.Store(c)
	return c.leveler.Level()
}

// ParseLevels parses LOG_LEVELS: comma-separated name=level pairs, such as
// "deps=debug,http=warn".
func ParseLevels(s string) (map[string]slog.Level, error) {
	out := make(map[string]slog.Level)
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, lvl, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("logbridge: invalid logger level %q (want name=level)", part)
		}
		l, err := ParseLevel(lvl)
		if err != nil {
			return nil, err
		}
		out[name] = l
	}
	return out, nil
}

var _ sampling.LevelStore = (*Levels)(nil)
