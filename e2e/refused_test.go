package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/otelsetup"
)

// Markers the refusing collector looks for in log bodies and span names.
const (
	refuseMarker  = "refuse-me"  // the whole batch is refused: 400, or gRPC InvalidArgument
	partialMarker = "partial-me" // the batch is taken but for this item: a partial success naming it
)

// refusingCollector is a fake OTLP collector on 127.0.0.1, over HTTP and
// gRPC, that decodes every log and trace request as the Collector does and
// refuses any batch holding an item marked refuseMarker, whole, as a
// collector refuses a batch it cannot take (400 Bad Request, gRPC
// InvalidArgument); it takes a batch holding items marked partialMarker but
// for them, and names them in a partial success. It keeps what it took, by
// log body and span name, and counts requests.
type refusingCollector struct {
	mu       sync.Mutex
	logs     map[string]int // body → copies taken
	spans    map[string]int // name → copies taken
	requests map[string]int // signal → requests
}

func newRefusingCollector() *refusingCollector {
	return &refusingCollector{logs: map[string]int{}, spans: map[string]int{}, requests: map[string]int{}}
}

// take judges one batch of items (log bodies or span names) into kept: it
// reports whether the batch is refused whole and how many items it
// rejected otherwise.
func (c *refusingCollector) take(signal string, items []string, kept map[string]int) (refused bool, rejected int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests[signal]++
	for _, it := range items {
		if strings.Contains(it, refuseMarker) {
			return true, 0
		}
	}
	for _, it := range items {
		if strings.Contains(it, partialMarker) {
			rejected++
			continue
		}
		kept[it]++
	}
	return false, rejected
}

func (c *refusingCollector) takeLogs(ld plog.Logs) (bool, int64) {
	var bodies []string
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				bodies = append(bodies, lr.Body().AsString())
			}
		}
	}
	return c.take("logs", bodies, c.logs)
}

func (c *refusingCollector) takeSpans(td ptrace.Traces) (bool, int64) {
	var names []string
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				names = append(names, s.Name())
			}
		}
	}
	return c.take("traces", names, c.spans)
}

// copies returns, for the items whose key starts with prefix, how many
// distinct ones were taken and the most copies of one.
func (c *refusingCollector) copies(kept map[string]int, prefix string) (distinct, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range kept {
		if strings.HasPrefix(k, prefix) {
			distinct++
			most = max(most, n)
		}
	}
	return distinct, most
}

func (c *refusingCollector) requestsOf(signal string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[signal]
}

// serveHTTP starts the collector's OTLP/HTTP front and returns its URL.
func (c *refusingCollector) serveHTTP(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			return
		}
		var refused bool
		var resp interface{ MarshalProto() ([]byte, error) }
		switch r.URL.Path {
		case "/v1/logs":
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var rejected int64
			refused, rejected = c.takeLogs(req.Logs())
			lr := plogotlp.NewExportResponse()
			if rejected > 0 {
				lr.PartialSuccess().SetRejectedLogRecords(rejected)
				lr.PartialSuccess().SetErrorMessage("marked records rejected")
			}
			resp = lr
		case "/v1/traces":
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var rejected int64
			refused, rejected = c.takeSpans(req.Traces())
			tr := ptraceotlp.NewExportResponse()
			if rejected > 0 {
				tr.PartialSuccess().SetRejectedSpans(rejected)
				tr.PartialSuccess().SetErrorMessage("marked spans rejected")
			}
			resp = tr
		default:
			w.WriteHeader(http.StatusOK)
			return
		}
		if refused {
			http.Error(w, "a marked item cannot be taken", http.StatusBadRequest)
			return
		}
		b, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type refusingLogsGRPC struct {
	*plogotlp.UnimplementedGRPCServer
	c *refusingCollector
}

func (s refusingLogsGRPC) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	resp := plogotlp.NewExportResponse()
	refused, rejected := s.c.takeLogs(req.Logs())
	if refused {
		return resp, status.Error(codes.InvalidArgument, "a marked record cannot be taken")
	}
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(rejected)
		resp.PartialSuccess().SetErrorMessage("marked records rejected")
	}
	return resp, nil
}

type refusingTracesGRPC struct {
	*ptraceotlp.UnimplementedGRPCServer
	c *refusingCollector
}

