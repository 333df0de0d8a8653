package e2e

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the tests in a clean environment and fails the run if any goroutine outlives
// them: every collector, exporter and provider a test starts must be stopped by the time it ends.
func TestMain(m *testing.M) {
	// The environment wins over code in otelsetup, so a developer's own OTEL_* or LOG_* settings
	// would change what these tests see. Tests that check the environment set it with t.Setenv.
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		for _, prefix := range []string{"OTEL_", "OTELKIT_", "LOG_"} {
			if strings.HasPrefix(key, prefix) {
				os.Unsetenv(key)
			}
		}
	}
	goleak.VerifyTestMain(m)
}
