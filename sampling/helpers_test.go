package sampling_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/otelkit/otelkit/sampling"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSecret is an obvious fake, never a real key.
var testSecret = []byte("fake-test-secret-do-not-use-0123")

// capture is a slog.Handler that keeps every record it handles.
type capture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r.Clone())
	return nil
}

func (c *capture) records() []slog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]slog.Record(nil), c.recs...)
}

// attrs flattens a record's attributes into strings.
func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

func mustNew(t testing.TB, opts ...sampling.Option) *sampling.Policy {
	t.Helper()
	p, err := sampling.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func mustToken(t testing.TB, expiry time.Time) string {
	t.Helper()
	tok, err := sampling.SignToken(testSecret, expiry)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamperToken returns tok with the first character of its signature changed
// to another base64 digit: still well-formed, but the signature no longer
// matches. (Changing the last character instead can leave the token as it
// was, or make it malformed, since that digit carries only four bits.)
func tamperToken(t testing.TB, tok string) string {
	t.Helper()
	dot := strings.IndexByte(tok, '.')
	if dot < 0 || dot+1 >= len(tok) {
		t.Fatalf("token %q has no signature", tok)
	}
	c := byte('A')
	if tok[dot+1] == c {
		c = 'B'
	}
	return tok[:dot+1] + string(c) + tok[dot+2:]
}

func newRequest(remote string, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/orders/7?token=secret", nil)
	r.RemoteAddr = remote
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

// withTrace returns ctx carrying a sampled span context with the given trace
// ID, as the SDK's span of a sampled trace has.
func withTrace(ctx context.Context, id trace.TraceID) context.Context {
	return withSpanContext(ctx, id, trace.FlagsSampled)
}

// withSpanContext returns ctx carrying a span context with the given trace
// ID and flags.
func withSpanContext(ctx context.Context, id trace.TraceID, flags trace.TraceFlags) context.Context {
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    id,
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: flags,
	}))
}

// bridge is a minimal log handler that follows the package's integration
// contract the way logbridge does.
type bridge struct {
	policy *sampling.Policy
	level  slog.Leveler
	sink   slog.Handler
}

func (b *bridge) Enabled(ctx context.Context, level slog.Level) bool {
	if level < b.level.Level() {
		return b.policy.Wants(ctx, level)
	}
	b.policy.ObserveLevel(ctx, level)
	return true
}

func (b *bridge) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= b.level.Level() {
		return b.sink.Handle(ctx, rec)
	}
	req := sampling.FromContext(ctx)
	if req.Enabled(ctx, rec.Level) {
		rec.AddAttrs(slog.String(sampling.SampledByKey, req.SampledBy(ctx)))
		return b.sink.Handle(ctx, rec)
	}
	req.Hold(ctx, rec, b.sink)
	return nil
}

func (b *bridge) WithAttrs(as []slog.Attr) slog.Handler {
	return &bridge{policy: b.policy, level: b.level, sink: b.sink.WithAttrs(as)}
}

func (b *bridge) WithGroup(name string) slog.Handler {
	return &bridge{policy: b.policy, level: b.level, sink: b.sink.WithGroup(name)}
}

func discardLogger() *slog.Logger { return slog.New(&capture{}) }
