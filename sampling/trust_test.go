package sampling_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

func TestStartTrust(t *testing.T) {
	now := time.Now()
	valid := mustToken(t, now.Add(time.Hour))
	expired := mustToken(t, now.Add(-time.Minute))
	tooLong := mustToken(t, now.Add(48*time.Hour))
	other, _ := sampling.SignToken([]byte("another-fake-secret-0123456789ab"), now.Add(time.Hour))
	tampered := tamperToken(t, valid)

	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			hd.Add(kv[i], kv[i+1])
		}
		return hd
	}
	tests := []struct {
		name    string
		remote  string
		header  http.Header
		forced  bool
		reason  string
		attempt bool // the header was present
		extra   []sampling.Option
	}{
		{"no header", "203.0.113.9:1234", nil, false, "", false, nil},
		{"valid token", "203.0.113.9:1234", h("X-Debug-Log", valid), true, sampling.ReasonToken, true, nil},
		{"valid token lowercase header", "203.0.113.9:1234", h("x-debug-log", valid), true, sampling.ReasonToken, true, nil},
		{"bad signature", "203.0.113.9:1234", h("X-Debug-Log", tampered), false, sampling.ReasonBadSignature, true, nil},
		{"other secret", "203.0.113.9:1234", h("X-Debug-Log", other), false, sampling.ReasonBadSignature, true, nil},
		{"expired token", "203.0.113.9:1234", h("X-Debug-Log", expired), false, sampling.ReasonExpired, true, nil},
		{"lifetime too long", "203.0.113.9:1234", h("X-Debug-Log", tooLong), false, sampling.ReasonLifetime, true, nil},
		{"malformed token", "203.0.113.9:1234", h("X-Debug-Log", "12.abc"), false, sampling.ReasonMalformed, true, nil},
		{"two headers", "203.0.113.9:1234", h("X-Debug-Log", valid, "X-Debug-Log", valid), false, sampling.ReasonMalformed, true, nil},
		{"flag from untrusted peer", "203.0.113.9:1234", h("X-Debug-Log", "1"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"flag from allowed peer", "10.1.2.3:5555", h("X-Debug-Log", "1"), true, sampling.ReasonAllowedPeer, true, nil},
		{"allowed peer ipv6", "[fd00::7]:5555", h("X-Debug-Log", "1"), true, sampling.ReasonAllowedPeer, true, nil},
		{"allowed peer mapped ipv4", "[::ffff:10.1.2.3]:5555", h("X-Debug-Log", "1"), true, sampling.ReasonAllowedPeer, true, nil},
		{"allowed peer bad token still peer", "10.1.2.3:5555", h("X-Debug-Log", tampered), true, sampling.ReasonAllowedPeer, true, nil},
		{"peer outside allow-list", "10.2.0.1:5555", h("X-Debug-Log", "1"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"spoofed X-Forwarded-For", "203.0.113.9:1234", h("X-Debug-Log", "1", "X-Forwarded-For", "10.1.2.3"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"spoofed Forwarded", "203.0.113.9:1234", h("X-Debug-Log", "1", "Forwarded", "for=10.1.2.3"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"trusted proxy forwards allowed client", "192.168.0.10:80", h("X-Debug-Log", "1", "X-Forwarded-For", "10.1.2.3"), true, sampling.ReasonAllowedPeer, true, nil},
		{"trusted proxy, client prepended spoof", "192.168.0.10:80", h("X-Debug-Log", "1", "X-Forwarded-For", "10.1.2.3, 203.0.113.9"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"trusted proxy chain", "192.168.0.10:80", h("X-Debug-Log", "1", "X-Forwarded-For", "10.1.2.3, 192.168.0.11"), true, sampling.ReasonAllowedPeer, true, nil},
		{"trusted proxy Forwarded", "192.168.0.10:80", h("X-Debug-Log", "1", "Forwarded", `for="[fd00::7]:99";proto=https`), true, sampling.ReasonAllowedPeer, true,
			[]sampling.Option{sampling.WithForwardedHeader("forwarded")}},
		{"trusted proxy ignores unmanaged Forwarded", "192.168.0.10:80", h("X-Debug-Log", "1", "Forwarded", "for=10.1.2.3"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"trusted proxy ignores unmanaged X-Forwarded-For", "192.168.0.10:80", h("X-Debug-Log", "1", "Forwarded", "for=203.0.113.9", "X-Forwarded-For", "10.1.2.3"), false, sampling.ReasonUntrustedPeer, true,
			[]sampling.Option{sampling.WithForwardedHeader("Forwarded")}},
		{"trusted proxy garbage hop", "192.168.0.10:80", h("X-Debug-Log", "1", "X-Forwarded-For", "10.1.2.3, junk"), false, sampling.ReasonUntrustedPeer, true, nil},
		{"unparsable peer", "not-an-addr", h("X-Debug-Log", "1"), false, sampling.ReasonUntrustedPeer, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &capture{}
			p := mustNew(t, append([]sampling.Option{
				sampling.WithSecret(testSecret),
				sampling.WithAllowedPeers("10.1.0.0/16", "fd00::7"),
				sampling.WithTrustedProxies("192.168.0.0/24"),
				sampling.WithLogger(slog.New(logs)),
			}, tt.extra...)...)
			r := newRequest(tt.remote, tt.header)
			before := r.Header.Clone()
			ctx, req := p.Start(r)
			if got := sampling.FromContext(ctx); got != req {
				t.Fatalf("FromContext = %p, want %p", got, req)
			}
			if req.Forced() != tt.forced {
				t.Errorf("Forced = %v, want %v", req.Forced(), tt.forced)
			}
			if tt.forced && req.Reason() != tt.reason {
				t.Errorf("Reason = %q, want %q", req.Reason(), tt.reason)
			}
			if got := req.Enabled(ctx, slog.LevelDebug); got != tt.forced {
				t.Errorf("Enabled(DEBUG) = %v, want %v", got, tt.forced)
			}
			if len(r.Header) != len(before) {
				t.Errorf("Start modified the request headers")
			}
			st := p.Stats()
			recs := logs.records()
			switch {
			case !tt.attempt:
				if len(recs) != 0 || st.DebugHonoured+st.DebugUntrusted != 0 {
					t.Errorf("no header: logs %d, stats %+v", len(recs), st)
				}
			case tt.forced:
				if st.DebugHonoured != 1 || len(recs) != 1 || recs[0].Level != slog.LevelInfo {
					t.Fatalf("honoured: stats %+v, %d records", st, len(recs))
				}
				a := attrs(recs[0])
				if a["event"] != "debug_sampled" || a["reason"] != tt.reason {
					t.Errorf("audit attrs = %v", a)
				}
				if a["path"] != "/orders/7" {
					t.Errorf("audit path = %q, want no query", a["path"])
				}
			default:
				if st.DebugUntrusted != 1 || len(recs) != 1 || recs[0].Level != slog.LevelWarn {
					t.Fatalf("rejected: stats %+v, %d records", st, len(recs))
				}
				a := attrs(recs[0])
				if a["event"] != "debug_rejected" || a["reason"] != tt.reason {
					t.Errorf("warn attrs = %v, want reason %q", a, tt.reason)
				}
				for k, v := range a {
					if v != "" && len(tt.header.Get("X-Debug-Log")) > 2 && v == tt.header.Get("X-Debug-Log") {
						t.Errorf("header value logged under %q", k)
					}
				}
			}
			if tt.forced != p.Trust(r).Trusted {
				t.Errorf("Trust disagrees with Start")
			}
		})
	}
}

func TestStartNoSecretRejectsTokens(t *testing.T) {
	p := mustNew(t, sampling.WithLogger(slog.New(&capture{})))
	tok := mustToken(t, time.Now().Add(time.Hour))
	_, req := p.Start(newRequest("203.0.113.9:1", http.Header{"X-Debug-Log": {tok}}))
	if req.Forced() {
		t.Fatal("token trusted without a configured secret")
	}
}

func TestUntrustedWarnRateLimited(t *testing.T) {
	logs := &capture{}
	p := mustNew(t, sampling.WithLogger(slog.New(logs)), sampling.WithWarnInterval(time.Hour))
	for range 100 {
		p.Start(newRequest("203.0.113.9:1", http.Header{"X-Debug-Log": {"1"}}))
	}
	if got := p.Stats().DebugUntrusted; got != 100 {
		t.Errorf("DebugUntrusted = %d, want 100", got)
	}
	if got := len(logs.records()); got != 1 {
		t.Errorf("%d WARN records, want 1 within the interval", got)
	}
}

func TestUntrustedWarnReportsSuppressed(t *testing.T) {
	logs := &capture{}
	p := mustNew(t, sampling.WithLogger(slog.New(logs)), sampling.WithWarnInterval(20*time.Millisecond))
	bad := newRequest("203.0.113.9:1", http.Header{"X-Debug-Log": {"1"}})
	for range 5 {
		p.Start(bad)
	}
	time.Sleep(30 * time.Millisecond)
	p.Start(bad)
	recs := logs.records()
	if len(recs) != 2 {
		t.Fatalf("%d WARN records, want 2", len(recs))
	}
	if got := attrs(recs[1])["suppressed"]; got != "4" {
		t.Errorf("suppressed = %s, want 4", got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []sampling.Option
	}{
		{"short secret", []sampling.Option{sampling.WithSecret([]byte("short"))}},
		{"bad cidr", []sampling.Option{sampling.WithAllowedPeers("10.0.0.0/33")}},
		{"bad proxy", []sampling.Option{sampling.WithTrustedProxies("proxy.local")}},
		{"mapped prefix", []sampling.Option{sampling.WithAllowedPeers("::ffff:10.0.0.0/104")}},
		{"ratio above one", []sampling.Option{sampling.WithRatio(1.5)}},
		{"ratio negative", []sampling.Option{sampling.WithRatio(-0.1)}},
		{"empty header", []sampling.Option{sampling.WithHeader(" ")}},
		{"lifetime", []sampling.Option{sampling.WithMaxTokenLifetime(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := sampling.New(tt.opts...); err == nil || p != nil {
				t.Fatalf("New = %v, %v; want an error", p, err)
			}
		})
	}
}

func TestNilPolicyAndRequest(t *testing.T) {
	var p *sampling.Policy
	r := newRequest("10.0.0.1:1", http.Header{"X-Debug-Log": {"1"}})
	ctx, req := p.Start(r)
	if req != nil || ctx != r.Context() {
		t.Fatal("nil policy must return the request context and a nil state")
	}
	if req.Enabled(ctx, slog.LevelError) || req.Holds(slog.LevelDebug) || req.Forced() {
		t.Fatal("nil request enabled something")
	}
	req.ObserveLevel(slog.LevelError)
	if err := req.Finish(500, 0, true); err != nil {
		t.Fatal(err)
	}
	if p.Trust(r).Trusted || !p.KeepNoisy(ctx, "k", slog.LevelDebug) {
		t.Fatal("nil policy trust/noisy")
	}
	if sampling.FromContext(nil) != nil { //nolint:staticcheck // nil context on purpose
		t.Fatal("FromContext(nil)")
	}
}
