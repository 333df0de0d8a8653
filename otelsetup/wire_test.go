package otelsetup

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// hostileUTF8 are strings that are not valid UTF-8 in each way the decoder
// knows, with what the wire gets (each run of invalid bytes becomes one
// U+FFFD), and valid strings that must pass untouched.
var hostileUTF8 = []struct {
	name, in, want string
}{
	{"lone 0xff", "\xff", "\uFFFD"},
	{"lone continuation", "a\x80b", "a\uFFFDb"},
	{"truncated 3-byte", "a\xe2\x82", "a\uFFFD"},
	{"truncated 4-byte mid-string", "x\xf0\x9f\x98y", "x\uFFFDy"},
	{"overlong 2-byte slash", "\xc0\xaf", "\uFFFD"},
	{"overlong 3-byte", "\xe0\x80\xaf", "\uFFFD"},
	{"surrogate ED A0 80", "\xed\xa0\x80", "\uFFFD"},
	{"past U+10FFFF", "\xf4\x90\x80\x80", "\uFFFD"},
	{"two runs", "a\xff\xfeb\xfdc", "a\uFFFDb\uFFFDc"},
	{"valid non-ASCII", "héllo 世界 🎉 \u202e", "héllo 世界 🎉 \u202e"},
	{"valid U+FFFD", "\uFFFD", "\uFFFD"},
	{"empty", "", ""},
}

// spanStrings lists every string of a span that OTLP marshals, by place.
func spanStrings(s sdktrace.ReadOnlySpan) map[string]string {
	out := map[string]string{"name": s.Name(), "status": s.Status().Description,
		"scope.name": s.InstrumentationScope().Name, "scope.version": s.InstrumentationScope().Version,
		"scope.schema": s.InstrumentationScope().SchemaURL, "library.name": s.InstrumentationLibrary().Name}
	addKVs(out, "attr", s.Attributes())
	sc := s.InstrumentationScope()
	addKVs(out, "scope.attr", sc.Attributes.ToSlice())
	for _, e := range s.Events() {
		out["event."+e.Name] = e.Name
		addKVs(out, "event.attr", e.Attributes)
	}
	for _, l := range s.Links() {
		addKVs(out, "link.attr", l.Attributes)
	}
	return out
}

// addKVs adds each key and every string in each value, at any depth.
func addKVs(out map[string]string, where string, kvs []attribute.KeyValue) {
	for _, kv := range kvs {
		out[where+".key:"+string(kv.Key)] = string(kv.Key)
		addValue(out, where+"."+string(kv.Key), kv.Value)
	}
}

func addValue(out map[string]string, where string, v attribute.Value) {
	switch v.Type() {
	case attribute.STRING:
		out[where] = v.AsString()
	case attribute.STRINGSLICE:
		for i, s := range v.AsStringSlice() {
			out[where+"["+string(rune('0'+i))+"]"] = s
		}
	case attribute.SLICE:
		for i, e := range v.AsSlice() {
			addValue(out, where+"["+string(rune('0'+i))+"]", e)
		}
	case attribute.MAP:
		addKVs(out, where, v.AsMap())
	}
}

// checkStrings checks that every string is valid UTF-8 and that those that
// were made of in hold want (a valid in must come out as it went in).
func checkStrings(t *testing.T, got map[string]string, in, want string) {
	t.Helper()
	for where, s := range got {
		if !utf8.ValidString(s) {
			t.Errorf("%s = %q: not valid UTF-8", where, s)
		}
		if strings.Contains(s, in) && in != want && in != "" {
			t.Errorf("%s = %q still holds %q", where, s, in)
		}
	}
	wantSome := 0
	for _, s := range got {
		if strings.Contains(s, want) {
			wantSome++
		}
	}
	if want != "" && wantSome < 10 {
		t.Errorf("only %d strings hold %q: %q", wantSome, want, got)
	}
}

