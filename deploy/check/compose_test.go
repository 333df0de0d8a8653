package check

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// wantServices are the services docs/stack.md describes.
var wantServices = []string{
	"collector", "jaeger", "prometheus", "loki", "grafana", // the stack
	"orders", "inventory", "loadgen", // the examples and their load
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	got := p.ServiceNames()
	sort.Strings(got)
	want := slices.Clone(wantServices)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
}

// pinnedTag matches a version tag: at least major.minor, optionally with a
// leading v and a suffix (1.26.8, v3.14.0, 0.160.0, 3.22).
var pinnedTag = regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)?([-.+][0-9A-Za-z.-]+)?$`)

// checkPinned reports why ref is not pinned to a version, or "".
func checkPinned(ref string) string {
	if strings.Contains(ref, "@sha256:") {
		return ""
	}
	name, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i+1:]
	}
	switch {
	case name == "":
		return "no image name"
	case tag == "":
		return "no tag (means latest)"
	case tag == "latest":
		return "tag latest"
	case !pinnedTag.MatchString(tag):
		return fmt.Sprintf("tag %q is not a version", tag)
	}
	return ""
}

func TestCheckPinned(t *testing.T) {
	for ref, ok := range map[string]bool{
		"prom/prometheus:v3.14.0":                      true,
		"otel/opentelemetry-collector-contrib:0.160.0": true,
		"alpine:3.22":             true,
		"localhost:5000/x:1.2.3":  true,
		"busybox@sha256:0123abcd": true,
		"grafana/grafana":         false,
		"grafana/grafana:latest":  false,
		"localhost:5000/x":        false,
		"golang:bookworm":         false,
	} {
		if got := checkPinned(ref) == ""; got != ok {
			t.Errorf("checkPinned(%q) pinned = %v, want %v", ref, got, ok)
		}
	}
}

// TestComposeImagesPinned: every service runs a versioned image or is built
// from this repository with a Dockerfile whose base images are versioned.
func TestComposeImagesPinned(t *testing.T) {
	p := loadProject(t)
	root := repoRoot(t)
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Build == nil {
			if s.Image == "" {
				t.Errorf("service %s: neither image nor build", name)
			} else if why := checkPinned(s.Image); why != "" {
				t.Errorf("service %s: image %s: %s", name, s.Image, why)
			}
			continue
		}
		if s.Image != "" {
			t.Errorf("service %s: has both build and image %q (a pull of an image that exists nowhere)", name, s.Image)
		}
		ctx := s.Build.Context
		if !within(root, ctx) {
			t.Errorf("service %s: build context %s is outside the repository", name, ctx)
			continue
		}
		df := s.Build.Dockerfile
		if !filepath.IsAbs(df) {
			df = filepath.Join(ctx, df)
		}
		froms, err := dockerfileBases(df)
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if len(froms) == 0 {
			t.Errorf("service %s: %s has no FROM", name, df)
		}
		for _, ref := range froms {
			if why := checkPinned(ref); why != "" {
				t.Errorf("service %s: %s: FROM %s: %s", name, rel(root, df), ref, why)
			}
		}
	}
}

// dockerfileBases returns the external images a Dockerfile starts from
// (FROM lines that do not name an earlier stage).
func dockerfileBases(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stages := map[string]bool{}
	var bases []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		args := fields[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") { // --platform=...
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		if !stages[strings.ToLower(args[0])] {
			bases = append(bases, args[0])
		}
		if len(args) == 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return bases, sc.Err()
}

// TestComposeBindMountsExist: every bind mount is a read-only file or
// directory of this repository.
func TestComposeBindMountsExist(t *testing.T) {
	p := loadProject(t)
	root := repoRoot(t)
	n := 0
	for _, name := range p.ServiceNames() {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			n++
			if !within(root, v.Source) {
				t.Errorf("service %s: bind mount source %s is outside the repository", name, v.Source)
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s: bind mount %s -> %s: source missing: %v", name, rel(root, v.Source), v.Target, err)
			}
			if !v.ReadOnly {
				t.Errorf("service %s: bind mount %s -> %s is not read-only", name, rel(root, v.Source), v.Target)
			}
		}
	}
	if n == 0 {
		t.Error("no bind mounts at all: the configuration under deploy/ reaches no container")
	}
}

// TestComposePathsInContainersExist: an absolute path that a service's
// command, entrypoint or environment names inside one of its bind mounts
// must exist in the repository (a typo there is a container that exits at
// start). Provisioning paths of Grafana are checked the same way.
func TestComposePathsInContainersExist(t *testing.T) {
	p := loadProject(t)
	root := repoRoot(t)
	absPath := regexp.MustCompile(`(?:^|[=\s:])(/[A-Za-z0-9._/-]+)`)
	checked := map[string]bool{}
	check := func(service, where, inContainer string) {
		host, ok := hostPath(p.Services[service], inContainer)
		if !ok {
			return
		}
		checked[service+":"+inContainer] = true
		if _, err := os.Stat(host); err != nil {
			t.Errorf("service %s: %s names %s, which is %s in the repository: %v",
				service, where, inContainer, rel(root, host), err)
		}
	}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		var strs []string
		strs = append(strs, s.Entrypoint...)
		strs = append(strs, s.Command...)
		for _, v := range s.Environment {
			if v != nil {
				strs = append(strs, *v)
			}
		}
		for _, str := range strs {
			for _, m := range absPath.FindAllStringSubmatch(str, -1) {
				check(name, fmt.Sprintf("%q", str), m[1])
			}
		}
	}

	// Grafana reads the dashboards from the provider's path.
	var providers struct {
		Providers []struct {
			Name    string `yaml:"name"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "deploy/grafana/provisioning/dashboards/dashboards.yaml", &providers)
	for _, pr := range providers.Providers {
		if _, ok := hostPath(p.Services["grafana"], pr.Options.Path); !ok {
			t.Errorf("grafana: dashboard provider %s reads %s, which no bind mount provides", pr.Name, pr.Options.Path)
		}
		check("grafana", "dashboard provider "+pr.Name, pr.Options.Path)
	}
	if _, ok := hostPath(p.Services["grafana"], "/etc/grafana/provisioning/datasources/datasources.yaml"); !ok {
		t.Error("grafana: the data sources are not mounted under /etc/grafana/provisioning")
	}

	for _, want := range []string{
		"collector:/etc/otelcol-contrib/config.yaml",
		"prometheus:/etc/prometheus/prometheus.yml",
		"loadgen:/load.sh",
	} {
		if !checked[want] {
			t.Errorf("expected the command of %s to name a mounted file; it does not any more", want)
		}
	}
}

