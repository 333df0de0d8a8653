package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// datasource is one provisioned Grafana data source.
type datasource struct {
	Name     string         `yaml:"name"`
	Type     string         `yaml:"type"`
	UID      string         `yaml:"uid"`
	URL      string         `yaml:"url"`
	JSONData map[string]any `yaml:"jsonData"`
}

func provisionedDatasources(t *testing.T) map[string]datasource {
	t.Helper()
	var f struct {
		Datasources []datasource `yaml:"datasources"`
	}
	readYAML(t, "deploy/grafana/provisioning/datasources/datasources.yaml", &f)
	byUID := map[string]datasource{}
	for _, ds := range f.Datasources {
		if ds.UID == "" {
			t.Errorf("data source %s has no uid: dashboards cannot name it reliably", ds.Name)
			continue
		}
		if _, dup := byUID[ds.UID]; dup {
			t.Errorf("data source uid %s provisioned twice", ds.UID)
		}
		byUID[ds.UID] = ds
	}
	for _, typ := range []string{"prometheus", "loki", "jaeger"} {
		found := false
		for _, ds := range byUID {
			found = found || ds.Type == typ
		}
		if !found {
			t.Errorf("no %s data source provisioned", typ)
		}
	}
	return byUID
}

// dashboard is the part of a dashboard JSON model these tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Datasource *dsRef `json:"datasource"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *dsRef   `json:"datasource"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string `json:"refId"`
	Datasource *dsRef `json:"datasource"`
	Expr       string `json:"expr"`
	Exemplar   bool   `json:"exemplar"`
}

// promTarget is one dashboard query on a Prometheus data source.
type promTarget struct {
	file, panel string
	target
}

// prometheusTargets returns every dashboard query whose data source (its
// own, else its panel's) is a provisioned Prometheus one.
func prometheusTargets(t *testing.T) []promTarget {
	t.Helper()
	dss := provisionedDatasources(t)
	var out []promTarget
	for file, d := range loadDashboards(t) {
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				ref := tg.Datasource
				if ref == nil {
					ref = p.Datasource
				}
				if ref != nil && dss[ref.UID].Type == "prometheus" {
					out = append(out, promTarget{file, p.Title, tg})
				}
			}
		}
	}
	return out
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(repoPath(t, "deploy/grafana/dashboards/*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no dashboards under deploy/grafana/dashboards")
	}
	out := map[string]dashboard{}
	uids := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: dashboard needs a uid and a title", filepath.Base(f))
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share the uid %s", other, filepath.Base(f), d.UID)
		}
		uids[d.UID] = filepath.Base(f)
		out[filepath.Base(f)] = d
	}
	return out
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// TestDashboardDatasourcesProvisioned: every panel, query and variable of
// every dashboard names, by uid, a data source that is provisioned, with
// the same type.
func TestDashboardDatasourcesProvisioned(t *testing.T) {
	dss := provisionedDatasources(t)
	checkRef := func(where string, ref *dsRef) {
		t.Helper()
		ds, ok := dss[ref.UID]
		switch {
		case ref.UID == "":
			t.Errorf("%s: data source without a uid", where)
		case strings.HasPrefix(ref.UID, "$"):
			t.Errorf("%s: data source %s is a variable; name a provisioned uid", where, ref.UID)
		case !ok:
			t.Errorf("%s: data source uid %q is not provisioned (have %v)", where, ref.UID, uidList(dss))
		case ref.Type != "" && ref.Type != ds.Type:
			t.Errorf("%s: data source %s has type %s, provisioned as %s", where, ref.UID, ref.Type, ds.Type)
		}
	}
	for file, d := range loadDashboards(t) {
		n := 0
		for _, p := range allPanels(d.Panels) {
			where := file + ": panel " + strings.TrimSpace(p.Title)
			if p.Datasource == nil {
				if p.Type != "row" && p.Type != "text" {
					t.Errorf("%s (%s): no data source", where, p.Type)
				}
				continue
			}
			n++
			checkRef(where, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("%s: no queries", where)
			}
			for _, tg := range p.Targets {
				ref := tg.Datasource
				if ref == nil {
					ref = p.Datasource
				}
				checkRef(where+" query "+tg.RefID, ref)
			}
		}
		if n == 0 {
			t.Errorf("%s: no panel queries a data source", file)
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				if v.Datasource == nil {
					t.Errorf("%s: variable %s: no data source", file, v.Name)
					continue
				}
				checkRef(file+": variable "+v.Name, v.Datasource)
			}
		}
	}
}