// spanRecorder keeps the spans it is given.
type spanRecorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *spanRecorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, spans...)
	return nil
}

func (r *spanRecorder) Shutdown(context.Context) error { return nil }

func TestValidSpanExporter(t *testing.T) {
	for _, tt := range hostileUTF8 {
		t.Run(tt.name, func(t *testing.T) {
			rec := &spanRecorder{}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(validSpanExporter{rec}))
			defer tp.Shutdown(context.Background())
			s := tt.in
			tr := tp.Tracer("tracer"+s, trace.WithInstrumentationVersion("v"+s), trace.WithSchemaURL("https://schema/"+s),
				trace.WithInstrumentationAttributes(attribute.String("sk"+s, "sv"+s)))
			_, linked := tr.Start(context.Background(), "linked")
			linked.End()
			_, sp := tr.Start(context.Background(), "span"+s,
				trace.WithLinks(trace.Link{SpanContext: linked.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("lk"+s, "lv"+s)}}),
				trace.WithAttributes(attribute.String("k"+s, "v"+s), attribute.StringSlice("ss", []string{"ok", "e" + s}),
					attribute.Slice("sl", attribute.StringValue("x"+s), attribute.IntValue(1)),
					attribute.Map("m", attribute.String("mk"+s, "mv"+s), attribute.Map("inner", attribute.String("ik"+s, "iv"+s)))))
			sp.AddEvent("event"+s, trace.WithAttributes(attribute.String("ek"+s, "ev"+s)))
			sp.RecordError(errors.New("boom" + s))
			sp.SetStatus(codes.Error, "status"+s)
			sp.End()
			if len(rec.spans) != 2 {
				t.Fatalf("%d spans exported, want 2", len(rec.spans))
			}
			checkStrings(t, spanStrings(rec.spans[1]), s, tt.want)
		})
	}
}

// TestValidSpansCopyNothingValid checks that spans with nothing to mend
// are passed on as they are: the same slice, the same spans.
func TestValidSpansCopyNothingValid(t *testing.T) {
	rec := &spanRecorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec))
	_, sp := tp.Tracer("t").Start(context.Background(), "héllo", trace.WithAttributes(attribute.String("k", "世界")))
	sp.End()
	_ = tp.Shutdown(context.Background())
	in := rec.spans
	var got []sdktrace.ReadOnlySpan
	exp := validSpanExporter{exportFunc(func(spans []sdktrace.ReadOnlySpan) { got = spans })}
	_ = exp.ExportSpans(context.Background(), in)
	if &got[0] != &in[0] || got[0] != in[0] {
		t.Error("a valid span was copied")
	}
}

type exportFunc func([]sdktrace.ReadOnlySpan)

func (f exportFunc) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	f(spans)
	return nil
}

func (exportFunc) Shutdown(context.Context) error { return nil }

// logRecorder keeps clones of the records it is given.
type logRecorder struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (r *logRecorder) Export(_ context.Context, records []sdklog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range records {
		r.records = append(r.records, records[i].Clone())
	}
	return nil
}

func (r *logRecorder) Shutdown(context.Context) error   { return nil }
func (r *logRecorder) ForceFlush(context.Context) error { return nil }

func (r *logRecorder) all() []sdklog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdklog.Record(nil), r.records...)
}

func recordStrings(r *sdklog.Record) map[string]string {
	out := map[string]string{"event": r.EventName(), "severity": r.SeverityText(),
		"scope.name": r.InstrumentationScope().Name, "scope.version": r.InstrumentationScope().Version}
	addValue(out, "body", r.Body())
	var kvs []attribute.KeyValue
	r.WalkAttributes(func(kv attribute.KeyValue) bool { kvs = append(kvs, kv); return true })
	addKVs(out, "attr", kvs)
	sc := r.InstrumentationScope()
	addKVs(out, "scope.attr", sc.Attributes.ToSlice())
	return out
}

