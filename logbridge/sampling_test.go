package logbridge

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

func newPolicy(t *testing.T, opts ...sampling.Option) *sampling.Policy {
	t.Helper()
	base := []sampling.Option{sampling.WithSecret([]byte("fake-test-secret-0123456789")), sampling.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	p, err := sampling.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestForcedDebugForOneRequest(t *testing.T) {
	p := newPolicy(t)
	var buf bytes.Buffer
	log := slog.New(NewHandler(WithConsole(&buf), WithLevel(slog.LevelInfo), WithSampling(p)))

	tok, err := p.SignToken(time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set(p.Header(), tok)
	ctx, req := p.Start(r)
	log.DebugContext(ctx, "detail for the trusted request")
	_ = req.Finish(200, time.Millisecond, false)

	plainCtx, plain := p.Start(httptest.NewRequest(http.MethodGet, "/y", nil))
	log.DebugContext(plainCtx, "detail nobody asked for")
	_ = plain.Finish(200, time.Millisecond, false)

	lines := parseLines(t, buf.Bytes())
	if len(lines) != 1 || lines[0]["msg"] != "detail for the trusted request" || lines[0]["sampled_by"] != "debug" {
		t.Errorf("lines = %v", lines)
	}
}

func TestTailBufferFlushesOnError(t *testing.T) {
	p := newPolicy(t, sampling.WithTailBuffer(100, 1<<20))
	var buf bytes.Buffer
	log := slog.New(NewHandler(WithConsole(&buf), WithLevel(slog.LevelInfo), WithSampling(p)))

	ctx, req := p.Start(httptest.NewRequest(http.MethodGet, "/ok", nil))
	log.DebugContext(ctx, "held then discarded")
	_ = req.Finish(200, time.Millisecond, false)
	if buf.Len() != 0 {
		t.Fatalf("a good request wrote its DEBUG records: %s", buf.String())
	}

	ctx, req = p.Start(httptest.NewRequest(http.MethodGet, "/bad", nil))
	log.DebugContext(ctx, "first detail")
	log.DebugContext(ctx, "second detail")
	log.ErrorContext(ctx, "it failed")
	_ = req.Finish(500, time.Millisecond, false)
	lines := parseLines(t, buf.Bytes())
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, l["msg"].(string)+"/"+strings.TrimSpace(toString(l["sampled_by"])))
	}
	want := "it failed//first detail/tail/second detail/tail"
	if got := strings.Join(msgs, "/"); got != want {
		t.Errorf("records = %s, want %s", got, want)
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// TestAdminChangesLevels drives the sampling admin handler over the
// handler's level table: a change reaches existing loggers.
func TestAdminChangesLevels(t *testing.T) {
	p := newPolicy(t, sampling.WithAllowedPeers("192.0.2.1"))
	var buf bytes.Buffer
	h := NewHandler(WithConsole(&buf), WithLevel(slog.LevelInfo))
	db := h.Logger("app.db")
	admin := p.Admin(h.Levels())
	defer admin.Close()

	req := httptest.NewRequest(http.MethodPut, "/levels?logger=app&level=debug", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("admin PUT: %d %s", rec.Code, rec.Body)
	}
	db.Debug("now visible")
	if !strings.Contains(buf.String(), "now visible") {
		t.Error("level change through the admin handler did not reach app.db")
	}

	untrusted := httptest.NewRequest(http.MethodPut, "/levels?logger=&level=debug", nil)
	untrusted.RemoteAddr = "198.51.100.7:1"
	rec = httptest.NewRecorder()
	admin.ServeHTTP(rec, untrusted)
	if rec.Code != http.StatusForbidden {
		t.Errorf("untrusted admin call: %d", rec.Code)
	}
}
