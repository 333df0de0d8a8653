package otelsetup

import (
	"os"
	"strings"
	"testing"
)

// TestConfigurationDocListsEverySetting keeps docs/configuration.md true.
func TestConfigurationDocListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range settings {
		if !strings.Contains(doc, "`"+s.key+"`") || !strings.Contains(doc, "`"+s.env+"`") {
			t.Errorf("docs/configuration.md does not list %s / %s", s.key, s.env)
		}
	}
}
