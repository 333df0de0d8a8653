package secrettest

import (
	"strings"
	"testing"
)

func TestCorpus(t *testing.T) {
	secrets := Secrets()
	shapes := map[string]bool{}
	for _, s := range secrets {
		shapes[s.Shape] = true
		if !strings.Contains(s.Text, s.Value) {
			t.Errorf("%s: text %q does not hold the secret", s.Shape, s.Text)
		}
		if strings.Contains(s.Value, "{-}") || strings.Contains(s.Text, "{S}") {
			t.Errorf("%s: markers left in %q", s.Shape, s.Text)
		}
	}
	if len(secrets) < 80 || len(shapes) < 40 {
		t.Errorf("corpus has %d secrets in %d shapes, want at least 80 in 40", len(secrets), len(shapes))
	}
	if n := len(NearMisses()); n < 40 {
		t.Errorf("%d near-misses, want at least 40", n)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`a\nb`: "a\nb", `a\\nb`: `a\nb`, `gh{-}p_`: "ghp_", `x\`: `x\`, `\t`: `\t`} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
