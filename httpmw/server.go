package httpmw

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/otelkit/otelkit/internal/cache"
	"github.com/otelkit/otelkit/internal/httpconv"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Metric names of the HTTP server metrics, as the semantic conventions
// (and otelhttp) name them.
const (
	MetricServerDuration     = "http.server.request.duration"
	MetricServerRequestSize  = "http.server.request.body.size"
	MetricServerResponseSize = "http.server.response.body.size"
)

// maxSeries bounds the cache of metric attribute sets. Its key is made of
// bounded values (normalized method, scheme, protocol version, status,
// route template), so the bound is only reached by a service with very
// many routes; past it, sets are built per request.
const maxSeries = 1024

// serverTelemetry makes the server span and the HTTP server metrics, by the
// semantic conventions and with the attributes otelhttp gives them, in one
// pass with the rest of the middleware: it shares the middleware's
// response writer, body counter, route, client address and timing instead
// of wrapping the request a second time, and caches the metric attribute
// sets and span names of each series.
type serverTelemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	reqSize  metric.Int64Histogram
	respSize metric.Int64Histogram

	series *cache.Memo[seriesKey, *series]
}

// seriesKey identifies one series of the server metrics. server.address and
// server.port, opt-in in the conventions, are left out: they come from the
// Host header, which any client sets to anything.
type seriesKey struct {
	method string // normalized
	tls    bool
	proto  string // network.protocol.version
	status int
	route  string
}

// series is what a seriesKey gives: the record option carrying its
// attribute set, and the span name.
type series struct {
	opts     []metric.RecordOption
	spanName string
}

var serverKind = trace.WithSpanKind(trace.SpanKindServer)

func newServerTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) *serverTelemetry {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(scope)
	t := &serverTelemetry{tracer: tp.Tracer(scope), series: cache.New(maxSeries, newSeries)}
	var err error
	if t.duration, err = meter.Float64Histogram(MetricServerDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests."),
		metric.WithExplicitBucketBoundaries(httpconv.DurationBuckets()...)); err != nil {
		otel.Handle(fmt.Errorf("httpmw: %s: %w", MetricServerDuration, err))
		t.duration = noop.Float64Histogram{}
	}
	if t.reqSize, err = meter.Int64Histogram(MetricServerRequestSize,
		metric.WithUnit("By"),
		metric.WithDescription("Size of HTTP server request bodies.")); err != nil {
		otel.Handle(fmt.Errorf("httpmw: %s: %w", MetricServerRequestSize, err))
		t.reqSize = noop.Int64Histogram{}
	}
	if t.respSize, err = meter.Int64Histogram(MetricServerResponseSize,
		metric.WithUnit("By"),
		metric.WithDescription("Size of HTTP server response bodies.")); err != nil {
		otel.Handle(fmt.Errorf("httpmw: %s: %w", MetricServerResponseSize, err))
		t.respSize = noop.Int64Histogram{}
	}
	return t
}

// start extracts the incoming trace context with the global propagator and
// starts the server span as a child of it, with the request's attributes.
func (t *serverTelemetry) start(ctx context.Context, r *http.Request, st *requestState) context.Context {
	ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	method := httpconv.Method(r.Method)
	buf := httpconv.GetAttrs()
	defer buf.Release()
	a := append(buf.A[:0], semconv.HTTPRequestMethodKey.String(method))
	if r.Method != "" && r.Method != method {
		a = append(a, semconv.HTTPRequestMethodOriginal(r.Method))
	}
	a = append(a, semconv.URLScheme(scheme(r)))
	if host, port := splitHostPort(r.Host); host != "" {
		a = append(a, semconv.ServerAddress(host))
		if port > 0 && port != defaultPort(r) {
			a = append(a, semconv.ServerPort(port))
		}
	}
	a = append(a, semconv.URLPath(st.redactedPath(r)))
	if peer, port := splitHostPort(r.RemoteAddr); peer != "" {
		a = append(a, semconv.NetworkPeerAddress(peer))
		if port > 0 {
			a = append(a, semconv.NetworkPeerPort(port))
		}
	}
	// The client address the middleware trusts: the peer, or what a trusted
	// proxy forwarded; never a forwarding header from anyone else.
	if c := st.clientString(); c != "" {
		a = append(a, semconv.ClientAddress(c))
	}
	if ua := r.UserAgent(); ua != "" {
		a = append(a, semconv.UserAgentOriginal(st.cfg.redact.String(ua)))
	}
	if v := protoVersion(r); v != "" {
		a = append(a, semconv.NetworkProtocolVersion(v))
	}
	a = append(a, attribute.String(AttrRequestID, st.id))
	ctx, st.span = t.tracer.Start(ctx, httpconv.SpanMethod(method), serverKind, trace.WithAttributes(a...))
	return ctx
}

