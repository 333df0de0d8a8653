package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// LevelCritical is the level logbridge names CRITICAL; the admin handler
// accepts and prints that name.
const LevelCritical = slog.Level(12)

// MaxLevelTimeout is the longest time limit the admin handler accepts for a
// temporary level.
const MaxLevelTimeout = 7 * 24 * time.Hour

// maxLoggerName bounds logger names accepted by the admin handler.
const maxLoggerName = 128

// Admin is an opt-in http.Handler that reads and sets run-time log levels in
// a [LevelStore]. Every request must pass the policy's trust check
// ([Policy.Trust]): a valid token in the debug header, or an allowed peer.
// Untrusted requests get 403 and are counted and reported like untrusted
// debug headers.
//
//	GET                              the levels, as JSON
//	PUT|POST ?level=debug            set the global level
//	PUT|POST ?logger=deps&level=warn set a logger's level
//	  &for=10m                       ... and restore the old level after 10m
//	DELETE ?logger=deps              remove a logger's own level
//
// Parameters are read from the URL query only. Every change is logged at
// INFO as a level_changed audit record. Admin is safe for concurrent use;
// call [Admin.Close] to cancel pending restores when done with it.
type Admin struct {
	policy *Policy
	store  LevelStore

	mu      sync.Mutex
	closed  bool
	gen     uint64
	pending map[string]*restore
}

// restore is a pending return to the level a logger had before a temporary
// change.
type restore struct {
	gen    uint64
	timer  *time.Timer
	old    slog.Level
	hadOwn bool
	at     time.Time
}

var _ http.Handler = (*Admin)(nil)

// Admin returns an admin handler for store, protected by the policy's trust
// check. A nil policy trusts nobody.
func (p *Policy) Admin(store LevelStore) *Admin {
	return &Admin{policy: p, store: store, pending: map[string]*restore{}}
}

// Close cancels pending restores; levels stay as they are. It is safe to
// call more than once and always returns nil.
func (a *Admin) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for name, rs := range a.pending {
		rs.timer.Stop()
		delete(a.pending, name)
	}
	return nil
}

// levelsView is the JSON shape of GET and of successful changes.
type levelsView struct {
	Global   string                 `json:"global"`
	Loggers  map[string]string      `json:"loggers"`
	Restores map[string]restoreView `json:"restores,omitempty"`
}

type restoreView struct {
	To string    `json:"to"`
	At time.Time `json:"at"`
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	d := a.policy.Trust(r)
	if !d.Trusted {
		if a.policy != nil {
			a.policy.reject(r.Context(), r, d)
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if a.store == nil {
		http.Error(w, "no level store", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	name := q.Get("logger")
	if !validLoggerName(name) {
		http.Error(w, "invalid logger name", http.StatusBadRequest)
		return
	}
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPut, http.MethodPost:
		err = a.set(r, d, name, q.Get("level"), q.Get("for"))
	case http.MethodDelete:
		err = a.delete(r, d, name)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		http.Error(w, bad.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, "level store error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.view())
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func (a *Admin) set(r *http.Request, d Decision, name, levelText, forText string) error {
	level, err := ParseLevel(levelText)
	if err != nil {
		return badRequest{"invalid level"}
	}
	var limit time.Duration
	if forText != "" {
		limit, err = time.ParseDuration(forText)
		if err != nil || limit <= 0 || limit > MaxLevelTimeout {
			return badRequest{fmt.Sprintf("invalid for: want a duration in (0, %v]", MaxLevelTimeout)}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old, hadOwn := a.store.Get(name)
	rs := a.pending[name]
	if rs != nil {
		// Keep the level from before the first temporary change.
		rs.timer.Stop()
		delete(a.pending, name)
		old, hadOwn = rs.old, rs.hadOwn
	}
	if err := a.store.Set(name, level); err != nil {
		return err
	}
	if limit > 0 && !a.closed {
		a.gen++
		gen := a.gen
		a.pending[name] = &restore{
			gen: gen, old: old, hadOwn: hadOwn, at: time.Now().Add(limit),
			timer: time.AfterFunc(limit, func() { a.restore(name, gen) }),
		}
	}
	a.audit(r, d, name, LevelString(level), limit)
	return nil
}

func (a *Admin) delete(r *http.Request, d Decision, name string) error {
	if name == "" {
		return badRequest{"the global level cannot be deleted"}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if rs := a.pending[name]; rs != nil {
		rs.timer.Stop()
		delete(a.pending, name)
	}
	if err := a.store.Delete(name); err != nil {
		return err
	}
	a.audit(r, d, name, "", 0)
	return nil
}

// restore runs when a time limit ends, unless a later change replaced it.
func (a *Admin) restore(name string, gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rs := a.pending[name]
	if a.closed || rs == nil || rs.gen != gen {
		return
	}
	delete(a.pending, name)
	var err error
	if rs.hadOwn {
		err = a.store.Set(name, rs.old)
	} else {
		err = a.store.Delete(name)
	}
	if a.policy != nil {
		a.policy.logger().LogAttrs(context.Background(), slog.LevelInfo, "log level restored",
			slog.String("event", "level_changed"),
			slog.String("logger", name),
			slog.String("level", restoredName(rs)),
			slog.Bool("restored", true),
			slog.Any("error", err),
		)
	}
}

func restoredName(rs *restore) string {
	if !rs.hadOwn {
		return ""
	}
	return LevelString(rs.old)
}

func (a *Admin) audit(r *http.Request, d Decision, name, level string, limit time.Duration) {
	if a.policy == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("event", "level_changed"),
		slog.String("logger", name),
		slog.String("level", level),
		slog.String("reason", d.Reason),
		slog.String("client_ip", addrString(d.Client)),
	}
	if limit > 0 {
		attrs = append(attrs, slog.Duration("for", limit))
	}
	a.policy.logger().LogAttrs(r.Context(), slog.LevelInfo, "log level changed", attrs...)
}

func (a *Admin) view() levelsView {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := levelsView{Loggers: map[string]string{}}
	for name, l := range a.store.List() {
		if name == "" {
			v.Global = LevelString(l)
		} else {
			v.Loggers[name] = LevelString(l)
		}
	}
	for name, rs := range a.pending {
		if v.Restores == nil {
			v.Restores = map[string]restoreView{}
		}
		v.Restores[name] = restoreView{To: restoredName(rs), At: rs.at.UTC().Truncate(time.Second)}
	}
	return v
}

// validLoggerName accepts "" (global) and short names of letters, digits and
// . _ / -, so names are safe to log and to use as keys.
func validLoggerName(s string) bool {
	if len(s) > maxLoggerName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// ParseLevel parses a level name as slog.Level.UnmarshalText does ("debug",
// "WARN+2", case-insensitive) and also accepts "critical" for
// [LevelCritical].
func ParseLevel(s string) (slog.Level, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "critical") {
		return LevelCritical, nil
	}
	var l slog.Level
	if s == "" {
		return l, errors.New("sampling: empty level")
	}
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// LevelString names a level as slog does, with CRITICAL for [LevelCritical].
func LevelString(l slog.Level) string {
	if l == LevelCritical {
		return "CRITICAL"
	}
	return l.String()
}
