package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	s := Secret("hunter2")
	for _, f := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%d", "%10s"} {
		if got := fmt.Sprintf(f, s); strings.Contains(got, "hunter2") || !strings.Contains(got, Mask) {
			t.Errorf("Sprintf(%q) = %q", f, got)
		}
	}
	b, err := json.Marshal(struct{ S Secret }{s})
	if err != nil || string(b) != `{"S":"[REDACTED]"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "s", s)
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("slog leaked: %s", buf.String())
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
}