// hostPath maps a path inside the container of s to the repository file of
// the bind mount that provides it.
func hostPath(s types.ServiceConfig, inContainer string) (string, bool) {
	best := -1
	var host string
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		target := strings.TrimSuffix(v.Target, "/")
		if inContainer != target && !strings.HasPrefix(inContainer, target+"/") {
			continue
		}
		if len(target) > best { // the deepest mount wins, as in the container
			best = len(target)
			host = filepath.Join(v.Source, filepath.FromSlash(strings.TrimPrefix(inContainer, target)))
		}
	}
	return host, best >= 0
}

// TestComposePortsDocumented: the published ports are exactly the ones the
// "Ports" table of docs/stack.md lists (host port, service, container port).
func TestComposePortsDocumented(t *testing.T) {
	p := loadProject(t)
	got := map[string]bool{}
	for _, name := range p.ServiceNames() {
		for _, port := range p.Services[name].Ports {
			if port.Published == "" {
				t.Errorf("service %s: port %d has no fixed host port", name, port.Target)
				continue
			}
			got[fmt.Sprintf("%s %s->%d", name, port.Published, port.Target)] = true
		}
	}
	want := map[string]bool{}
	for _, row := range docTable(t, "Ports") {
		if len(row) < 3 {
			t.Fatalf("docs/stack.md Ports row %v: want | host port | service | container port | ...", row)
		}
		want[fmt.Sprintf("%s %s->%s", row[1], row[0], row[2])] = true
	}
	for k := range got {
		if !want[k] {
			t.Errorf("published but not in docs/stack.md's Ports table: %s", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("in docs/stack.md's Ports table but not published: %s", k)
		}
	}
}

// collectorConfig is the part of deploy/collector/config.yaml these tests read.
type collectorConfig struct {
	Receivers map[string]struct {
		Protocols map[string]struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"protocols"`
	} `yaml:"receivers"`
	Exporters map[string]struct {
		Endpoint string `yaml:"endpoint"`
	} `yaml:"exporters"`
}

// envDefault matches the collector's ${env:NAME:-default}.
var envDefault = regexp.MustCompile(`^\$\{env:[A-Za-z_][A-Za-z0-9_]*:-(.*)\}$`)

// TestComposeOTLPWiring: the services send OTLP to a port the collector
// listens on, and the collector's exporters and Prometheus's scrape targets
// name services of the stack.
func TestComposeOTLPWiring(t *testing.T) {
	p := loadProject(t)
	var cc collectorConfig
	readYAML(t, "deploy/collector/config.yaml", &cc)

	listen := map[string]bool{}
	for _, r := range cc.Receivers {
		for _, proto := range r.Protocols {
			if _, port, err := net.SplitHostPort(proto.Endpoint); err == nil {
				listen[port] = true
			}
		}
	}
	if !listen["4317"] || !listen["4318"] {
		t.Errorf("collector receivers listen on %v, want 4317 and 4318", listen)
	}

	senders := 0
	for _, name := range p.ServiceNames() {
		v := p.Services[name].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
		if v == nil {
			continue
		}
		senders++
		u, err := url.Parse(*v)
		if err != nil {
			t.Errorf("service %s: OTEL_EXPORTER_OTLP_ENDPOINT %q: %v", name, *v, err)
			continue
		}
		if u.Hostname() != "collector" || !listen[u.Port()] {
			t.Errorf("service %s: OTEL_EXPORTER_OTLP_ENDPOINT %q is not a collector receiver (collector:%v)", name, *v, keys(listen))
		}
		if proto := p.Services[name].Environment["OTEL_EXPORTER_OTLP_PROTOCOL"]; proto != nil && strings.HasPrefix(*proto, "http") && u.Port() != "4318" {
			t.Errorf("service %s: protocol %s but endpoint port %s", name, *proto, u.Port())
		}
	}
	for _, name := range []string{"orders", "inventory"} {
		if p.Services[name].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == nil {
			t.Errorf("service %s does not send OTLP to the collector", name)
		}
	}

	if len(cc.Exporters) == 0 {
		t.Fatal("collector config has no exporters")
	}
	for name, e := range cc.Exporters {
		if e.Endpoint == "" {
			continue // debug
		}
		ep := e.Endpoint
		if m := envDefault.FindStringSubmatch(ep); m != nil {
			ep = m[1]
		}
		host := ep
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			host = u.Host
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if _, ok := p.Services[host]; !ok {
			t.Errorf("collector exporter %s sends to %q, not a service of the stack", name, e.Endpoint)
		}
	}

	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "deploy/prometheus/prometheus.yml", &prom)
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, _, err := net.SplitHostPort(target)
				if err != nil {
					t.Errorf("prometheus job %s: target %q: %v", sc.JobName, target, err)
					continue
				}
				if _, ok := p.Services[host]; !ok && host != "localhost" {
					t.Errorf("prometheus job %s scrapes %q, not a service of the stack", sc.JobName, target)
				}
			}
		}
	}
}

func within(root, path string) bool {
	r, err := filepath.Rel(root, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
