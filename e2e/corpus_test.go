package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelmetric "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/internal/secrettest"
	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
)

// corpusKnownLeaks lists the doors, by "shape/door", through which a corpus
// secret still reaches a sink: each entry names an open bug. The test skips
// these and fails if one stops leaking, so the list only shrinks.
var corpusKnownLeaks = map[string]string{}

// corpusStruct is logged with slog.Any and panicked with: Note is printed,
// Hidden (json:"-") never is, by any sink.
type corpusStruct struct {
	Route  string `json:"route"`
	Note   string `json:"note"`
	Hidden string `json:"-"`
}

// corpusError is an error type whose text holds the secret.
type corpusError struct{ text string }

func (e *corpusError) Error() string { return "backend failed: " + e.text }

// corpusDoor is one way a secret enters the service: a marker, which
// reaches the sinks of its signal as it was written, tells that it went
// through.
type corpusDoor struct {
	name   string
	signal string // "logs", "spans" or "metrics": the sinks its marker must reach
}

// corpusMarker is the text that shows a door's record arrived: it holds
// no secret and no redaction rule touches it.
func corpusMarker(door string, i int) string { return "cx:" + door + ":" + strconv.Itoa(i) }

var corpusMarkerRE = regexp.MustCompile(`cx:[a-z_]+:[0-9]+`)

// corpusKeyText is a secret used as a key: the secret itself where it is
// caught alone, else the text it is written in.
func corpusKeyText(s secrettest.Secret) string {
	if s.Alone {
		return s.Value
	}
	return s.Text
}

// corpusHeaderSafe reports whether s may stand in an HTTP header value.
func corpusHeaderSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// corpusTraceStateSafe reports whether s is a valid W3C trace state value.
func corpusTraceStateSafe(s string) bool {
	_, err := trace.ParseTraceState("vendor=" + s)
	return err == nil && len(s) <= 256
}

// corpusURL returns the URL-shaped corpus text u over plain http, host
// and all: the test's deps client dials 127.0.0.1 whatever the host, so
// that host-bound rules (hooks.slack.com) see the URL as a service has it.
func corpusURL(u string) (string, bool) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return "", false
	}
	p.Scheme = "http"
	return p.String(), true
}

// corpusSyslog is a unixgram syslog receiver that keeps every datagram.
type corpusSyslog struct {
	conn *net.UnixConn
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func startCorpusSyslog(t *testing.T) (*corpusSyslog, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "cxsl") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "s.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(8 << 20)
	s := &corpusSyslog{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 1<<20)
		for {
			n, err := conn.Read(b)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.buf.WriteByte('\n')
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.stop)
	return s, path
}

func (s *corpusSyslog) stop() {
	_ = s.conn.Close()
	<-s.done
}

