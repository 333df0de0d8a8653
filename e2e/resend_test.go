package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelkit/otelkit/otelsetup"
)

// resendsAfterBrokenConnection is how many times otelsetup sends a batch
// again after the connection broke once the request was written
// (otelsetup/drops.go, maxResends): the collector may have taken it, so
// every resend may be a copy.
const resendsAfterBrokenConnection = 1

// brokenAnswerCollector is a fake OTLP/HTTP collector on 127.0.0.1 that
// reads and decodes every log request whole, keeps its records, and then
// breaks the connection instead of answering: at once, or halfway through
// a 200 answer's body.
type brokenAnswerCollector struct {
	midResponse bool
	mu          sync.Mutex
	copies      map[string]int // body → copies taken
}

func (c *brokenAnswerCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	if r.URL.Path == "/v1/logs" {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err == nil {
			c.mu.Lock()
			for _, rl := range req.Logs().ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						c.copies[lr.Body().AsString()]++
					}
				}
			}
			c.mu.Unlock()
		}
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	if c.midResponse {
		writeHalfAnswer(buf)
	}
}

// writeHalfAnswer writes a 200 answer whose body stops halfway.
func writeHalfAnswer(buf *bufio.ReadWriter) {
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 64\r\n\r\n\x12\x02")
	_ = buf.Flush()
}

func (c *brokenAnswerCollector) counts() (distinct, delivered, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.copies {
		distinct++
		delivered += n
		most = max(most, n)
	}
	return distinct, delivered, most
}

// TestBrokenAnswerResendBounded points the SDK at a collector that takes
// every log request and then closes the connection without an answer, or
// in the middle of one: each batch may be sent again at most
// resendsAfterBrokenConnection times, so 511 distinct records arrive as at
// most 2 × 511 copies (resending until the export timeout made 7 × of it).
func TestBrokenAnswerResendBounded(t *testing.T) {
	const n = 511
	for _, mid := range []bool{false, true} {
		t.Run(map[bool]string{false: "no_answer", true: "mid_response"}[mid], func(t *testing.T) {
			col := &brokenAnswerCollector{midResponse: mid, copies: map[string]int{}}
			srv := httptest.NewServer(col)
			defer srv.Close()
			tel := setup(t, append(opts(protoHTTP, srv.URL, io.Discard),
				otelsetup.WithErrorOutput(io.Discard), otelsetup.WithRuntimeMetrics(false),
				otelsetup.WithTracesExporter("none"), otelsetup.WithMetricsExporter("none"),
				otelsetup.WithSetting("logs.batch.schedule_delay", "20"),
				otelsetup.WithSetting("logs.batch.max_export_batch_size", "64"),
				otelsetup.WithSetting("logs.batch.export_timeout", "10000"))...)
			log := tel.Logger("resend")
			for i := range n {
				log.Info(fmt.Sprintf("record %d", i))
				if i%64 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			// Every export ends with its resends or the export timeout;
			// Shutdown's deadline is above the export timeout.
			shutdownWithin(t, tel, 20*time.Second)
			distinct, delivered, most := col.counts()
			t.Logf("%d distinct records arrived as %d copies, at most %d of one", distinct, delivered, most)
			if distinct != n+1 { // + the start-up record
				t.Errorf("%d distinct records arrived, want %d", distinct, n+1)
			}
			if limit := 1 + resendsAfterBrokenConnection; most > limit {
				t.Errorf("a record arrived %d times; a batch may be sent at most %d times after a broken answer", most, limit)
			}
		})
	}
}

func shutdownWithin(t *testing.T, tel *otelsetup.Telemetry, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = tel.Shutdown(ctx) // the records are reported lost: no answer came
}