func TestValidLogExporter(t *testing.T) {
	for _, tt := range hostileUTF8 {
		t.Run(tt.name, func(t *testing.T) {
			rec := &logRecorder{}
			lp := validLoggerProvider{sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(validLogExporter{rec})))}
			defer lp.Shutdown(context.Background())
			s := tt.in
			logger := lp.Logger("logger"+s, log.WithInstrumentationVersion("v"+s),
				log.WithInstrumentationAttributes(attribute.String("sk"+s, "sv"+s)))
			var r log.Record
			r.SetEventName("event" + s)
			r.SetSeverityText("sev" + s)
			r.SetBody(attribute.MapValue(attribute.String("bk"+s, "bv"+s), attribute.Map("inner", attribute.String("ik"+s, "iv"+s))))
			r.SetErr(errors.New("boom" + s))
			for _, k := range []string{"a", "b", "c", "d", "e", "f"} { // past the SDK's five inline attributes
				r.AddAttributes(attribute.String(k+s, "v"+s))
			}
			r.AddAttributes(attribute.StringSlice("ss", []string{"ok", "e" + s}), attribute.Slice("sl", attribute.StringValue("x"+s)))
			logger.Emit(context.Background(), r)
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("%d records exported, want 1", len(got))
			}
			checkStrings(t, recordStrings(&got[0]), s, tt.want)
			if n := got[0].AttributesLen(); n < 9 {
				t.Errorf("%d attributes, want 9 or more", n)
			}
		})
	}
}

// TestValidRecordsLeaveInputAlone checks that mending a record works on a
// clone: the batch processor still owns the records it passes in.
func TestValidRecordsLeaveInputAlone(t *testing.T) {
	var in []sdklog.Record
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exportLogs(func(rs []sdklog.Record) {
		for i := range rs {
			in = append(in, rs[i].Clone())
		}
	}))))
	logger := lp.Logger("t")
	for _, body := range []string{"ok", "bad\xff"} {
		var r log.Record
		r.SetBody(attribute.StringValue(body))
		for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
			if body != "ok" && k == "f" {
				k += "\xff"
			}
			r.AddAttributes(attribute.String(k, body))
		}
		logger.Emit(context.Background(), r)
	}
	_ = lp.Shutdown(context.Background())
	out := validRecords(in)
	if &out[0] == &in[0] {
		t.Fatal("records with invalid strings were passed on as they were")
	}
	if in[1].Body().AsString() != "bad\xff" || recordStrings(&in[1])["attr.key:f\xff"] != "f\xff" {
		t.Errorf("the input record was modified: %v", recordStrings(&in[1]))
	}
	if got := recordStrings(&out[1]); got["body"] != "bad\uFFFD" || got["attr.key:f\uFFFD"] != "f\uFFFD" {
		t.Errorf("mended record %v", got)
	}
	clean := in[:1]
	if out := validRecords(clean); &out[0] != &clean[0] {
		t.Error("valid records were copied")
	}
}

type exportLogs func([]sdklog.Record)

func (f exportLogs) Export(_ context.Context, rs []sdklog.Record) error { f(rs); return nil }
func (exportLogs) Shutdown(context.Context) error                       { return nil }
func (exportLogs) ForceFlush(context.Context) error                     { return nil }

// metricStrings lists every string of rm that OTLP marshals.
func metricStrings(rm *metricdata.ResourceMetrics) map[string]string {
	out := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		out["scope.name:"+sm.Scope.Name] = sm.Scope.Name
		out["scope.version:"+sm.Scope.Version] = sm.Scope.Version
		addKVs(out, "scope.attr", sm.Scope.Attributes.ToSlice())
		for _, m := range sm.Metrics {
			out["name:"+m.Name], out["desc:"+m.Description], out["unit:"+m.Unit] = m.Name, m.Description, m.Unit
			add := func(where string, set attribute.Set, filtered ...[]attribute.KeyValue) {
				addKVs(out, m.Name+"."+where, set.ToSlice())
				for _, f := range filtered {
					addKVs(out, m.Name+"."+where+".exemplar", f)
				}
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.Encoded(attribute.DefaultEncoder()), p.Attributes, exemplarAttrs(p.Exemplars)...)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.Encoded(attribute.DefaultEncoder()), p.Attributes, exemplarAttrs(p.Exemplars)...)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.Encoded(attribute.DefaultEncoder()), p.Attributes, exemplarAttrs(p.Exemplars)...)
				}
			case metricdata.ExponentialHistogram[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.Encoded(attribute.DefaultEncoder()), p.Attributes, exemplarAttrs(p.Exemplars)...)
				}
			}
		}
	}
	return out
}

