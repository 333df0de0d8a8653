package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelkit/otelkit/deps"
	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
)

// canaries are fake secrets planted through every door a service has.
var canaries = map[string]string{
	"query":      "canary-query-7f1",
	"auth":       "canary-bearer-7f2",
	"cookie":     "canary-cookie-7f3",
	"apikey":     "canary-apikey-7f4",
	"body":       "canary-body-7f5",
	"group":      "canary-group-7f6",
	"error":      "canary-error-7f7",
	"panic":      "canary-panic-7f8",
	"userinfo":   "canary-userinfo-7f9",
	"depquery":   "canary-depquery-7fa",
	"depfailure": "canary-depfailure-7fb",
	"rawbody":    "canary-rawbody-7fc",
	"stringer":   "canary-stringer-7fd",
}

// connString prints a connection string with its password, which no
// exported field shows: its String method is what the sinks print.
type connString struct{ user, pw, host string }

func (c connString) String() string {
	return "postgres://" + c.user + ":" + c.pw + "@" + c.host + "/orders"
}

// TestNoCanaryInAnySink runs a service built with httpmw, deps and
// logbridge through otelsetup, exporting to the console, a rotating file and
// the collector, and sends it requests that carry canary secrets in headers,
// query strings, userinfo, JSON bodies logged as attributes, nested groups,
// error messages, panic values and dependency URLs. No canary may appear in
// the bytes of any sink, and the ordinary fields beside them must survive.
func TestNoCanaryInAnySink(t *testing.T) {
	col := startCollector(t)
	var console syncBuffer
	logFile := filepath.Join(t.TempDir(), "service.log")
	tel, err := otelsetup.Setup(t.Context(),
		otelsetup.WithServiceName("canary"), otelsetup.WithoutEnvironment(),
		otelsetup.WithEndpoint(col.Endpoint(protoHTTP)), otelsetup.WithConsole(&console),
		otelsetup.WithLogFile(logFile), otelsetup.WithLogLevel(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	shutdownDone := false
	t.Cleanup(func() {
		if !shutdownDone {
			_ = tel.Shutdown(t.Context())
		}
	})

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer backend.Close()
	client := deps.NewClient("payments", nil)
	backendURL := strings.Replace(backend.URL, "http://", "http://svc:"+canaries["userinfo"]+"@", 1)

	mux := http.NewServeMux()
	mux.Handle("POST /orders", httpmw.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			return httpmw.BadRequest("bad body", nil)
		}
		slog.InfoContext(ctx, "order received", "order", body, "visible_field", "keep-me-visible",
			slog.Group("db", slog.String("host", "db.internal"), slog.String("password", canaries["group"])))
		// The body as it came, and a value whose String method shows a secret.
		slog.InfoContext(ctx, "order raw", "raw", json.RawMessage(raw),
			"raw_body", json.RawMessage(fmt.Sprintf(`{"password":%q,"sku":"sku-1"}`, canaries["rawbody"])),
			"dsn", connString{user: "app", pw: canaries["stringer"], host: "db.internal"})
		resp, err := client.Get(backendURL + "/charge?sig=" + canaries["depquery"] + "&currency=EUR")
		if err != nil {
			return err
		}
		resp.Body.Close()
		// A dependency that cannot be reached: *url.Error prints the URL.
		if _, err := client.Get("http://127.0.0.1:1/refund?token=" + canaries["depfailure"]); err != nil {
			slog.WarnContext(ctx, "refund failed", "error", err)
		}
		return fmt.Errorf("charging failed: token=%s: %w", canaries["error"], errors.New("declined"))
	}))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) {
		panic("pricing failed with secret=" + canaries["panic"])
	})
	srv := httptest.NewServer(httpmw.New(mux))
	defer srv.Close()

	body := fmt.Sprintf(`{"sku":"sku-1","password":%q,"note":"keep-note-visible"}`, canaries["body"])
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/orders?api_key="+canaries["query"]+"&visible=keep-query-visible", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+canaries["auth"])
	req.Header.Set("Cookie", "session="+canaries["cookie"])
	req.Header.Set("X-Api-Key", canaries["apikey"])
	req.Header.Set("X-Debug-Log", "1") // request_started at DEBUG logs allow-listed headers
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = srv.Client().Get(srv.URL + "/panic"); err == nil {
		resp.Body.Close()
	}

	if err := tel.Shutdown(t.Context()); err != nil {
		t.Logf("Shutdown: %v", err)
	}
	shutdownDone = true
	fileBytes, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	sinks := map[string]string{
		"console":      console.String(),
		"file":         string(fileBytes),
		"otlp logs":    fmt.Sprintf("%+v", flattenLogs(col.Logs.AllLogs())),
		"otlp spans":   fmt.Sprintf("%+v", flattenSpans(col.Traces.AllTraces())) + spanEvents(col),
		"otlp metrics": metricAttrs(col),
	}
	for sink, data := range sinks {
		if data == "" || data == "[]" {
			t.Errorf("%s received nothing", sink)
		}
		for door, c := range canaries {
			if strings.Contains(data, c) {
				t.Errorf("the %s canary reached the %s sink", door, sink)
			}
		}
	}
	for _, keep := range []string{"keep-me-visible", "keep-note-visible", "db.internal", "currency=EUR", "keep-query-visible"} {
		for _, sink := range []string{"console", "file", "otlp logs"} {
			if !strings.Contains(sinks[sink], keep) {
				t.Errorf("%q did not survive in the %s sink", keep, sink)
			}
		}
	}
}

// spanEvents flattens every span's events and status, where exception
// messages live.
func spanEvents(col *collector) string {
	var b bytes.Buffer
	for _, td := range col.Traces.AllTraces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			ss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < ss.Len(); j++ {
				spans := ss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					s := spans.At(k)
					fmt.Fprintf(&b, "%s %s ", s.Status().Message(), s.Name())
					for e := 0; e < s.Events().Len(); e++ {
						fmt.Fprintf(&b, "%s %v ", s.Events().At(e).Name(), s.Events().At(e).Attributes().AsRaw())
					}
				}
			}
		}
	}
	return b.String()
}

// metricAttrs flattens every metric data point's attributes.
func metricAttrs(col *collector) string {
	var b bytes.Buffer
	for _, md := range col.Metrics.AllMetrics() {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					m := ms.At(k)
					fmt.Fprintf(&b, "%s ", m.Name())
					switch m.Type() {
					case pmetric.MetricTypeHistogram:
						for p := 0; p < m.Histogram().DataPoints().Len(); p++ {
							fmt.Fprintf(&b, "%v ", m.Histogram().DataPoints().At(p).Attributes().AsRaw())
						}
					case pmetric.MetricTypeSum:
						for p := 0; p < m.Sum().DataPoints().Len(); p++ {
							fmt.Fprintf(&b, "%v ", m.Sum().DataPoints().At(p).Attributes().AsRaw())
						}
					case pmetric.MetricTypeGauge:
						for p := 0; p < m.Gauge().DataPoints().Len(); p++ {
							fmt.Fprintf(&b, "%v ", m.Gauge().DataPoints().At(p).Attributes().AsRaw())
						}
					}
				}
			}
		}
	}
	return b.String()
}