// TestDatasourceLinksProvisioned: the links between data sources (Loki's
// trace_id derived field, Jaeger's trace to logs and metrics, Prometheus's
// exemplars) point at provisioned data sources, and a trace ID in Loki
// links to Jaeger.
func TestDatasourceLinksProvisioned(t *testing.T) {
	dss := provisionedDatasources(t)
	var refs []string // "from: uid"
	lokiToJaeger := false
	for _, ds := range dss {
		for _, df := range listOfMaps(ds.JSONData["derivedFields"]) {
			uid, _ := df["datasourceUid"].(string)
			refs = append(refs, ds.UID+" derived field:"+uid)
			if ds.Type == "loki" && dss[uid].Type == "jaeger" && df["matcherRegex"] == "trace_id" {
				lokiToJaeger = true
			}
		}
		for _, key := range []string{"tracesToLogsV2", "tracesToMetrics", "serviceMap", "lokiSearch"} {
			if m, ok := ds.JSONData[key].(map[string]any); ok {
				uid, _ := m["datasourceUid"].(string)
				refs = append(refs, ds.UID+" "+key+":"+uid)
			}
		}
		for _, ex := range listOfMaps(ds.JSONData["exemplarTraceIdDestinations"]) {
			uid, _ := ex["datasourceUid"].(string)
			refs = append(refs, ds.UID+" exemplars:"+uid)
		}
	}
	for _, r := range refs {
		uid := r[strings.LastIndex(r, ":")+1:]
		if _, ok := dss[uid]; !ok {
			t.Errorf("%s: uid %q is not provisioned", r, uid)
		}
	}
	if !lokiToJaeger {
		t.Error("no Loki derived field links trace_id to the Jaeger data source")
	}
	if jaeger, ok := dss["jaeger"]; ok {
		if m, _ := jaeger.JSONData["tracesToLogsV2"].(map[string]any); m == nil || dss[m["datasourceUid"].(string)].Type != "loki" {
			t.Error("Jaeger has no trace-to-logs link to Loki")
		}
	}
}

func listOfMaps(v any) []map[string]any {
	l, _ := v.([]any)
	var out []map[string]any
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func uidList(dss map[string]datasource) []string {
	var out []string
	for uid := range dss {
		out = append(out, uid)
	}
	sort.Strings(out)
	return out
}

// grafanaVar matches Grafana's variables in a query: $name, ${name},
// ${name:format}, [[name]].
var grafanaVar = regexp.MustCompile(`\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]+\]\]`)

// substituteVars replaces Grafana's variables with values PromQL accepts: a
// duration where a range or step goes, a plain word elsewhere (inside label
// matcher strings).
func substituteVars(q string) string {
	return grafanaVar.ReplaceAllStringFunc(q, func(v string) string {
		name := strings.Trim(v, "${}[]")
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "__rate_interval", "__interval", "__range", "__range_s", "__interval_ms":
			return "5m"
		case "__tags":
			return `job="x"`
		}
		return "x"
	})
}

// metricNames parses a PromQL query with Prometheus's own parser and
// returns the metric names it selects.
func metricNames(q string) ([]string, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(substituteVars(q))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			if name == "" {
				for _, m := range vs.LabelMatchers {
					if m.Name == "__name__" {
						name = m.Value
					}
				}
			}
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}

func TestMetricNames(t *testing.T) {
	got, err := metricNames(`sum by (job) (rate(a_total{job=~"$service"}[$__rate_interval])) / on (job) b{x="${y:regex}"} or {__name__="c"}`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a_total,b,c" {
		t.Errorf("metricNames = %v", got)
	}
}

// documentedMetrics are the Prometheus names of the "Metric names" table
// of docs/stack.md (first column).
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, row := range docTable(t, "Metric names") {
		out[row[0]] = true
	}
	return out
}