func exemplarAttrs[N int64 | float64](es []metricdata.Exemplar[N]) [][]attribute.KeyValue {
	var out [][]attribute.KeyValue
	for _, e := range es {
		out = append(out, e.FilteredAttributes)
	}
	return out
}

// hostileMeter records s through every kind of instrument, with exemplars
// whose filtered attributes hold s too.
func hostileMeter(t *testing.T, s string, opts ...sdkmetric.Option) *sdkmetric.MeterProvider {
	t.Helper()
	keep := func(kv attribute.KeyValue) bool { return !strings.HasPrefix(string(kv.Key), "drop") }
	mp := sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithExemplarFilter(exemplar.AlwaysOnFilter),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "*"}, sdkmetric.Stream{AttributeFilter: keep})),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "exp.hist"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 20, MaxScale: 5}, AttributeFilter: keep})))...)
	m := mp.Meter("meter"+s, metric.WithInstrumentationVersion("v"+s), metric.WithInstrumentationAttributes(attribute.String("sk"+s, "sv"+s)))
	attrs := metric.WithAttributes(attribute.String("k"+s, "v"+s), attribute.String("plain", "v"+s), attribute.String("drop"+s, "dv"+s))
	ctx := context.Background()
	c, err := m.Int64Counter("count", metric.WithDescription("desc"+s), metric.WithUnit("{x}"))
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 1, attrs)
	c.Add(ctx, 1, metric.WithAttributes(attribute.String("plain", "ok")))
	g, _ := m.Float64Gauge("gauge")
	g.Record(ctx, 1, attrs)
	h, _ := m.Float64Histogram("hist")
	h.Record(ctx, 1, attrs)
	e, _ := m.Int64Histogram("exp.hist")
	e.Record(ctx, 1, attrs)
	return mp
}

// TestValidResourceMetrics checks the UTF-8 pass alone (redaction off)
// and the redacting pass that stands for it when redaction is on.
func TestValidResourceMetrics(t *testing.T) {
	passes := map[string]func(*metricdata.ResourceMetrics) *metricdata.ResourceMetrics{
		"utf8": func(rm *metricdata.ResourceMetrics) *metricdata.ResourceMetrics {
			return rewriteResourceMetrics(rm, utf8Metrics{})
		},
		"redact": newMetricRedactor(redact.New()).rewrite,
	}
	for _, tt := range hostileUTF8 {
		for pass, rewrite := range passes {
			t.Run(pass+"/"+tt.name, func(t *testing.T) {
				reader := sdkmetric.NewManualReader()
				mp := hostileMeter(t, tt.in, sdkmetric.WithReader(reader))
				defer mp.Shutdown(context.Background())
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Fatal(err)
				}
				before := metricStrings(&rm)
				out := rewrite(&rm)
				checkStrings(t, metricStrings(out), tt.in, tt.want)
				// The reader's data is not modified (it reuses it between
				// collections), and valid data is passed on as it is.
				if after := metricStrings(&rm); len(after) != len(before) {
					t.Errorf("input changed: %q, was %q", after, before)
				}
				for k, v := range before {
					if metricStrings(&rm)[k] != v {
						t.Errorf("input %s changed", k)
					}
				}
				if tt.in == tt.want && out != &rm {
					t.Error("valid metrics were copied")
				}
			})
		}
	}
}