func (s *corpusSyslog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// corpusRun is what one Setup's sinks received.
type corpusRun struct {
	sinks   map[string]string // sink name -> every byte it got
	signal  map[string]string // sink name -> the signal it carries
	markers map[string][]string
	col     *collector
	console string
}

// TestCorpusThroughEveryDoor sends every secret of the corpus
// (internal/secrettest) through every door of a service set up by
// otelsetup (logs, spans, metrics, an httpmw server, a deps client with
// redirects, panics, trace state) and checks every sink: console (JSON over
// HTTP, text over gRPC), a rotating file, syslog datagrams, and what the
// Collector's own receiver got; then a Prometheus scrape. No secret may
// appear in any of them, every door's record must have arrived, and every
// near-miss must arrive unchanged.
func TestCorpusThroughEveryDoor(t *testing.T) {
	secrets := secrettest.Secrets()
	for _, c := range []struct{ protocol, format string }{{protoHTTP, "json"}, {protoGRPC, "text"}} {
		t.Run(c.protocol+"/"+c.format, func(t *testing.T) {
			run := corpusSetupAndSend(t, c.protocol, c.format, secrets)
			corpusCheck(t, run, secrets)
			corpusCheckNearMisses(t, run, c.format)
		})
	}
	t.Run("prometheus", func(t *testing.T) { corpusPrometheus(t, secrets) })
}

func corpusSetupAndSend(t *testing.T, protocol, format string, secrets []secrettest.Secret) *corpusRun {
	// std log is bridged to slog by Setup (slog.SetDefault); put it back.
	prevOut, prevFlags := log.Writer(), log.Flags()
	t.Cleanup(func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) })

	col := startCollector(t)
	syslogRcv, sock := startCorpusSyslog(t)
	var console, errOut syncBuffer
	logFile := filepath.Join(t.TempDir(), "service.log")
	const big = "200000" // no queue may drop a record: the test counts them
	tel, err := otelsetup.Setup(context.Background(),
		otelsetup.WithServiceName("corpus"), otelsetup.WithoutEnvironment(),
		otelsetup.WithEndpoint(col.Endpoint(protocol)), otelsetup.WithProtocol(protocol),
		otelsetup.WithConsole(&console), otelsetup.WithErrorOutput(&errOut),
		otelsetup.WithLogFile(logFile), otelsetup.WithLogLevel(slog.LevelDebug),
		otelsetup.WithSetting("logs.format", format),
		otelsetup.WithSetting("logs.syslog.network", "unixgram"),
		otelsetup.WithSetting("logs.syslog.address", sock),
		otelsetup.WithSetting("logs.async_queue", big),
		otelsetup.WithSetting("logs.batch.max_queue_size", big),
		otelsetup.WithSetting("traces.batch.max_queue_size", big),
		otelsetup.WithRuntimeMetrics(false))
	if err != nil {
		t.Fatal(err)
	}
	shut := false
	t.Cleanup(func() {
		if !shut {
			_ = tel.Shutdown(context.Background())
		}
	})

	markers := map[string][]string{}
	mark := func(signal, door string, i int) string {
		m := corpusMarker(door, i)
		markers[signal] = append(markers[signal], m)
		return m
	}
	ctx := context.Background()
	l := tel.Logger("corpus")
	tr := tel.TracerProvider().Tracer("corpus")
	meter := tel.MeterProvider().Meter("corpus")
	counter, err := meter.Int64Counter("corpus.count")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := meter.Float64Histogram("corpus.latency", redactAllowKeys{otelmetric.WithUnit("s"), []attribute.Key{"m"}})
	if err != nil {
		t.Fatal(err)
	}

	for i, s := range secrets {
		v, k := s.Text, corpusKeyText(s)
		// Logs.
		l.InfoContext(ctx, mark("logs", "msg", i)+" "+v)
		l.InfoContext(ctx, mark("logs", "attr", i), "note", v)
		l.InfoContext(ctx, mark("logs", "attrkey", i), k, "v")
		l.InfoContext(ctx, mark("logs", "group", i), slog.Group(k, "a", 1))
		l.WithGroup(k).InfoContext(ctx, mark("logs", "withgroup", i), "a", 1)
		l.With("note", v).InfoContext(ctx, mark("logs", "with", i))
		l.InfoContext(ctx, mark("logs", "mapval", i), slog.Any("cfg", map[string]any{"note": v, "n": 1}))
		l.InfoContext(ctx, mark("logs", "mapkey", i), slog.Any("cfg", map[string]any{k: "v", "n": 1}))
		l.InfoContext(ctx, mark("logs", "struct", i), slog.Any("acct", corpusStruct{Route: "/r", Note: v, Hidden: s.Value}))
		l.InfoContext(ctx, mark("logs", "structptr", i), "acct", &corpusStruct{Route: "/r", Hidden: s.Value})
		l.ErrorContext(ctx, mark("logs", "errchain", i), "error", fmt.Errorf("op: %w", errors.New(v)))
		l.ErrorContext(ctx, mark("logs", "errtype", i), "error", fmt.Errorf("op: %w", &corpusError{v}))
		log.Printf("%s %s", mark("logs", "stdlog", i), v)
		l.InfoContext(logbridge.WithFields(ctx, slog.String("note", v)), mark("logs", "fields", i))
		l.InfoContext(logbridge.WithFields(ctx, slog.String(k, "v")), mark("logs", "fieldskey", i))

		// Spans: the name, attribute value and key, an event, an error, the status.
		sctx, sp := tr.Start(ctx, mark("spans", "span", i)+" "+v,
			trace.WithAttributes(attribute.String("note", v), attribute.String(k, "v")))
		sp.AddEvent("event "+v, trace.WithAttributes(attribute.String("note", v), attribute.String(k, "v")))
		sp.RecordError(fmt.Errorf("op: %w", &corpusError{v}))
		sp.SetStatus(codes.Error, v)

		// Metrics: a counter's attribute value and key; a histogram whose
		// exemplar (in the sampled span) gets them as filtered attributes.
		attrs := otelmetric.WithAttributes(attribute.String("m", mark("metrics", "metric", i)),
			attribute.String("note", v), attribute.String(k, "v"))
		counter.Add(sctx, 1, attrs)
		hist.Record(sctx, 0.25, attrs)
		sp.End()
	}
	nearMisses := secrettest.NearMisses()
	for i, n := range nearMisses {
		l.InfoContext(ctx, corpusMarker("near", i)+" "+n.Text, "note", n.Text)
	}

	corpusHTTP(t, tel, secrets, mark)

	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	shut = true
	syslogRcv.stop()
	file, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if e := errOut.String(); e != "" {
		t.Errorf("the SDK reported: %s", e)
	}
	run := &corpusRun{
		sinks: map[string]string{
			"console " + format: console.String(),
			"file":              string(file),
			"syslog":            syslogRcv.String(),
			"otlp logs":         corpusJSON(t, col.Logs.AllLogs(), (&plog.JSONMarshaler{}).MarshalLogs),
			"otlp spans":        corpusJSON(t, col.Traces.AllTraces(), (&ptrace.JSONMarshaler{}).MarshalTraces),
			"otlp metrics":      corpusJSON(t, col.Metrics.AllMetrics(), (&pmetric.JSONMarshaler{}).MarshalMetrics),
		},
		signal: map[string]string{
			"console " + format: "logs", "file": "logs", "syslog": "logs", "otlp logs": "logs",
			"otlp spans": "spans", "otlp metrics": "metrics",
		},
		markers: markers,
		col:     col,
		console: console.String(),
	}
	return run
}

