package sampling

import (
	"errors"
	"log/slog"
	"maps"
	"sync"
)

// LevelStore is the set of run-time log levels the admin handler reads and
// sets: the global level under the name "" and per-logger levels under their
// logger names. logbridge implements it over its *slog.LevelVar values;
// [LevelVars] is a simple implementation. Implementations must be safe for
// concurrent use.
type LevelStore interface {
	// Get returns the level of the named logger and whether it has one of
	// its own ("" always has one).
	Get(name string) (slog.Level, bool)
	// Set sets the level of the named logger, creating a per-logger level if
	// needed.
	Set(name string, level slog.Level) error
	// Delete removes a per-logger level, so the logger follows the global
	// level again. Deleting "" is an error.
	Delete(name string) error
	// List returns every level, the global one under "".
	List() map[string]slog.Level
}

// ErrGlobalLevel is returned by [LevelVars.Delete] for the global level.
var ErrGlobalLevel = errors.New("sampling: the global level cannot be deleted")

// LevelVars is a [LevelStore] of *slog.LevelVar values, one per name, the
// global level under "". The zero value is ready to use, with a global level
// of INFO. It is safe for concurrent use.
type LevelVars struct {
	mu   sync.Mutex
	vars map[string]*slog.LevelVar
}

var _ LevelStore = (*LevelVars)(nil)

// Var returns the level variable for name, creating it with the global
// level if it does not exist. Pass it as the slog.Leveler of a handler so
// that Set changes take effect at once.
func (v *LevelVars) Var(name string) *slog.LevelVar {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.varLocked(name)
}

func (v *LevelVars) varLocked(name string) *slog.LevelVar {
	if v.vars == nil {
		v.vars = map[string]*slog.LevelVar{"": new(slog.LevelVar)}
	}
	lv, ok := v.vars[name]
	if !ok {
		lv = new(slog.LevelVar)
		lv.Set(v.vars[""].Level())
		v.vars[name] = lv
	}
	return lv
}

// Get implements [LevelStore].
func (v *LevelVars) Get(name string) (slog.Level, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if lv, ok := v.vars[name]; ok {
		return lv.Level(), true
	}
	if name == "" {
		return slog.LevelInfo, true
	}
	return 0, false
}

// Set implements [LevelStore].
func (v *LevelVars) Set(name string, level slog.Level) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.varLocked(name).Set(level)
	return nil
}

// Delete implements [LevelStore]. A handler still holding the deleted
// variable keeps its last level.
func (v *LevelVars) Delete(name string) error {
	if name == "" {
		return ErrGlobalLevel
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.vars, name)
	return nil
}

// List implements [LevelStore].
func (v *LevelVars) List() map[string]slog.Level {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string]slog.Level{"": slog.LevelInfo}
	for name, lv := range maps.All(v.vars) {
		out[name] = lv.Level()
	}
	return out
}