// TestQueriesUseDocumentedMetrics: every PromQL query of the dashboards,
// the alert rules and the Jaeger-to-metrics links parses, and selects only
// metric names that docs/stack.md lists; every listed metric is used.
func TestQueriesUseDocumentedMetrics(t *testing.T) {
	documented := documentedMetrics(t)
	dss := provisionedDatasources(t)
	used := map[string]bool{}
	check := func(where, q string) {
		t.Helper()
		names, err := metricNames(q)
		if err != nil {
			t.Errorf("%s: PromQL does not parse: %v\n%s", where, err, q)
			return
		}
		if len(names) == 0 {
			t.Errorf("%s: query selects no metric: %s", where, q)
		}
		for _, n := range names {
			used[n] = true
			if !documented[n] {
				t.Errorf("%s: metric %s is not in docs/stack.md's Metric names table", where, n)
			}
		}
	}

	for _, tg := range prometheusTargets(t) {
		check(tg.file+": panel "+tg.panel+" query "+tg.RefID, tg.Expr)
	}
	for file, d := range loadDashboards(t) {
		for _, v := range d.Templating.List {
			if v.Datasource != nil && dss[v.Datasource.UID].Type == "prometheus" {
				// label_values(metric, label) is Grafana's, not PromQL.
				if m := regexp.MustCompile(`^label_values\(\s*([^,]+),`).FindStringSubmatch(v.Definition); m != nil {
					check(file+": variable "+v.Name, m[1])
				}
			}
		}
	}

	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "deploy/prometheus/alerts.yml", &rules)
	nAlerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			nAlerts++
			check("alerts.yml: "+r.Alert+r.Record, r.Expr)
		}
	}
	if nAlerts == 0 {
		t.Error("alerts.yml has no rules")
	}

	for _, ds := range dss {
		if m, ok := ds.JSONData["tracesToMetrics"].(map[string]any); ok {
			for _, q := range listOfMaps(m["queries"]) {
				expr, _ := q["query"].(string)
				// $$ is the provisioning file's escape of $.
				check("data source "+ds.UID+": tracesToMetrics "+q["name"].(string), strings.ReplaceAll(expr, "$$", "$"))
			}
		}
	}

	for n := range documented {
		if !used[n] {
			t.Errorf("docs/stack.md lists %s, which no dashboard query or alert uses", n)
		}
	}
}

// TestLatencyPanelsShowExemplars: every Prometheus query of a histogram's
// buckets asks for exemplars, so its panel links a point to its trace
// (the data source's exemplarTraceIdDestinations).
func TestLatencyPanelsShowExemplars(t *testing.T) {
	n := 0
	for _, tg := range prometheusTargets(t) {
		names, err := metricNames(tg.Expr)
		if err != nil {
			continue // TestQueriesUseDocumentedMetrics reports it
		}
		for _, m := range names {
			if strings.HasSuffix(m, "_bucket") {
				n++
				if !tg.Exemplar {
					t.Errorf("%s: panel %s query %s selects %s without \"exemplar\": true", tg.file, tg.panel, tg.RefID, m)
				}
				break
			}
		}
	}
	if n == 0 {
		t.Error("no dashboard query selects a histogram's buckets")
	}
}

// TestAlertsDocumented: every alert rule is described in docs/stack.md's
// "Alert rules" table, and every row there is a rule.
func TestAlertsDocumented(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "deploy/prometheus/alerts.yml", &rules)
	have := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				have[r.Alert] = true
			}
		}
	}
	doc := map[string]bool{}
	for _, row := range docTable(t, "Alert rules") {
		doc[row[0]] = true
		if !have[row[0]] {
			t.Errorf("docs/stack.md describes alert %s, which alerts.yml does not define", row[0])
		}
	}
	for a := range have {
		if !doc[a] {
			t.Errorf("alert %s is not in docs/stack.md's Alert rules table", a)
		}
	}
	for _, want := range []string{"HighErrorRate", "HighLatencyP95", "CriticalLogRecord", "DependencyHTTPErrorRateHigh", "AuthFailures"} {
		if !have[want] {
			t.Errorf("alerts.yml lacks %s", want)
		}
	}
}
