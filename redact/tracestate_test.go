package redact

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// remoteParent is a sampled remote span context with the trace state ts,
// as a propagator makes it from a client's tracestate header.
func remoteParent(t *testing.T, ts string) trace.SpanContext {
	t.Helper()
	state, err := trace.ParseTraceState(ts)
	if err != nil {
		t.Fatal(err)
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
		TraceState: state, Remote: true,
	})
}

// TestSpanExporterRedactsTraceState exports a span whose trace state (from
// its remote parent) and link's trace state hold a token and a sensitive
// member key: their values are redacted, the other members kept in order,
// and the span the SDK passed in is left as it was.
func TestSpanExporterRedactsTraceState(t *testing.T) {
	in := "vendor=" + fakeGitHub + ",dd=s:1;o:rum,session=abc123,ot=th:0"
	const want = "vendor=[REDACTED],dd=s:1;o:rum,session=[REDACTED],ot=th:0"
	for _, hash := range []bool{false, true} {
		var opts []Option
		if hash {
			opts = append(opts, WithHashKey([]byte("fake-hash-key")))
		}
		mem := tracetest.NewInMemoryExporter()
		var raw []sdktrace.ReadOnlySpan
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spanTap{New(opts...).SpanExporter(mem), &raw}))
		ctx := trace.ContextWithRemoteSpanContext(context.Background(), remoteParent(t, in))
		_, sp := tp.Tracer("test").Start(ctx, "GET /", trace.WithLinks(trace.Link{SpanContext: remoteParent(t, in)}))
		sp.End()
		spans := mem.GetSpans()
		_ = tp.Shutdown(context.Background())
		if len(spans) != 1 || len(spans[0].Links) != 1 {
			t.Fatalf("%d spans exported", len(spans))
		}
		for where, got := range map[string]string{"span": spans[0].SpanContext.TraceState().String(), "link": spans[0].Links[0].SpanContext.TraceState().String()} {
			if !hash && got != want {
				t.Errorf("%s trace state %q, want %q", where, got, want)
			}
			if _, err := trace.ParseTraceState(got); err != nil || len(got) < len("vendor=,dd=s:1;o:rum,session=,ot=th:0") {
				t.Errorf("hash=%v: %s trace state %q is not a valid one of 4 members: %v", hash, where, got, err)
			}
			if hash && (got == in || got == want) {
				t.Errorf("hash mode: %s trace state %q", where, got)
			}
		}
		// What the SDK passed in is not modified, and the span's other
		// parts are those of the SDK's span.
		if got := raw[0].SpanContext().TraceState().String(); got != in {
			t.Errorf("the SDK's span now has trace state %q", got)
		}
		if spans[0].SpanContext.SpanID() != raw[0].SpanContext().SpanID() || spans[0].Parent.TraceState().String() != in {
			t.Error("the span context was not kept")
		}
	}
}

// TestTraceStateCleanNotCopied passes clean and empty trace states as
// they are.
func TestTraceStateCleanNotCopied(t *testing.T) {
	p := New()
	for _, in := range []string{"", "dd=s:1;o:rum,ot=th:0;rv:abcdef"} {
		ts, _ := trace.ParseTraceState(in)
		got, ch := p.traceState(ts)
		if ch || got.String() != in {
			t.Errorf("%q: got %q, changed %v", in, got.String(), ch)
		}
	}
}

// spanTap keeps the spans the SDK hands to the exporter and passes them
// on.
type spanTap struct {
	next sdktrace.SpanExporter
	raw  *[]sdktrace.ReadOnlySpan
}

func (s spanTap) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	*s.raw = append(*s.raw, spans...)
	return s.next.ExportSpans(ctx, spans)
}
func (s spanTap) Shutdown(ctx context.Context) error { return s.next.Shutdown(ctx) }