// corpusHTTP sends every secret through a real httpmw server on 127.0.0.1
// (query, path, headers, trace state, panics) and a deps client (outgoing
// query, URL-shaped texts such as webhooks, redirects).
func corpusHTTP(t *testing.T, tel *otelsetup.Telemetry, secrets []secrettest.Secret, mark func(signal, door string, i int) string) {
	secretOf := func(r *http.Request) secrettest.Secret {
		i, err := strconv.Atoi(r.URL.Query().Get("i"))
		if err != nil || i < 0 || i >= len(secrets) {
			panic("corpus: bad index")
		}
		return secrets[i]
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer backend.Close()
	// Every host the client is asked for is the backend on 127.0.0.1.
	var dialer net.Dialer
	base := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, "tcp", backend.Listener.Addr().String())
	}}
	defer base.CloseIdleConnections()
	client := deps.NewClient("corpus-backend", &http.Client{Timeout: 10 * time.Second, Transport: base})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /panic/string", func(w http.ResponseWriter, r *http.Request) { panic(secretOf(r).Text) })
	mux.HandleFunc("GET /panic/error", func(w http.ResponseWriter, r *http.Request) { panic(&corpusError{secretOf(r).Text}) })
	mux.HandleFunc("GET /panic/struct", func(w http.ResponseWriter, r *http.Request) {
		s := secretOf(r)
		panic(corpusStruct{Route: "/panic/struct", Note: s.Text, Hidden: s.Value})
	})
	// /redirect answers 302 to the URL in its "to" parameter, on the backend.
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	srv := startMiddlewareServer(t, tel, mux)
	defer srv.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	get := func(u string, header http.Header) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatalf("request %q: %v", u, err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %q: %v", u, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	call := func(u string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("deps GET %q: %v", u, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}

	for i, s := range secrets {
		idx := "&i=" + strconv.Itoa(i)
		// Headers that are logged or recorded: User-Agent, Referer, and
		// (at DEBUG, asked for by X-Debug-Log) the allow-listed ones.
		h := http.Header{"X-Debug-Log": {"1"}}
		if hv := corpusKeyText(s); corpusHeaderSafe(hv) {
			h.Set("User-Agent", "corpus/1 "+hv)
			h.Set("Referer", "https://app.example.com/?note="+url.QueryEscape(hv))
			h.Set("X-Request-Id", hv)
		}
		if s.Alone && corpusTraceStateSafe(s.Value) {
			h.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			h.Set("tracestate", "vendor="+s.Value+",dd=s:1")
		}
		get(srv.URL+"/items/1?m="+mark("logs", "http", i)+"&note="+url.QueryEscape(s.Text)+idx, h)
		if s.InURL {
			// As it is in the query, and as a path segment.
			get(srv.URL+"/items/1?m="+mark("logs", "query", i)+"&note="+s.Value+"&token="+s.Value+idx, nil)
			get(srv.URL+"/items/"+s.Value+"?m="+mark("logs", "path", i)+idx, nil)
			call(backend.URL + "/dep?m=" + mark("logs", "depquery", i) + "&note=" + s.Value)
			to := backend.URL + "/cb?m=" + corpusMarker("redirect_to", i) + "&note=" + s.Value
			call(srv.URL + "/redirect?m=" + mark("logs", "redirect", i) + "&to=" + url.QueryEscape(to) + idx)
		}
		if u, ok := corpusURL(s.Text); ok {
			// A URL-shaped text (webhooks, query names, signed URLs) as
			// the outgoing URL, and as the target of a redirect.
			call(u)
			call(srv.URL + "/redirect?m=" + mark("logs", "redirect_text", i) + "&to=" + url.QueryEscape(u) + idx)
		}
		for _, kind := range []string{"string", "error", "struct"} {
			get(srv.URL+"/panic/"+kind+"?m="+mark("logs", "panic_"+kind, i)+idx, nil)
		}
	}
}

