package check

// Live tests: what a user sees in Jaeger and Prometheus once the stack has
// run the example services. .ci/stack-live.sh starts the real components on
// loopback, drives them, and runs these with LIVE_JAEGER_URL and
// LIVE_PROMETHEUS_URL set; without them they are skipped.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

func liveURL(t *testing.T, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		t.Skipf("%s not set: run .ci/stack-live.sh", env)
	}
	return strings.TrimRight(u, "/")
}

var liveClient = &http.Client{Timeout: 30 * time.Second}

// liveGet fetches u and returns the body of a 200 answer.
func liveGet(u string) ([]byte, error) {
	resp, err := liveClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, b)
	}
	return b, nil
}

func liveJSON(t *testing.T, u string, v any) []byte {
	t.Helper()
	b, err := liveGet(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return b
}

// Jaeger's query API (/api/traces), the parts the tests read.
type jaegerTraces struct {
	Data []jaegerTrace `json:"data"`
}

type jaegerTrace struct {
	TraceID   string       `json:"traceID"`
	Spans     []jaegerSpan `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func jaegerTracesOf(t *testing.T, base, service string) ([]jaegerTrace, []byte) {
	t.Helper()
	var tr jaegerTraces
	raw := liveJSON(t, base+"/api/traces?service="+service+"&lookback=1h&limit=5000", &tr)
	if len(tr.Data) == 0 {
		t.Fatalf("Jaeger has no trace of %s", service)
	}
	return tr.Data, raw
}

func TestLiveJaegerServices(t *testing.T) {
	base := liveURL(t, "LIVE_JAEGER_URL")
	var got struct {
		Data []string `json:"data"`
	}
	liveJSON(t, base+"/api/services", &got)
	for _, want := range []string{"orders", "inventory"} {
		if !strings.Contains(" "+strings.Join(got.Data, " ")+" ", " "+want+" ") {
			t.Errorf("Jaeger's services %v lack %s", got.Data, want)
		}
	}
}

// TestLiveJaegerTraceTree: a request through orders to inventory is one
// trace: orders server (root) -> its steps, if any -> logical client
// "inventory GET" -> attempt client "GET" -> inventory server; failed attempts and 5xx responses carry status
// ERROR, the status code and error.type.
func TestLiveJaegerTraceTree(t *testing.T) {
	base := liveURL(t, "LIVE_JAEGER_URL")
	traces, _ := jaegerTracesOf(t, base, "orders")
	var both, chains, failedAttempts, failedServer int
	for _, tr := range traces {
		byID := map[string]jaegerSpan{}
		for _, s := range tr.Spans {
			byID[s.SpanID] = s
		}
		services := map[string]bool{}
		linked := true
		for _, s := range tr.Spans {
			services[tr.Processes[s.ProcessID].ServiceName] = true
			if _, ok := byID[s.parent()]; s.parent() != "" && !ok {
				linked = false
			}
		}
		if len(services) == 2 && linked {
			both++
		}
		svc := func(s jaegerSpan) string { return tr.Processes[s.ProcessID].ServiceName }
		for _, s := range tr.Spans {
			if svc(s) == "inventory" && s.tag("span.kind") == "server" {
				attempt, ok1 := byID[s.parent()]
				logical, ok2 := byID[attempt.parent()]
				// Between the logical client and the orders server span:
				// the handler's steps (internal spans of orders), if any.
				server, ok3 := byID[logical.parent()]
				for hops := 0; ok3 && hops < 10 && svc(server) == "orders" && server.tag("span.kind") == "internal"; hops++ {
					server, ok3 = byID[server.parent()]
				}
				if ok1 && ok2 && ok3 &&
					attempt.OperationName == "GET" && attempt.tag("span.kind") == "client" && svc(attempt) == "orders" &&
					logical.OperationName == "inventory GET" && svc(logical) == "orders" && logical.tag("span.kind") == "internal" &&
					server.tag("span.kind") == "server" && svc(server) == "orders" && server.parent() == "" {
					chains++
				}
			}
			code := s.tag("http.response.status_code")
			if !strings.HasPrefix(code, "5") {
				continue
			}
			status, errType := s.tag("otel.status_code"), s.tag("error.type")
			switch {
			case s.tag("span.kind") == "client" && s.OperationName == "GET":
				failedAttempts++
			case s.tag("span.kind") == "server" && svc(s) == "orders":
				failedServer++
			default:
				continue
			}
			if status != "ERROR" || errType == "" {
				t.Errorf("trace %s: span %s %q with status %s has otel.status_code=%q error.type=%q, want ERROR and a type",
					tr.TraceID, svc(s), s.OperationName, code, status, errType)
			}
		}
	}
	t.Logf("%d traces of orders, %d span both services with every parent present; %d with orders server -> (steps) -> inventory GET -> GET -> inventory server; %d failed attempts, %d orders 5xx server spans",
		len(traces), both, chains, failedAttempts, failedServer)
	if chains == 0 {
		t.Error("no trace has the tree orders server -> logical client \"inventory GET\" -> attempt client \"GET\" -> inventory server")
	}
	if failedAttempts == 0 || failedServer == 0 {
		t.Error("the mix's failing requests left no failed attempt span or no orders 5xx server span")
	}
}

// liveSecrets are the fake secrets the mix sends (deploy/loadgen/load.sh and
// the demo's requests in .ci/stack-live.sh).
var liveSecrets = []string{
	"demo-token", "wrong-token", "sk_live_demo0123456789", "demo-session-secret",
	"fake-session-cookie-456", "fake-api-key-789", "fake-demo-key-123",
	"4111 1111 1111 1111", "fake-hunter2", "forged-signature", "not-a-signed-token",
}

func TestLiveNoSecretInSpans(t *testing.T) {
	base := liveURL(t, "LIVE_JAEGER_URL")
	for _, service := range []string{"orders", "inventory"} {
		_, raw := jaegerTracesOf(t, base, service)
		for _, s := range liveSecrets {
			if n := strings.Count(string(raw), s); n > 0 {
				i := strings.Index(string(raw), s)
				t.Errorf("%s's spans carry the secret %q %d times, e.g. …%s…", service, s, n, raw[max(0, i-200):min(len(raw), i+len(s)+50)])
			}
		}
	}
}

// promResult is the data of /api/v1/query.
type promResult struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	} `json:"data"`
}

func promQuery(base, q string) (promResult, error) {
	var r promResult
	b, err := liveGet(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if jerr := json.Unmarshal(b, &r); jerr != nil && err == nil {
		err = jerr
	}
	if err == nil && r.Status != "success" {
		err = fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return r, err
}

// liveVars replaces Grafana's variables for a live query: intervals by a
// range the short run fills, every other variable by a regex matching any
// value (the dashboard uses them in =~ matchers).
func liveVars(q string) string {
	return grafanaVar.ReplaceAllStringFunc(q, func(v string) string {
		name := strings.Trim(v, "${}[]")
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "__rate_interval", "__interval", "__range":
			return "1m"
		}
		return ".+"
	})
}

// withoutThreshold drops an alert expression's top-level comparison with a
// number, so that the query returns what the rule compares.
func withoutThreshold(q string) string {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return q
	}
	for {
		p, ok := expr.(*parser.ParenExpr)
		if !ok {
			break
		}
		expr = p.Expr
	}
	if b, ok := expr.(*parser.BinaryExpr); ok && b.Op.IsComparisonOperator() {
		if _, num := b.RHS.(*parser.NumberLiteral); num {
			return b.LHS.String()
		}
	}
	return q
}

// liveNotDriven are the metrics the mix does not make: the series appear
// only when something fails or drops (no CRITICAL record, no drop, no
// failed span or metric export in a healthy run).
var liveNotDriven = map[string]string{
	"otelcol_exporter_send_failed_spans":         "appears at the first failed span export",
	"otelcol_exporter_send_failed_metric_points": "appears at the first failed metric export",
	// The run has no Loki (AGPL, not built here): the logs pipeline's Loki
	// exporter retries (retry_on_failure, 5 minutes) before it counts a failure.
	"otelcol_exporter_send_failed_log_records": "Loki is not run; counted once the exporter's retries give up",
	"otelkit_log_dropped_total":                "appears at the first dropped log record",
	"otelkit_telemetry_dropped_total":          "appears at the first dropped item",
}

func TestLiveDocumentedMetricsExist(t *testing.T) {
	base := liveURL(t, "LIVE_PROMETHEUS_URL")
	var names struct {
		Data []string `json:"data"`
	}
	liveJSON(t, base+"/api/v1/label/__name__/values", &names)
	have := map[string]bool{}
	for _, n := range names.Data {
		have[n] = true
	}
	for n := range documentedMetrics(t) {
		switch {
		case have[n]:
		case liveNotDriven[n] != "":
			t.Logf("%s: no series (%s)", n, liveNotDriven[n])
		default:
			t.Errorf("docs/stack.md lists %s; Prometheus has no such metric after the mix", n)
		}
	}
}

// liveQuery is a PromQL query of the dashboards or the alert rules.
type liveQuery struct{ where, expr string }

func liveQueries(t *testing.T) []liveQuery {
	t.Helper()
	var out []liveQuery
	for _, tg := range prometheusTargets(t) {
		if tg.Expr != "" {
			out = append(out, liveQuery{tg.file + ": " + tg.panel + " " + tg.RefID, liveVars(tg.Expr)})
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "deploy/prometheus/alerts.yml", &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, liveQuery{"alerts.yml: " + r.Alert, withoutThreshold(r.Expr)})
		}
	}
	return out
}

// TestLiveQueriesEvaluate: every dashboard query and alert expression (its
// comparison dropped) evaluates without error; those whose metrics the mix
// drives return data.
func TestLiveQueriesEvaluate(t *testing.T) {
	base := liveURL(t, "LIVE_PROMETHEUS_URL")
	qs := liveQueries(t)
	empty := 0
	for _, q := range qs {
		r, err := promQuery(base, q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		if len(r.Data.Result) > 0 {
			continue
		}
		names, _ := metricNames(q.expr)
		why := ""
		for _, n := range names {
			if liveNotDriven[n] != "" {
				why = n + " " + liveNotDriven[n]
			}
		}
		if why == "" && strings.Contains(q.expr, " offset ") {
			// The ERROR-rate panel's threshold line: the stack is younger
			// than the window it looks back to.
			why = "it reads history from before the run (offset)"
		}
		if why == "" {
			t.Errorf("%s: no data after the mix\n%s", q.where, q.expr)
		} else {
			empty++
			t.Logf("%s: no data (%s)", q.where, why)
		}
	}
	t.Logf("%d queries evaluated, %d empty for a documented reason", len(qs), empty)
}

// TestLiveExemplarsResolve: the server latency histogram carries exemplars
// whose trace IDs Jaeger has.
func TestLiveExemplarsResolve(t *testing.T) {
	prom := liveURL(t, "LIVE_PROMETHEUS_URL")
	jaeger := liveURL(t, "LIVE_JAEGER_URL")
	now := time.Now()
	for _, metric := range []string{"http_server_request_duration_seconds_bucket", "http_client_request_duration_seconds_bucket"} {
		var ex struct {
			Data []struct {
				Exemplars []struct {
					Labels map[string]string `json:"labels"`
				} `json:"exemplars"`
			} `json:"data"`
		}
		liveJSON(t, fmt.Sprintf("%s/api/v1/query_exemplars?query=%s&start=%d&end=%d", prom, metric, now.Add(-time.Hour).Unix(), now.Unix()), &ex)
		ids := map[string]bool{}
		for _, s := range ex.Data {
			for _, e := range s.Exemplars {
				if id := e.Labels["trace_id"]; id != "" {
					ids[id] = true
				}
			}
		}
		if len(ids) == 0 {
			t.Errorf("%s: no exemplar with a trace_id", metric)
			continue
		}
		checked, missing := 0, 0
		for id := range ids {
			if checked == 25 {
				break
			}
			checked++
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
				t.Errorf("%s: exemplar trace_id %q is not a trace ID", metric, id)
				continue
			}
			var tr jaegerTraces
			b, err := liveGet(jaeger + "/api/traces/" + id)
			if err == nil {
				err = json.Unmarshal(b, &tr)
			}
			if err == nil && (len(tr.Data) == 0 || len(tr.Data[0].Spans) == 0) {
				err = errors.New("no span")
			}
			if err != nil {
				if missing == 0 {
					t.Errorf("%s: Jaeger does not resolve the exemplar's trace %s: %v", metric, id, err)
				}
				missing++
			}
		}
		t.Logf("%s: %d exemplar trace IDs, %d looked up in Jaeger, %d missing", metric, len(ids), checked, missing)
		if missing > 0 {
			t.Errorf("%s: %d of %d exemplar traces not in Jaeger", metric, missing, checked)
		}
	}
}