// TestValidMetricExporterRace exports hostile metrics every few
// milliseconds while they are recorded: under -race, the wrapper must not
// write to what the SDK still owns.
func TestValidMetricExporterRace(t *testing.T) {
	wrappers := map[string]func(sdkmetric.Exporter) sdkmetric.Exporter{
		"utf8": func(e sdkmetric.Exporter) sdkmetric.Exporter { return validMetricExporter{e} },
		"redact": func(e sdkmetric.Exporter) sdkmetric.Exporter {
			return redactingMetricExporter{e, newMetricRedactor(redact.New())}
		},
	}
	for name, wrap := range wrappers {
		t.Run(name, func(t *testing.T) { metricExporterRace(t, wrap) })
	}
}

func metricExporterRace(t *testing.T, wrap func(sdkmetric.Exporter) sdkmetric.Exporter) {
	var mu sync.Mutex
	var exported int
	exp := wrap(metricExporterFunc(func(rm *metricdata.ResourceMetrics) {
		for k, v := range metricStrings(rm) {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Errorf("invalid %q exported", v)
			}
		}
		mu.Lock()
		exported++
		mu.Unlock()
	}))
	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(2_000_000)) // 2 ms
	mp := hostileMeter(t, "\xff", sdkmetric.WithReader(reader))
	c, _ := mp.Meter("race").Int64Counter("race")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 2000 {
				c.Add(context.Background(), 1, metric.WithAttributes(attribute.Int("i", i%7), attribute.String("drop\xfe", "x\xff"),
					attribute.String("password", "FAKEpw\xff")))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_ = mp.ForceFlush(context.Background())
		}
	})
	wg.Wait()
	if err := mp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exported == 0 {
		t.Error("nothing exported")
	}
}

type metricExporterFunc func(*metricdata.ResourceMetrics)

func (metricExporterFunc) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (metricExporterFunc) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (f metricExporterFunc) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	f(rm)
	return nil
}

func (metricExporterFunc) ForceFlush(context.Context) error { return nil }
func (metricExporterFunc) Shutdown(context.Context) error   { return nil }

func TestValidResource(t *testing.T) {
	res := resource.NewWithAttributes("https://schema/\xff", attribute.String("k\xfe", "v\xff"), attribute.String("ok", "héllo"))
	got := validResource(res)
	if got.SchemaURL() != "https://schema/\uFFFD" {
		t.Errorf("schema URL %q", got.SchemaURL())
	}
	if v, ok := got.Set().Value("k\uFFFD"); !ok || v.AsString() != "v\uFFFD" {
		t.Errorf("resource %v", got.Attributes())
	}
	if v, _ := got.Set().Value("ok"); v.AsString() != "héllo" {
		t.Errorf("valid attribute changed: %v", got.Attributes())
	}
	clean := resource.NewSchemaless(attribute.String("ok", "héllo"))
	if validResource(clean) != clean {
		t.Error("a valid resource was copied")
	}
}

