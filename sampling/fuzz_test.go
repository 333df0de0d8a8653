package sampling_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

// FuzzToken feeds arbitrary tokens, peers and forwarding headers to the
// token parser and the trust check: neither may panic, and only a token
// signed with the secret may verify.
func FuzzToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	valid, _ := sampling.SignToken(testSecret, now.Add(time.Hour))
	f.Add(valid, "10.0.0.1:80", "10.1.2.3", "")
	f.Add("1800003600.AAAA", "[::1]:1", "", "for=10.1.2.3")
	f.Add("", "not an addr", "a, b, , c", `for="[fd00::7]:99";by=x, for=unknown`)
	f.Add("99999999999999999999.x", "192.168.0.10:80", "::ffff:10.1.2.3", "for=_hidden")
	f.Add("1.", "[fe80::1%eth0]:1", "10.1.2.3%eth0", "For=\"\"")

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := sampling.New(
		sampling.WithSecret(testSecret),
		sampling.WithAllowedPeers("10.1.0.0/16"),
		sampling.WithTrustedProxies("192.168.0.0/24", "::1"),
		sampling.WithLogger(logger),
	)
	if err != nil {
		f.Fatal(err)
	}
	// A second policy logs every rejection to a buffer: the header value
	// (with a canary in front) must never be logged, and one request's
	// audit record stays within a bound linear in what it logs of the
	// request.
	var logBuf bytes.Buffer
	audited, err := sampling.New(
		sampling.WithSecret(testSecret),
		sampling.WithAllowedPeers("10.1.0.0/16"),
		sampling.WithTrustedProxies("192.168.0.0/24", "::1"),
		sampling.WithWarnInterval(time.Nanosecond),
		sampling.WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))),
	)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token, remote, xff, fwd string) {
		exp, err := sampling.VerifyToken(testSecret, token, now)
		if err == nil {
			want, _ := sampling.SignToken(testSecret, exp)
			if want != token {
				t.Fatalf("token %q verified but differs from the signed form %q", token, want)
			}
		}
		r, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Debug-Log", token)
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		d := p.Trust(r)
		if d.Trusted && d.Reason != sampling.ReasonToken && d.Reason != sampling.ReasonAllowedPeer {
			t.Fatalf("trusted with reason %q", d.Reason)
		}
		ctx, req := p.Start(r)
		_ = req.Enabled(ctx, slog.LevelDebug)

		if strings.Contains(remote+xff+fwd, tokenCanary) {
			return
		}
		logBuf.Reset()
		r.Header.Set("X-Debug-Log", tokenCanary+token)
		_, _ = audited.Start(r)
		out := logBuf.String()
		if strings.Contains(out, tokenCanary) {
			t.Fatalf("debug header value logged: %q", out)
		}
		// The record logs the peer (RemoteAddr) and the path; the client
		// address is a parsed netip.Addr (at most 45 bytes + zone, and the
		// zone comes from the input). slog's text handler quotes with Go
		// escapes, at most 4 bytes per input byte (\xff); the fixed text
		// (time, level, message, keys, reason, method) is under 300 bytes.
		if limit := 4*(2*len(remote)+len(xff)+len(fwd)) + auditOverhead; len(out) > limit {
			t.Fatalf("audit record of %d bytes for %d bytes in (limit %d): %q", len(out), len(remote)+len(xff)+len(fwd), limit, out)
		}
	})
}

const (
	tokenCanary   = "CANARYtoken0000fake."
	auditOverhead = 512
)