// end completes the span and records the metrics of a served request.
func (t *serverTelemetry) end(ctx context.Context, r *http.Request, st *requestState, route string, status int) {
	defer guard()
	method := httpconv.Method(r.Method)
	s := t.series.Get(seriesKey{method: method, tls: r.TLS != nil, proto: protoVersion(r), status: status, route: route})
	if span := st.span; span.IsRecording() {
		buf := httpconv.GetAttrs()
		defer buf.Release()
		a := append(buf.A[:0], semconv.HTTPResponseStatusCode(status))
		if route != "" {
			a = append(a, semconv.HTTPRoute(route))
			span.SetName(s.spanName)
		}
		if st.body.n > 0 {
			a = append(a, semconv.HTTPRequestBodySize(int(st.body.n)))
		}
		if st.w.bytes > 0 {
			a = append(a, semconv.HTTPResponseBodySize(int(st.w.bytes)))
		}
		if et := errorType(status); et != "" {
			a = append(a, semconv.ErrorTypeKey.String(et))
			if !st.panicked { // recovered() set a more telling status
				span.SetStatus(codes.Error, statusDescription(status))
			}
		}
		span.SetAttributes(a...)
	}
	st.span.End()
	dur := st.end.Sub(st.start).Seconds()
	t.duration.Record(ctx, dur, s.opts...)
	if st.body.n > 0 || r.ContentLength > 0 {
		// A request without a body has no body size to describe.
		t.reqSize.Record(ctx, st.body.n, s.opts...)
	}
	t.respSize.Record(ctx, st.w.bytes, s.opts...)
}

func newSeries(k seriesKey) *series {
	a := make([]attribute.KeyValue, 0, 7)
	a = append(a,
		semconv.HTTPRequestMethodKey.String(k.method),
		semconv.URLScheme(schemeOf(k.tls)),
		semconv.NetworkProtocolName("http"),
		semconv.HTTPResponseStatusCode(k.status),
	)
	if k.proto != "" {
		a = append(a, semconv.NetworkProtocolVersion(k.proto))
	}
	if k.route != "" {
		a = append(a, semconv.HTTPRoute(k.route))
	}
	if et := errorType(k.status); et != "" {
		a = append(a, semconv.ErrorTypeKey.String(et))
	}
	name := httpconv.SpanMethod(k.method)
	if k.route != "" {
		name += " " + k.route
	}
	return &series{
		opts:     []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(a...))},
		spanName: name,
	}
}

// errorType is error.type of a response: its status code for a server
// error (5xx), or for a code outside HTTP's range; "" otherwise.
func errorType(status int) string {
	switch {
	case status >= 500 && status < 600:
		return statusCodes[status-500]
	case status < 100 || status >= 600:
		return "_OTHER"
	}
	return ""
}

func statusDescription(status int) string {
	if status < 100 || status >= 600 {
		return "invalid HTTP status code " + strconv.Itoa(status)
	}
	return ""
}

// statusCodes are "500" to "599", made once.
var statusCodes = func() (s [100]string) {
	for i := range s {
		s[i] = strconv.Itoa(500 + i)
	}
	return s
}()

func scheme(r *http.Request) string { return schemeOf(r.TLS != nil) }

func schemeOf(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

func defaultPort(r *http.Request) int {
	if r.TLS != nil {
		return 443
	}
	return 80
}

// protoVersion returns network.protocol.version of r: "1.1", "2", ...
func protoVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	case r.ProtoMajor == 3:
		return "3"
	}
	return ""
}

// splitHostPort splits "host:port", "[v6]:port", "host" or "v6" without
// allocating. The port is -1 when absent or not a valid port number.
func splitHostPort(hp string) (host string, port int) {
	port = -1
	switch {
	case hp == "":
		return "", port
	case hp[0] == '[':
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", port
		}
		host, hp = hp[1:end], hp[end+1:]
		if !strings.HasPrefix(hp, ":") {
			return host, port
		}
		hp = hp[1:]
	default:
		i := strings.LastIndexByte(hp, ':')
		if i < 0 || strings.IndexByte(hp[:i], ':') >= 0 {
			return hp, port // no port, or a bare IPv6 address
		}
		host, hp = hp[:i], hp[i+1:]
	}
	if len(hp) == 0 || len(hp) > 5 {
		return host, port
	}
	p := 0
	for i := 0; i < len(hp); i++ {
		c := hp[i]
		if c < '0' || c > '9' {
			return host, port
		}
		p = p*10 + int(c-'0')
	}
	if p > 0 && p < 65536 {
		port = p
	}
	return host, port
}