// TestSetupSendsValidUTF8 goes through Setup's public API: exporters given
// in code, the resource from code and from OTEL_RESOURCE_ATTRIBUTES, logger
// names and user attributes. Every string the exporters get is valid, and a
// secret with invalid bytes around it is still redacted (redaction runs
// before the strings are mended).
func TestSetupSendsValidUTF8(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "region=eu%FFwest")
	spans, logs := &spanRecorder{}, &logRecorder{}
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(&bytes.Buffer{}), WithSyncExport(),
		WithSpanExporter(spans), WithLogExporter(logs), WithMetricsExporter("none"),
		WithResourceAttributes(attribute.String("team\xfe", "ops\xff")))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	tel.Logger("svc\xff").Info("note \xff"+secret+"\xfe", "k\xff", "\xfe"+secret+"\xff", "password", "pw\xff")
	_, sp := tel.TracerProvider().Tracer("tr\xff").Start(context.Background(), "span\xff",
		trace.WithAttributes(attribute.String("note", "\xff"+secret+"\xfe")))
	sp.SetStatus(codes.Error, "\xff"+secret)
	sp.End()
	_ = tel.LoggerProvider().Logger("global\xff").Enabled(context.Background(), log.EnabledParameters{})
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []map[string]string
	for _, s := range spans.spans {
		m := spanStrings(s)
		addKVs(m, "resource", s.Resource().Attributes())
		all = append(all, m)
	}
	records := logs.all()
	for i := range records {
		m := recordStrings(&records[i])
		addKVs(m, "resource", records[i].Resource().Attributes())
		all = append(all, m)
	}
	if len(spans.spans) != 1 || len(records) < 2 { // the start-up record and ours
		t.Fatalf("%d spans and %d records exported", len(spans.spans), len(records))
	}
	joined := ""
	for _, m := range all {
		for where, s := range m {
			if !utf8.ValidString(s) {
				t.Errorf("%s = %q: not valid UTF-8", where, s)
			}
			joined += s + "\n"
		}
	}
	if strings.Contains(joined, secret) || strings.Contains(joined, "pw") {
		t.Errorf("a secret between invalid bytes was exported:\n%s", joined)
	}
	for _, want := range []string{"svc\uFFFD", "tr\uFFFD", "span\uFFFD", "eu\uFFFDwest", "ops\uFFFD", "team\uFFFD", "k\uFFFD", "[REDACTED]\uFFFD"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%q not exported", want)
		}
	}
}

// TestLoggerProviderScopeValid checks the provider Setup hands out (and
// installs as the global one): loggers named by other code get a valid
// scope.
func TestLoggerProviderScopeValid(t *testing.T) {
	logs := &logRecorder{}
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}), WithSyncExport(),
		WithLogExporter(logs), WithTracesExporter("none"), WithMetricsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	var r log.Record
	r.SetBody(attribute.StringValue("direct"))
	tel.LoggerProvider().Logger("other\xff", log.WithSchemaURL("s\xfe")).Emit(context.Background(), r)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, rec := range logs.all() {
		if rec.Body().AsString() != "direct" {
			continue
		}
		if sc := rec.InstrumentationScope(); sc.Name != "other\uFFFD" || sc.SchemaURL != "s\uFFFD" {
			t.Errorf("scope %+v", sc)
		}
		return
	}
	t.Error("the record was not exported")
}

// TestPrometheusInvalidLabelValue scrapes a series whose attribute is not
// valid UTF-8: client_golang refuses such a label value, and the whole
// scrape failed with a 500. Now the point is there with U+FFFD, beside the
// rest.
func TestPrometheusInvalidLabelValue(t *testing.T) {
	tel, err := Setup(context.Background(), WithoutGlobals(), WithoutEnvironment(), WithConsole(&bytes.Buffer{}),
		WithPrometheus("127.0.0.1", 0), WithTracesExporter("none"), WithLogsExporter("none"),
		WithResourceAttributes(attribute.String("team", "ops\xff")))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	m := tel.MeterProvider().Meter("scope\xff", metric.WithInstrumentationVersion("v\xfe"))
	c, _ := m.Int64Counter("orders.created", metric.WithDescription("orders \xff"))
	c.Add(context.Background(), 3, metric.WithAttributes(attribute.String("path", "/\xff\xfe")))
	c.Add(context.Background(), 1, metric.WithAttributes(attribute.String("path", "/ok"), attribute.String("k\xff", "v")))
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", rec.Code, body)
	}
	if !utf8.ValidString(body) {
		t.Error("the scrape is not valid UTF-8")
	}
	for _, want := range []string{`path="/` + "\uFFFD" + `"} 3`, `path="/ok"} 1`, "go_goroutine_count", `otel_scope_name="scope` + "\uFFFD", `team="ops` + "\uFFFD"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
}
