package check

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker-compose.yml")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

// repoPath is a path under the repository root, written with slashes.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

// loadProject loads docker-compose.yml as `docker compose` would: the
// loader resolves paths, applies the schema and checks consistency
// (depends_on targets, networks, volumes). The environment is empty, so the
// result does not depend on the machine.
func loadProject(t *testing.T) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(nil),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// readYAML decodes a repository file into v.
func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// docSection returns the body of the "## title" section of docs/stack.md,
// up to the next heading of the same or a higher level.
func docSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "docs/stack.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start := -1
	for i, l := range lines {
		if start < 0 {
			if strings.TrimSpace(l) == "## "+title {
				start = i + 1
			}
			continue
		}
		if strings.HasPrefix(l, "## ") || strings.HasPrefix(l, "# ") {
			return strings.Join(lines[start:i], "\n")
		}
	}
	if start < 0 {
		t.Fatalf("docs/stack.md has no section %q", "## "+title)
	}
	return strings.Join(lines[start:], "\n")
}

var codeCell = regexp.MustCompile("^`([^`]+)`$")

// docTable returns the rows of the first Markdown table in section, as
// cells with surrounding spaces and a single pair of backticks removed.
func docTable(t *testing.T, section string) [][]string {
	t.Helper()
	var rows [][]string
	inTable := false
	for _, l := range strings.Split(docSection(t, section), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		if !inTable { // the header row
			inTable = true
			continue
		}
		if strings.Trim(l, "|-: ") == "" { // the delimiter row
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(l, "|"), "|") {
			c = strings.TrimSpace(c)
			if m := codeCell.FindStringSubmatch(c); m != nil {
				c = m[1]
			}
			cells = append(cells, c)
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("docs/stack.md section %q has no table", section)
	}
	return rows
}
