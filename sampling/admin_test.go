package sampling_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

func adminDo(t *testing.T, h http.Handler, method, target, remote, token string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("X-Debug-Log", token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAdmin(t *testing.T) {
	logs := &capture{}
	p := mustNew(t, sampling.WithSecret(testSecret), sampling.WithAllowedPeers("10.0.0.0/8"),
		sampling.WithLogger(slog.New(logs)))
	store := &sampling.LevelVars{}
	store.Var("deps")
	admin := p.Admin(store)
	defer admin.Close()
	tok := mustToken(t, time.Now().Add(time.Hour))
	const outsider, insider = "203.0.113.9:1", "10.0.0.1:1"

	tests := []struct {
		name   string
		method string
		target string
		remote string
		token  string
		code   int
		check  func(t *testing.T)
	}{
		{"untrusted read", "GET", "/", outsider, "", 403, nil},
		{"bad token", "PUT", "/?level=debug", outsider, tamperToken(t, tok), 403, nil},
		{"read by token", "GET", "/", outsider, tok, 200, nil},
		{"set global by peer", "PUT", "/?level=warn", insider, "", 200, func(t *testing.T) {
			if l, _ := store.Get(""); l != slog.LevelWarn {
				t.Errorf("global %v", l)
			}
		}},
		{"set logger critical", "POST", "/?logger=deps&level=critical", insider, "", 200, func(t *testing.T) {
			if l, _ := store.Get("deps"); l != sampling.LevelCritical {
				t.Errorf("deps %v", l)
			}
		}},
		{"bad level", "PUT", "/?logger=deps&level=loud", insider, "", 400, nil},
		{"bad logger name", "PUT", "/?logger=a%0Ab&level=debug", insider, "", 400, nil},
		{"bad duration", "PUT", "/?level=debug&for=forever", insider, "", 400, nil},
		{"too long", "PUT", "/?level=debug&for=9000h", insider, "", 400, nil},
		{"delete global", "DELETE", "/", insider, "", 400, nil},
		{"delete logger", "DELETE", "/?logger=deps", insider, "", 200, func(t *testing.T) {
			if _, ok := store.Get("deps"); ok {
				t.Error("deps still has its own level")
			}
		}},
		{"method", "PATCH", "/", insider, "", 405, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := adminDo(t, admin, tt.method, tt.target, tt.remote, tt.token)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			if tt.code == 200 {
				var v struct {
					Global  string
					Loggers map[string]string
				}
				if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.Global == "" {
					t.Fatalf("body %s: %v", w.Body, err)
				}
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	if st := p.Stats(); st.DebugUntrusted != 2 {
		t.Errorf("DebugUntrusted = %d, want 2", st.DebugUntrusted)
	}
}

func TestAdminTemporaryLevelRestores(t *testing.T) {
	p := mustNew(t, sampling.WithAllowedPeers("10.0.0.0/8"), sampling.WithLogger(discardLogger()))
	store := &sampling.LevelVars{}
	store.Var("deps").Set(slog.LevelWarn)
	admin := p.Admin(store)
	defer admin.Close()

	// Two temporary changes: the first level returns, not the second.
	adminDo(t, admin, "PUT", "/?logger=deps&level=info&for=1h", "10.0.0.1:1", "")
	w := adminDo(t, admin, "PUT", "/?logger=deps&level=debug&for=50ms", "10.0.0.1:1", "")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	// A temporary level for a logger that had none is removed afterwards.
	adminDo(t, admin, "PUT", "/?logger=db&level=debug&for=50ms", "10.0.0.1:1", "")
	if l, _ := store.Get("deps"); l != slog.LevelDebug {
		t.Fatalf("deps %v, want DEBUG during the limit", l)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, _ := store.Get("deps")
		_, dbOwn := store.Get("db")
		if l == slog.LevelWarn && !dbOwn {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deps %v, db own level %v: not restored", l, dbOwn)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAdminPermanentSetCancelsRestore(t *testing.T) {
	p := mustNew(t, sampling.WithAllowedPeers("10.0.0.0/8"), sampling.WithLogger(discardLogger()))
	store := &sampling.LevelVars{}
	admin := p.Admin(store)
	adminDo(t, admin, "PUT", "/?level=debug&for=20ms", "10.0.0.1:1", "")
	adminDo(t, admin, "PUT", "/?level=error", "10.0.0.1:1", "")
	time.Sleep(60 * time.Millisecond)
	if l, _ := store.Get(""); l != slog.LevelError {
		t.Fatalf("global %v, want ERROR kept", l)
	}
	_ = admin.Close()
	_ = admin.Close()
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true},
		{"INFO", slog.LevelInfo, true},
		{"warn+1", slog.LevelWarn + 1, true},
		{"Critical", sampling.LevelCritical, true},
		{"", 0, false},
		{"verbose", 0, false},
	}
	for _, tt := range tests {
		got, err := sampling.ParseLevel(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseLevel(%q) = %v, %v", tt.in, got, err)
		}
	}
	if sampling.LevelString(sampling.LevelCritical) != "CRITICAL" || sampling.LevelString(slog.LevelDebug) != "DEBUG" {
		t.Error("LevelString")
	}
}
