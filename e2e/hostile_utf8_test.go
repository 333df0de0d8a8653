package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelmetric "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
)

// utf8Bad is a byte string that is not UTF-8 in every way the decoder
// knows: a lone 0xFF, a truncated three-byte sequence, an overlong '/', and
// a surrogate encoded in UTF-8.
const utf8Bad = "\xff" + "x\xe2\x82" + "y\xc0\xaf" + "z\xed\xa0\x80"

// utf8Secret is a fake token; with invalid bytes around it, it must still
// be redacted.
const utf8Secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

// TestHostileUTF8ReachesCollector sends a real httpmw service behind Setup
// requests with invalid UTF-8 in the path, query, User-Agent, Referer and
// request ID, mixed with good ones, while user code logs, traces and meters
// invalid UTF-8 through every door (values, keys, groups, messages, logger,
// tracer and meter names, span names, events, links, status, metric
// attributes, the resource from code and from OTEL_RESOURCE_ATTRIBUTES).
// Protobuf refuses to marshal such strings and the exporter then loses its
// whole batch: here every record and span of the run must arrive, metric
// points too, every string the collector received must be valid UTF-8, and
// the secret must be redacted.
func TestHostileUTF8ReachesCollector(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			col := startCollector(t)
			var console, errOut syncBuffer
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "region=eu%FFwest,tier=gold%C0%AF")
			tel := setup(t, append(opts(protocol, col.Endpoint(protocol), &console),
				otelsetup.WithErrorOutput(&errOut),
				otelsetup.WithLogFormat(logbridge.FormatJSON),
				otelsetup.WithRuntimeMetrics(false),
				otelsetup.WithResourceAttributes(attribute.String("team", "ops"+utf8Bad), attribute.String("key"+utf8Bad, "v")))...)

			srv := utf8HostileServer(t, tel)
			requests := utf8HostileRequests(t, srv.URL)
			userSpans := utf8HostileUserCode(t, tel)
			shutdown(t, tel)

			// Every record of the run, the start-up record included, is
			// one console line, but for the one bridged through otelslog.
			wantLogs := len(console.linesContaining(`"time":`)) + 1
			wantSpans := requests + userSpans
			if !eventually(func() bool {
				return col.Logs.LogRecordCount() >= wantLogs && col.Traces.SpanCount() >= wantSpans
			}) {
				t.Errorf("the collector received %d log records and %d spans, want %d and %d; error output:\n%s",
					col.Logs.LogRecordCount(), col.Traces.SpanCount(), wantLogs, wantSpans, errOut.String())
			}
			if got := col.Logs.LogRecordCount(); got != wantLogs {
				t.Errorf("%d log records arrived, want exactly %d", got, wantLogs)
			}
			if got := col.Traces.SpanCount(); got != wantSpans {
				t.Errorf("%d spans arrived, want exactly %d", got, wantSpans)
			}
			recs := flattenLogs(col.Logs.AllLogs())
			completed := 0
			for _, r := range recs {
				if r.Attrs["event"] == "request_completed" {
					completed++
				}
			}
			if completed != requests {
				t.Errorf("%d request_completed records arrived, want %d", completed, requests)
			}
			ms := flattenMetrics(col.Metrics.AllMetrics())
			points := map[string]int{}
			for _, m := range ms {
				points[m.Name] += m.DataPoints
			}
			// The counter's three series: plain, an invalid value, an
			// invalid key (the last export holds them all, cumulative).
			if points["utf8.hostile.count"] < 3 || points["http.server.request.duration"] == 0 || points["utf8.named\uFFFDx\uFFFDy\uFFFDz\uFFFD"] == 0 {
				t.Errorf("metric points %v, want 3 or more of utf8.hostile.count and some of http.server.request.duration and the mended utf8.named", points)
			}

			var bad []string
			bad = append(bad, utf8InvalidInLogs(col.Logs.AllLogs())...)
			bad = append(bad, utf8InvalidInTraces(col.Traces.AllTraces())...)
			bad = append(bad, utf8InvalidInMetrics(col.Metrics.AllMetrics())...)
			for _, b := range bad {
				t.Errorf("received invalid UTF-8: %s", b)
			}
			if errOut.String() != "" {
				t.Errorf("error output not empty:\n%s", errOut.String())
			}

			// The mended values are there, with U+FFFD for the bad bytes.
			all := fmt.Sprintf("%+v %+v %s %s", recs, flattenSpans(col.Traces.AllTraces()), spanEvents(col), metricAttrs(col))
			for _, want := range []string{"/\uFFFD", "bad\uFFFD", "eu\uFFFDwest", "ops\uFFFDx\uFFFDy\uFFFDz\uFFFD", "svc\uFFFD", "span\uFFFD", "event\uFFFD", "status\uFFFD"} {
				if !strings.Contains(all, want) {
					t.Errorf("%q not received", want)
				}
			}
			if strings.Contains(all, utf8Secret) {
				t.Errorf("the secret between invalid bytes reached the collector")
			}
		})
	}
}