// corpusJSON is every batch the collector got, as OTLP JSON: resource,
// scope, bodies, attributes at every depth, events, links, exemplars.
func corpusJSON[T any](t *testing.T, batches []T, marshal func(T) ([]byte, error)) string {
	t.Helper()
	var b strings.Builder
	for _, d := range batches {
		j, err := marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// corpusCheck: no secret in any sink, every door's marker in every sink
// of its signal.
func corpusCheck(t *testing.T, run *corpusRun, secrets []secrettest.Secret) {
	t.Helper()
	// Near-misses hold texts that contain some short secrets of the
	// corpus (a "0000FAKE" inside a longer near-miss): they are checked on
	// their own, and taken out of the sinks before the secrets are looked for.
	near := secrettest.NearMisses()
	leaked := map[string]bool{}
	for sink, data := range run.sinks {
		if len(data) < 100 {
			t.Errorf("%s received nothing", sink)
			continue
		}
		got := map[string]bool{}
		for _, m := range corpusMarkerRE.FindAllString(data, -1) {
			got[m] = true
		}
		missing := 0
		for _, m := range run.markers[run.signal[sink]] {
			if !got[m] {
				if missing < 10 {
					t.Errorf("%s: no record of %s arrived", sink, m)
				}
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d records missing", sink, missing, len(run.markers[run.signal[sink]]))
		}
		clean := corpusWithoutNearMisses(data, near)
		for _, s := range secrets {
			if !strings.Contains(clean, s.Value) {
				continue
			}
			for _, door := range corpusLeakDoors(clean, s.Value) {
				key := door + "/" + s.Shape
				leaked[key] = true
				if _, known := corpusKnownLeaks[key]; known {
					continue
				}
				t.Errorf("LEAK %s %s %s: %q:\n%s", sink, door, s.Shape, s.Value, corpusContext(clean, s.Value))
			}
		}
	}
	for key, why := range corpusKnownLeaks {
		if !leaked[key] {
			t.Errorf("%s no longer leaks: remove it from corpusKnownLeaks (%s)", key, why)
		}
	}
	t.Logf("%d secrets x %d sinks checked; markers: %d logs, %d spans, %d metrics",
		len(secrets), len(run.sinks), len(run.markers["logs"]), len(run.markers["spans"]), len(run.markers["metrics"]))
}

// corpusWithoutNearMisses removes every near-miss text, as written and as
// JSON-escaped, from data.
func corpusWithoutNearMisses(data string, near []secrettest.NearMiss) string {
	var olds []string
	for _, n := range near {
		olds = append(olds, n.Text)
		j, _ := json.Marshal(n.Text)
		olds = append(olds, string(j[1:len(j)-1]), strconv.Quote(n.Text))
	}
	// Longest first, so a near-miss inside another is not removed first.
	slices.SortFunc(olds, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		args = append(args, o, "")
	}
	return strings.NewReplacer(args...).Replace(data)
}

// corpusLeakDoors names the doors through which s reached data: the door
// of the marker before each place s appears ("?" when none is).
func corpusLeakDoors(data, s string) []string {
	var doors []string
	for off := 0; ; {
		i := strings.Index(data[off:], s)
		if i < 0 {
			break
		}
		at := off + i
		door := "?"
		if ms := corpusMarkerRE.FindAllString(data[max(0, at-4000):at], -1); len(ms) > 0 {
			door = strings.Split(ms[len(ms)-1], ":")[1]
		}
		if !slices.Contains(doors, door) {
			doors = append(doors, door)
		}
		off = at + len(s)
	}
	return doors
}

// corpusContext shows where in data s is, for the failure message.
func corpusContext(data, s string) string {
	i := strings.Index(data, s)
	lo, hi := max(0, i-300), min(len(data), i+len(s)+100)
	return data[lo:hi]
}

// corpusCheckNearMisses: each near-miss, logged as a message and as an
// attribute value, reaches the collector and the console unchanged.
func corpusCheckNearMisses(t *testing.T, run *corpusRun, format string) {
	t.Helper()
	near := secrettest.NearMisses()
	byBody := map[string]logRecord{}
	for _, r := range flattenLogs(run.col.Logs.AllLogs()) {
		byBody[r.Body] = r
	}
	var lines []map[string]any
	if format == "json" {
		for line := range strings.Lines(run.console) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				lines = append(lines, m)
			}
		}
	}
	for i, n := range near {
		body := corpusMarker("near", i) + " " + n.Text
		r, ok := byBody[body]
		if !ok {
			t.Errorf("near-miss %s: the collector got no record %q", n.Name, body)
		} else if r.Attrs["note"] != n.Text {
			t.Errorf("near-miss %s: the collector got note=%q, want %q", n.Name, r.Attrs["note"], n.Text)
		}
		switch format {
		case "json":
			found := false
			for _, m := range lines {
				if m["msg"] == body {
					found = true
					if m["note"] != n.Text {
						t.Errorf("near-miss %s: the console got note=%q, want %q", n.Name, m["note"], n.Text)
					}
				}
			}
			if !found {
				t.Errorf("near-miss %s: no console line with msg %q", n.Name, body)
			}
		default:
			if !strings.Contains(run.console, n.Text) && !strings.Contains(run.console, strconv.Quote(n.Text)) {
				t.Errorf("near-miss %s: %q is not on the text console", n.Name, n.Text)
			}
		}
	}
}

// corpusPrometheus records every secret as a metric attribute value and
// key on a Setup that serves Prometheus' text format, and scrapes it.
func corpusPrometheus(t *testing.T, secrets []secrettest.Secret) {
	tel := setup(t, otelsetup.WithServiceName("corpus"), otelsetup.WithoutEnvironment(), otelsetup.WithoutGlobals(),
		otelsetup.WithConsole(io.Discard), otelsetup.WithPrometheus("127.0.0.1", 0),
		otelsetup.WithTracesExporter("none"), otelsetup.WithLogsExporter("none"), otelsetup.WithRuntimeMetrics(false))
	meter := tel.MeterProvider().Meter("corpus")
	counter, err := meter.Int64Counter("corpus.count")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := meter.Float64Histogram("corpus.latency", redactAllowKeys{otelmetric.WithUnit("s"), []attribute.Key{"m"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, sp := tel.TracerProvider().Tracer("corpus").Start(context.Background(), "record")
	var markers []string
	for i, s := range secrets {
		m := corpusMarker("prom", i)
		markers = append(markers, m)
		attrs := otelmetric.WithAttributes(attribute.String("m", m), attribute.String("note", s.Text), attribute.String(corpusKeyText(s), "v"))
		counter.Add(ctx, 1, attrs)
		hist.Record(ctx, 0.25, attrs)
	}
	sp.End()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, body)
	}
	for _, m := range markers {
		if !strings.Contains(body, m) {
			t.Errorf("scrape: series %s missing", m)
		}
	}
	for _, s := range secrets {
		if strings.Contains(body, s.Value) {
			t.Errorf("scrape: secret %q (%s) leaked:\n%s", s.Value, s.Shape, corpusContext(body, s.Value))
		}
	}
}
