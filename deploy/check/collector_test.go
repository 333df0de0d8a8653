package check

import (
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// usedComponents returns the component types deploy/collector/config.yaml
// configures, by kind ("receivers", "processors", ...): "otlp_grpc/jaeger"
// is of type otlp_grpc.
func usedComponents(t *testing.T) map[string][]string {
	t.Helper()
	var cfg map[string]any
	readYAML(t, "deploy/collector/config.yaml", &cfg)
	out := map[string][]string{}
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		m, _ := cfg[kind].(map[string]any)
		seen := map[string]bool{}
		for id := range m {
			typ, _, _ := strings.Cut(id, "/")
			if !seen[typ] {
				seen[typ] = true
				out[kind] = append(out[kind], typ)
			}
		}
		sort.Strings(out[kind])
	}
	return out
}

// TestBuilderManifestVersions: the manifest's components are the core
// collector's, at one release: v0.160.0 for components and the service, and
// the matching v1.66.0 for confmap providers.
func TestBuilderManifestVersions(t *testing.T) {
	var m struct {
		Dist struct {
			Version    string `yaml:"version"`
			OutputPath string `yaml:"output_path"`
		} `yaml:"dist"`
		Receivers  []struct{ GoMod string } `yaml:"receivers"`
		Processors []struct{ GoMod string } `yaml:"processors"`
		Exporters  []struct{ GoMod string } `yaml:"exporters"`
		Extensions []struct{ GoMod string } `yaml:"extensions"`
		Connectors []struct{ GoMod string } `yaml:"connectors"`
		Providers  []struct{ GoMod string } `yaml:"providers"`
		Telemetry  struct{ GoMod string }   `yaml:"telemetry"`
	}
	readYAML(t, "deploy/collector/builder.yaml", &m)
	const components, providers = "v0.160.0", "v1.66.0"
	if m.Dist.OutputPath != "./deploy/collector/_build" {
		t.Errorf("dist.output_path = %q; .ci/stack-check.sh and deploy/.gitignore expect ./deploy/collector/_build", m.Dist.OutputPath)
	}
	check := func(kind, gomod, want string) {
		mod, version, ok := strings.Cut(gomod, " ")
		if !ok {
			t.Errorf("%s %q: no version", kind, gomod)
			return
		}
		if version != want {
			t.Errorf("%s %s at %s, want %s (one collector release)", kind, mod, version, want)
		}
	}
	var all []struct{ GoMod string }
	for _, l := range [][]struct{ GoMod string }{m.Receivers, m.Processors, m.Exporters, m.Extensions, m.Connectors} {
		all = append(all, l...)
	}
	for _, c := range all {
		check("component", c.GoMod, components)
	}
	for _, c := range m.Providers {
		check("provider", c.GoMod, providers)
	}
	check("telemetry", m.Telemetry.GoMod, components)

	used := usedComponents(t)
	n := 0
	for _, l := range used {
		n += len(l)
	}
	if len(all) != n {
		t.Errorf("the manifest lists %d components, config.yaml uses %d (%v)", len(all), n, used)
	}
}

// TestCollectorComponentsMatchConfig runs `<collector> components` of the
// collector the builder made from deploy/collector/builder.yaml
// (.ci/stack-check.sh sets OTELCOL_BIN) and checks that it has exactly the
// component types config.yaml uses.
func TestCollectorComponentsMatchConfig(t *testing.T) {
	bin := os.Getenv("OTELCOL_BIN")
	if bin == "" {
		t.Skip("OTELCOL_BIN not set; .ci/stack-check.sh builds the collector and sets it")
	}
	out, err := exec.Command(bin, "components").Output()
	if err != nil {
		t.Fatalf("%s components: %v", bin, err)
	}
	var comps map[string]any
	if err := yaml.Unmarshal(out, &comps); err != nil {
		t.Fatalf("%s components: %v\n%s", bin, err, out)
	}
	used := usedComponents(t)
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		var built []string
		l, _ := comps[kind].([]any)
		for _, e := range l {
			if m, ok := e.(map[string]any); ok {
				name, _ := m["name"].(string)
				built = append(built, name)
			}
		}
		sort.Strings(built)
		if !slices.Equal(built, used[kind]) {
			t.Errorf("%s: the collector has %v, config.yaml uses %v", kind, built, used[kind])
		}
	}
}