// utf8HostileServer serves GET / (any path) through httpmw, logging the
// path it saw and setting it on the span.
func utf8HostileServer(t *testing.T, tel *otelsetup.Telemetry) *httptest.Server {
	logger := tel.Logger("svc" + utf8Bad)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		logger.InfoContext(ctx, "serving "+r.URL.Path, "path_seen", r.URL.Path, "query_seen", r.URL.RawQuery,
			"note", "\xff"+utf8Secret+"\xfe")
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("app.ua", r.UserAgent()),
			attribute.String("app.note", "\xff"+utf8Secret+"\xfe"))
		_, _ = io.WriteString(w, "ok")
	})
	srv := startMiddlewareServer(t, tel, mux)
	t.Cleanup(srv.Close)
	return srv
}

// utf8HostileRequests sends good and hostile requests and returns how many
// got an answer (every one must).
func utf8HostileRequests(t *testing.T, base string) int {
	type hostile struct {
		target  string
		headers map[string]string
	}
	cases := []hostile{
		{target: "/%ff%fe"},
		{target: "/q?x=%ff%fe&y=" + utf8Bad},
		{target: "/ua", headers: map[string]string{"User-Agent": "bad\xff\xfe"}},
		{target: "/ref", headers: map[string]string{"Referer": "http://ref.example/\xff"}},
		{target: "/rid", headers: map[string]string{httpmw.DefaultRequestIDHeader: "id\xff\xfe"}},
		{target: "/all" + "%ed%a0%80", headers: map[string]string{
			"User-Agent": utf8Bad, "Referer": utf8Bad, httpmw.DefaultRequestIDHeader: utf8Bad,
			"Authorization": "Bearer \xff" + utf8Secret,
		}},
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	n := 0
	for i, c := range cases {
		for _, target := range []string{fmt.Sprintf("/good/%d", i), c.target} {
			req, err := http.NewRequest(http.MethodGet, base+target, nil)
			if err != nil {
				t.Fatalf("request %q: %v", target, err)
			}
			for k, v := range c.headers {
				if target == c.target {
					req.Header.Set(k, v)
				}
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("GET %q: %v", target, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %q: status %d", target, resp.StatusCode)
			}
			n++
		}
	}
	return n
}

// utf8HostileUserCode logs, traces and meters invalid UTF-8 through every
// door user code has, and returns the number of spans it ended. Its
// records are on the console, but for one logged through otelslog.
func utf8HostileUserCode(t *testing.T, tel *otelsetup.Telemetry) int {
	ctx := context.Background()
	logger := tel.Logger("user" + utf8Bad)
	logger.Info("message "+utf8Bad,
		slog.String("v", string([]byte{0xff})),
		slog.String("key"+utf8Bad, "k"),
		slog.Group("group"+utf8Bad, slog.String("inner"+utf8Bad, utf8Bad), slog.Int("n", 1)),
		slog.Any("map", map[string]any{"mk" + utf8Bad: "mv" + utf8Bad, "list": []string{"ok", utf8Bad}}),
		slog.Any("strs", []string{"a", utf8Bad}),
		slog.Any("err", errors.New("failed: "+utf8Bad)))
	logger.With(slog.String("with"+utf8Bad, utf8Bad)).WithGroup("wg"+utf8Bad).Warn("grouped", "x", utf8Bad)
	// A logger named by other code, through the provider Setup hands out.
	slog.New(otelslog.NewHandler("otelslog"+utf8Bad, otelslog.WithLoggerProvider(tel.LoggerProvider()),
		otelslog.WithVersion("v"+utf8Bad))).Info("bridged "+utf8Bad, "b", utf8Bad)

	tracer := tel.TracerProvider().Tracer("tracer"+utf8Bad, trace.WithInstrumentationVersion("v"+utf8Bad),
		trace.WithInstrumentationAttributes(attribute.String("sa", utf8Bad)))
	ctx, parent := tracer.Start(ctx, "span"+utf8Bad, trace.WithAttributes(
		attribute.String("a"+utf8Bad, utf8Bad), attribute.StringSlice("ss", []string{"ok", utf8Bad}),
		attribute.Int("n", 1)))
	parent.AddEvent("event"+utf8Bad, trace.WithAttributes(attribute.String("e", utf8Bad)))
	parent.RecordError(errors.New("boom " + utf8Bad))
	parent.SetStatus(codes.Error, "status"+utf8Bad)
	_, child := tracer.Start(ctx, "child", trace.WithLinks(trace.Link{SpanContext: parent.SpanContext(),
		Attributes: []attribute.KeyValue{attribute.String("l"+utf8Bad, utf8Bad)}}))
	child.End()
	parent.End()

	meter := tel.MeterProvider().Meter("meter"+utf8Bad, otelmetric.WithInstrumentationVersion("v"+utf8Bad))
	counter, err := meter.Int64Counter("utf8.hostile.count", otelmetric.WithDescription("desc "+utf8Bad), otelmetric.WithUnit("{x}"))
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("v", "plain")))
	counter.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("v", utf8Bad)))
	counter.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("k"+utf8Bad, "x")))
	// The SDK reports an invalid instrument name but makes the instrument
	// all the same: code that drops the error still exports its points.
	named, _ := meter.Float64Histogram("utf8.named"+utf8Bad, otelmetric.WithUnit("{x"+utf8Bad+"}"))
	named.Record(ctx, 1)
	return 2
}

