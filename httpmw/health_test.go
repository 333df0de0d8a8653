package httpmw

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func decodeReport(t *testing.T, body string) HealthReport {
	t.Helper()
	var rep HealthReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return rep
}

func TestReadiness(t *testing.T) {
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("dial 10.0.0.5: password=hunter2hunter2") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	boom := func(context.Context) error { panic("check bug") }
	type chk struct {
		name string
		fn   func(context.Context) error
	}
	tests := []struct {
		name   string
		checks []chk
		code   int
		want   map[string]string
	}{
		{name: "no checks", code: 200},
		{name: "all ok", checks: []chk{{"db", ok}, {"cache", ok}}, code: 200, want: map[string]string{"db": CheckOK, "cache": CheckOK}},
		{name: "one fails", checks: []chk{{"db", ok}, {"queue", fail}}, code: 503, want: map[string]string{"db": CheckOK, "queue": CheckFail}},
		{name: "timeout", checks: []chk{{"db", slow}}, code: 503, want: map[string]string{"db": CheckTimeout}},
		{name: "panicking check", checks: []chk{{"db", boom}}, code: 503, want: map[string]string{"db": CheckFail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			health := NewHealth(WithLogger(h.logger))
			for _, c := range tt.checks {
				health.AddCheck(c.name, c.fn, 50*time.Millisecond)
			}
			rec := serve(health.ReadinessHandler(), get("/readyz"))
			if rec.Code != tt.code {
				t.Errorf("code %d, want %d", rec.Code, tt.code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			rep := decodeReport(t, rec.Body.String())
			wantStatus := CheckOK
			if tt.code != 200 {
				wantStatus = CheckFail
			}
			if rep.Status != wantStatus || len(rep.Checks) != len(tt.want) {
				t.Errorf("report %+v", rep)
			}
			for name, st := range tt.want {
				if rep.Checks[name].Status != st {
					t.Errorf("%s: %q, want %q", name, rep.Checks[name].Status, st)
				}
			}
			if strings.Contains(rec.Body.String(), "10.0.0.5") || strings.Contains(rec.Body.String(), "check bug") {
				t.Errorf("internals in the response: %s", rec.Body.String())
			}
			if strings.Contains(h.console.String(), "hunter2") {
				t.Error("secret logged")
			}
		})
	}
}

func TestChecksRunInParallelWithTimeouts(t *testing.T) {
	health := NewHealth()
	for _, name := range []string{"a", "b", "c", "d"} {
		health.AddCheck(name, func(ctx context.Context) error {
			select {
			case <-time.After(100 * time.Millisecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, time.Second)
	}
	start := time.Now()
	rec := serve(health.ReadinessHandler(), get("/readyz"))
	if d := time.Since(start); d > 350*time.Millisecond {
		t.Errorf("4 checks of 100ms took %v: not parallel", d)
	}
	rep := decodeReport(t, rec.Body.String())
	for name, c := range rep.Checks {
		if c.Status != CheckOK || c.LatencyMS < 90 {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// A check that ignores its context is reported as timed out and is not
// started again while it still runs.
func TestStuckCheckNotPiledUp(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	health := NewHealth()
	health.AddCheck("stuck", func(context.Context) error {
		started.Add(1)
		<-release
		return nil
	}, 20*time.Millisecond)
	for range 3 {
		rep := decodeReport(t, serve(health.ReadinessHandler(), get("/readyz")).Body.String())
		if rep.Checks["stuck"].Status != CheckTimeout {
			t.Fatalf("report %+v", rep)
		}
	}
	if n := started.Load(); n != 1 {
		t.Errorf("started %d times", n)
	}
	close(release)
	waitFor(t, func() bool {
		rep := decodeReport(t, serve(health.ReadinessHandler(), get("/readyz")).Body.String())
		return rep.Status == CheckOK
	})
}

func TestHealthLogsChangesOnce(t *testing.T) {
	h := newHarness(t)
	health := NewHealth(WithLogger(h.logger))
	var failing atomic.Bool
	health.AddCheck("db", func(context.Context) error {
		if failing.Load() {
			return errors.New("db down")
		}
		return nil
	}, 0)
	probe := func() { serve(health.ReadinessHandler(), get("/readyz")) }
	probe()
	failing.Store(true)
	probe()
	probe()
	probe()
	failing.Store(false)
	probe()
	probe()
	if n := len(h.events(EventHealthCheckFailed)); n != 1 {
		t.Errorf("%s: %d records", EventHealthCheckFailed, n)
	}
	if r := h.one(EventHealthCheckFailed); r["level"] != "WARN" || r["check"] != "db" || r["error"] != "db down" {
		t.Errorf("record %v", r)
	}
	if n := len(h.events(EventHealthCheckOK)); n != 1 {
		t.Errorf("%s: %d records", EventHealthCheckOK, n)
	}
}

func TestLiveness(t *testing.T) {
	var health Health // the zero value works
	rec := serve(health.LivenessHandler(), get("/healthz"))
	if rec.Code != 200 || decodeReport(t, rec.Body.String()).Status != CheckOK {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	health.AddLivenessCheck("deadlock", func(context.Context) error { return errors.New("stuck") }, 0)
	health.AddCheck("db", func(context.Context) error { return nil }, 0)
	if rec := serve(health.LivenessHandler(), get("/healthz")); rec.Code != 503 {
		t.Errorf("liveness %d", rec.Code)
	}
	if rec := serve(health.ReadinessHandler(), get("/readyz")); rec.Code != 200 {
		t.Errorf("readiness %d", rec.Code)
	}
	head := get("/healthz")
	head.Method = http.MethodHead
	if rec := serve(health.ReadinessHandler(), head); rec.Body.Len() != 0 {
		t.Errorf("HEAD body %q", rec.Body.String())
	}
}
