package deps

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/redact"
)

// TestPolicyFollowsDefaultHandler: without WithRedaction, deps redacts with
// the policy of the logbridge handler behind slog.Default(), as otelsetup
// installs it, so configured sensitive keys apply to dependency URLs.
func TestPolicyFollowsDefaultHandler(t *testing.T) {
	h := newHarness(t)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	policy := redact.New(redact.WithSensitiveKeys("tenant_pin"))
	slog.SetDefault(slog.New(logbridge.NewHandler(logbridge.WithoutConsole(), logbridge.WithRedaction(policy))))

	resp, err := h.client("inventory", nil).Get(srv.URL + "/stock?tenant_pin=fake-pin-9911&sku=a1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if out := h.everything(); strings.Contains(out, "fake-pin-9911") || !strings.Contains(out, "sku=a1") {
		t.Errorf("the default handler's policy was not applied:\n%s", out)
	}
}