// utf8InvalidInLogs returns where the received logs hold invalid UTF-8.
func utf8InvalidInLogs(batches []plog.Logs) []string {
	var bad []string
	for _, ld := range batches {
		for _, rl := range ld.ResourceLogs().All() {
			bad = utf8CheckMap(bad, "log resource", rl.Resource().Attributes())
			for _, sl := range rl.ScopeLogs().All() {
				bad = utf8CheckScope(bad, "log scope", sl.Scope())
				for _, lr := range sl.LogRecords().All() {
					bad = utf8CheckStrings(bad, "log record", lr.SeverityText(), lr.EventName())
					bad = utf8CheckValue(bad, "log body", lr.Body())
					bad = utf8CheckMap(bad, "log attributes", lr.Attributes())
				}
			}
		}
	}
	return bad
}

// utf8InvalidInTraces returns where the received spans hold invalid UTF-8.
func utf8InvalidInTraces(batches []ptrace.Traces) []string {
	var bad []string
	for _, td := range batches {
		for _, rs := range td.ResourceSpans().All() {
			bad = utf8CheckMap(bad, "span resource", rs.Resource().Attributes())
			for _, ss := range rs.ScopeSpans().All() {
				bad = utf8CheckScope(bad, "span scope", ss.Scope())
				for _, s := range ss.Spans().All() {
					bad = utf8CheckStrings(bad, "span", s.Name(), s.Status().Message(), s.TraceState().AsRaw())
					bad = utf8CheckMap(bad, "span attributes", s.Attributes())
					for _, e := range s.Events().All() {
						bad = utf8CheckStrings(bad, "span event", e.Name())
						bad = utf8CheckMap(bad, "span event attributes", e.Attributes())
					}
					for _, l := range s.Links().All() {
						bad = utf8CheckStrings(bad, "span link", l.TraceState().AsRaw())
						bad = utf8CheckMap(bad, "span link attributes", l.Attributes())
					}
				}
			}
		}
	}
	return bad
}

