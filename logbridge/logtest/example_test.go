package logtest_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/logbridge/logtest"
	"github.com/otelkit/otelkit/redact"
)

// signUp is the code under test: it logs more than it should.
func signUp(log *slog.Logger, email, password, card, iban string) {
	log.Info("sign-up", "email", email, "password", password, "iban", iban,
		"note", "first payment with card "+card)
}

// Example_redaction shows how a test asserts that what its code logs is
// redacted: check that the secrets appear nowhere in Output (the bytes a
// console or file would get), then that the fields are still there,
// masked, with the rest of the record intact. Passing the service's own
// policy (here one that adds the key "iban") checks that policy.
func Example_redaction() {
	t := &exampleT{} // in a real test, the *testing.T
	defer t.done()

	policy := redact.New(redact.WithSensitiveKeys("iban"))
	rec := logtest.New(t, logbridge.WithRedaction(policy))
	signUp(rec.Logger("accounts"), "ada@example.com", "fake-hunter2", "4111 1111 1111 1111", "DE89370400440532013000")

	for _, secret := range []string{"fake-hunter2", "4111 1111 1111 1111", "DE89370400440532013000"} {
		if strings.Contains(rec.Output(), secret) {
			t.Errorf("secret %q logged:\n%s", secret, rec.Output())
		}
	}
	if !rec.Has(slog.LevelInfo, "sign-up") {
		t.Errorf("no sign-up record:\n%s", rec.Output())
	}
	e := rec.Entries()[0]
	for _, k := range []string{"password", "iban", "note", "email"} {
		fmt.Printf("%s: %v\n", k, e.Attrs[k])
	}
	// Output:
	// password: [REDACTED]
	// iban: [REDACTED]
	// note: first payment with card [REDACTED]
	// email: ada@example.com
}

// exampleT stands in for the *testing.T that a test passes to
// logtest.New: a failed check prints, which breaks the example's output.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()          {}
func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
}
func (t *exampleT) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// done runs the cleanups, as the testing package does at a test's end.
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