func (s refusingTracesGRPC) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	resp := ptraceotlp.NewExportResponse()
	refused, rejected := s.c.takeSpans(req.Traces())
	if refused {
		return resp, status.Error(codes.InvalidArgument, "a marked span cannot be taken")
	}
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(rejected)
		resp.PartialSuccess().SetErrorMessage("marked spans rejected")
	}
	return resp, nil
}

// serveGRPC starts the collector's OTLP/gRPC front and returns its URL.
func (c *refusingCollector) serveGRPC(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	plogotlp.RegisterGRPCServer(srv, refusingLogsGRPC{c: c})
	ptraceotlp.RegisterGRPCServer(srv, refusingTracesGRPC{c: c})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// TestRefusedItemCostsOnlyItself feeds batches of 200 log records and 200
// spans, one item of each marked, to a collector that refuses a batch
// holding a marked item whole (400 over HTTP, InvalidArgument over gRPC),
// or takes it but for the marked item (partial success): every other record
// and span arrives exactly once, and exactly one of each is counted lost, as
// rejected, in otelkit.telemetry.dropped and on stderr.
func TestRefusedItemCostsOnlyItself(t *testing.T) {
	const n = 200
	for _, protocol := range protocols {
		for _, marker := range []string{refuseMarker, partialMarker} {
			t.Run(protocol+"/"+marker, func(t *testing.T) {
				col := newRefusingCollector()
				endpoint := col.serveHTTP(t)
				if protocol == protoGRPC {
					endpoint = col.serveGRPC(t)
				}
				reader := sdkmetric.NewManualReader()
				errOut := new(syncBuffer)
				tel := setup(t, append(opts(protocol, endpoint, io.Discard),
					otelsetup.WithErrorOutput(errOut), otelsetup.WithMetricReader(reader),
					otelsetup.WithMetricsExporter("none"), otelsetup.WithRuntimeMetrics(false),
					// One batch of each signal, sent at ForceFlush.
					otelsetup.WithSetting("logs.batch.schedule_delay", "60000"),
					otelsetup.WithSetting("traces.batch.schedule_delay", "60000"))...)
				tracer, log := tel.TracerProvider().Tracer("refused"), tel.Logger("refused")
				for i := range n {
					name := fmt.Sprintf("item %d", i)
					if i == n/3 {
						name += " " + marker
					}
					ctx, span := tracer.Start(context.Background(), name)
					log.InfoContext(ctx, name)
					span.End()
				}
				err := tel.ForceFlush(context.Background())
				t.Logf("ForceFlush: %v", err)
				if marker == refuseMarker && err == nil {
					t.Error("ForceFlush reported no error although two items were refused")
				}
				for _, signal := range []string{"log records", "spans"} {
					if got := droppedMetric(t, reader, signal, "rejected"); got != 1 {
						t.Errorf("otelkit.telemetry.dropped{signal=%q,reason=rejected} = %d, want 1", signal, got)
					}
					if got := droppedMetric(t, reader, signal, "export_failed"); got != 0 {
						t.Errorf("otelkit.telemetry.dropped{signal=%q,reason=export_failed} = %d, want 0", signal, got)
					}
				}
				shutdown(t, tel)
				for kind, kept := range map[string]map[string]int{"log records": col.logs, "spans": col.spans} {
					distinct, most := col.copies(kept, "item ")
					if distinct != n-1 || most != 1 {
						t.Errorf("%s: %d of the %d unmarked arrived, at most %d times each; want all, once", kind, distinct, n-1, most)
					}
					if _, marked := col.copies(kept, "item "+fmt.Sprint(n/3)); marked != 0 {
						t.Errorf("%s: the marked item was taken", kind)
					}
				}
				t.Logf("requests: logs %d, traces %d", col.requestsOf("logs"), col.requestsOf("traces"))
				if marker == partialMarker && (col.requestsOf("logs") != 1 || col.requestsOf("traces") != 1) {
					t.Errorf("a partial success was sent again: %d log and %d trace requests, want 1 each",
						col.requestsOf("logs"), col.requestsOf("traces"))
				}
				for _, want := range []string{"dropped 1 log records (refused", "dropped 1 spans (refused"} {
					if !strings.Contains(errOut.String(), want) {
						t.Errorf("stderr lacks %q:\n%s", want, errOut)
					}
				}
			})
		}
	}
}