// utf8InvalidInMetrics returns where the received metrics hold invalid
// UTF-8.
func utf8InvalidInMetrics(batches []pmetric.Metrics) []string {
	var bad []string
	for _, md := range batches {
		for _, rm := range md.ResourceMetrics().All() {
			bad = utf8CheckMap(bad, "metric resource", rm.Resource().Attributes())
			for _, sm := range rm.ScopeMetrics().All() {
				bad = utf8CheckScope(bad, "metric scope", sm.Scope())
				for _, m := range sm.Metrics().All() {
					bad = utf8CheckStrings(bad, "metric", m.Name(), m.Description(), m.Unit())
					bad = utf8CheckMap(bad, "metric metadata", m.Metadata())
					var attrs []pcommon.Map
					switch m.Type() {
					case pmetric.MetricTypeGauge:
						for _, p := range m.Gauge().DataPoints().All() {
							attrs = append(attrs, p.Attributes())
							for _, e := range p.Exemplars().All() {
								attrs = append(attrs, e.FilteredAttributes())
							}
						}
					case pmetric.MetricTypeSum:
						for _, p := range m.Sum().DataPoints().All() {
							attrs = append(attrs, p.Attributes())
							for _, e := range p.Exemplars().All() {
								attrs = append(attrs, e.FilteredAttributes())
							}
						}
					case pmetric.MetricTypeHistogram:
						for _, p := range m.Histogram().DataPoints().All() {
							attrs = append(attrs, p.Attributes())
							for _, e := range p.Exemplars().All() {
								attrs = append(attrs, e.FilteredAttributes())
							}
						}
					case pmetric.MetricTypeExponentialHistogram:
						for _, p := range m.ExponentialHistogram().DataPoints().All() {
							attrs = append(attrs, p.Attributes())
							for _, e := range p.Exemplars().All() {
								attrs = append(attrs, e.FilteredAttributes())
							}
						}
					case pmetric.MetricTypeSummary:
						for _, p := range m.Summary().DataPoints().All() {
							attrs = append(attrs, p.Attributes())
						}
					}
					for _, a := range attrs {
						bad = utf8CheckMap(bad, "metric point attributes of "+m.Name(), a)
					}
				}
			}
		}
	}
	return bad
}

func utf8CheckScope(bad []string, where string, s pcommon.InstrumentationScope) []string {
	bad = utf8CheckStrings(bad, where, s.Name(), s.Version())
	return utf8CheckMap(bad, where+" attributes", s.Attributes())
}

func utf8CheckStrings(bad []string, where string, ss ...string) []string {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			bad = append(bad, fmt.Sprintf("%s: %q", where, s))
		}
	}
	return bad
}

func utf8CheckMap(bad []string, where string, m pcommon.Map) []string {
	for k, v := range m.All() {
		bad = utf8CheckStrings(bad, where+" key", k)
		bad = utf8CheckValue(bad, where+"."+k, v)
	}
	return bad
}

func utf8CheckValue(bad []string, where string, v pcommon.Value) []string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		bad = utf8CheckStrings(bad, where, v.Str())
	case pcommon.ValueTypeMap:
		bad = utf8CheckMap(bad, where, v.Map())
	case pcommon.ValueTypeSlice:
		for i, e := range v.Slice().All() {
			bad = utf8CheckValue(bad, fmt.Sprintf("%s[%d]", where, i), e)
		}
	}
	return bad
}
