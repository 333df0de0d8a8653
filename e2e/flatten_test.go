package e2e

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// logRecord is one received log record with its resource and scope, in plain Go values.
// IDs are lower-case hex, empty when unset.
type logRecord struct {
	TraceID        string
	SpanID         string
	SeverityNumber plog.SeverityNumber
	SeverityText   string
	Body           string
	EventName      string
	Attrs          map[string]any
	Resource       map[string]any
	Scope          string
}

// span is one received span with its resource and scope.
type span struct {
	Name         string
	TraceID      string
	SpanID       string
	ParentSpanID string
	Kind         ptrace.SpanKind
	Attrs        map[string]any
	Resource     map[string]any
	Scope        string
}

// metric is one received metric (one per resource/scope/name) with its data points' count.
type metric struct {
	Name       string
	Unit       string
	Type       pmetric.MetricType
	DataPoints int
	Resource   map[string]any
	Scope      string
}

func flattenLogs(batches []plog.Logs) []logRecord {
	var out []logRecord
	for _, ld := range batches {
		for _, rl := range ld.ResourceLogs().All() {
			res := rl.Resource().Attributes().AsRaw()
			for _, sl := range rl.ScopeLogs().All() {
				scope := sl.Scope().Name()
				for _, lr := range sl.LogRecords().All() {
					out = append(out, logRecord{
						TraceID:        hexID(lr.TraceID()),
						SpanID:         hexID(lr.SpanID()),
						SeverityNumber: lr.SeverityNumber(),
						SeverityText:   lr.SeverityText(),
						Body:           lr.Body().AsString(),
						EventName:      lr.EventName(),
						Attrs:          lr.Attributes().AsRaw(),
						Resource:       res,
						Scope:          scope,
					})
				}
			}
		}
	}
	return out
}

func flattenSpans(batches []ptrace.Traces) []span {
	var out []span
	for _, td := range batches {
		for _, rs := range td.ResourceSpans().All() {
			res := rs.Resource().Attributes().AsRaw()
			for _, ss := range rs.ScopeSpans().All() {
				scope := ss.Scope().Name()
				for _, s := range ss.Spans().All() {
					out = append(out, span{
						Name:         s.Name(),
						TraceID:      hexID(s.TraceID()),
						SpanID:       hexID(s.SpanID()),
						ParentSpanID: hexID(s.ParentSpanID()),
						Kind:         s.Kind(),
						Attrs:        s.Attributes().AsRaw(),
						Resource:     res,
						Scope:        scope,
					})
				}
			}
		}
	}
	return out
}

func flattenMetrics(batches []pmetric.Metrics) []metric {
	var out []metric
	for _, md := range batches {
		for _, rm := range md.ResourceMetrics().All() {
			res := rm.Resource().Attributes().AsRaw()
			for _, sm := range rm.ScopeMetrics().All() {
				scope := sm.Scope().Name()
				for _, m := range sm.Metrics().All() {
					out = append(out, metric{
						Name:       m.Name(),
						Unit:       m.Unit(),
						Type:       m.Type(),
						DataPoints: dataPoints(m),
						Resource:   res,
						Scope:      scope,
					})
				}
			}
		}
	}
	return out
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// hexID renders a trace or span ID as lower-case hex, or "" when it is empty (all zero).
func hexID(id interface {
	IsEmpty() bool
	String() string
}) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

func metricNames(ms []metric) map[string]bool {
	names := make(map[string]bool, len(ms))
	for _, m := range ms {
		names[m.Name] = true
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// logsWithBody returns the records whose body is body.
func logsWithBody(recs []logRecord, body string) []logRecord {
	var out []logRecord
	for _, r := range recs {
		if r.Body == body {
			out = append(out, r)
		}
	}
	return out
}

// spanNamed returns the first span named name, and whether there was one.
func spanNamed(spans []span, name string) (span, bool) {
	for _, s := range spans {
		if s.Name == name {
			return s, true
		}
	}
	return span{}, false
}
