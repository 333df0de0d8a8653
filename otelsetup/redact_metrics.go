package otelsetup

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/otelkit/otelkit/internal/cache"
	"github.com/otelkit/otelkit/internal/wire"
	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Metric attributes are redacted by the rules of span attributes
// (redact.Policy.KeyValue: sensitive keys mask their values, values go
// through the value rules): the data points' attributes of every
// aggregation and the exemplars' filtered attributes, on the way to the
// push exporters (redactingMetricExporter) and on each Prometheus scrape
// (validProducer). The same pass then makes the strings valid UTF-8, as
// validMetricExporter does, so redaction sees the raw bytes and the data
// are walked once. Names, descriptions, units and scopes come from code
// and are only made valid. The resource is redacted once, where it is
// built.

// maxRedactedSeries bounds the attribute sets whose redaction is kept.
// Series past it are redacted on each export.
const maxRedactedSeries = 4096

// metricRedactor redacts metric data by its policy. A series' attribute
// set is redacted (and made valid) once and the result kept by the set's
// Equivalent key (bounded), so an export of series seen before costs one
// lookup per point. A set is counted in otelkit.redact.count when it is
// redacted, not on each export while it is kept. Exemplars' filtered
// attributes (the attributes a View's filter took off the point; usually
// none) vary from one measurement to the next and are scanned on each
// export. What the SDK passes in is never modified: changed parts are
// copies.
type metricRedactor struct {
	p      *redact.Policy
	series *cache.Memo[attribute.Distinct, redactedSet]
}

// redactedSet is a set and its redacted, valid form (out == in when
// clean).
type redactedSet struct {
	in, out attribute.Set
	changed bool
}

func newMetricRedactor(p *redact.Policy) *metricRedactor {
	return &metricRedactor{p: p, series: cache.New[attribute.Distinct, redactedSet](maxRedactedSeries, nil)}
}

// rewrite returns rm, or a copy of it with the redacted and mended parts
// replaced.
func (r *metricRedactor) rewrite(rm *metricdata.ResourceMetrics) *metricdata.ResourceMetrics {
	pass := metricPass{r: r}
	out := rewriteResourceMetrics(rm, &pass)
	r.series.StoreAll(pass.added)
	return out
}

// redactSet redacts s's attributes and makes them valid UTF-8.
func (r *metricRedactor) redactSet(s attribute.Set) redactedSet {
	var kvs []attribute.KeyValue
	for i := range s.Len() {
		kv, _ := s.Get(i)
		if rkv, ch := r.p.KeyValue(kv); ch {
			if kvs == nil {
				kvs = s.ToSlice()
			}
			kvs[i] = rkv
		}
	}
	out := s
	if kvs != nil {
		out = attribute.NewSet(kvs...)
	}
	out, mended := wire.Set(out)
	return redactedSet{in: s, out: out, changed: kvs != nil || mended}
}

// metricPass is one export's redaction: the sets it redacted are added to
// the cache at its end, in one addition.
type metricPass struct {
	r     *metricRedactor
	added map[attribute.Distinct]redactedSet
}

func (*metricPass) scope(s instrumentation.Scope) (instrumentation.Scope, bool) { return wire.Scope(s) }
func (*metricPass) text(s string) (string, bool)                                { return wire.String(s) }

func (x *metricPass) set(s attribute.Set) (attribute.Set, bool) {
	k := s.Equivalent()
	e, ok := x.r.series.Load(k)
	if !ok {
		e, ok = x.added[k]
	}
	// Equivalent keys are hashes: a kept set is used only for an equal
	// one, so a set whose hash collides with a clean one is still
	// redacted.
	if !ok || !e.in.Equals(&s) {
		hit := ok
		e = x.r.redactSet(s)
		if !hit {
			if x.added == nil {
				x.added = make(map[attribute.Distinct]redactedSet)
			}
			x.added[k] = e
		}
	}
	return e.out, e.changed
}

func (x *metricPass) keyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	if len(kvs) == 0 {
		return kvs, false
	}
	r, c1 := x.r.p.KeyValues(kvs)
	r, c2 := wire.KeyValues(r)
	return r, c1 || c2
}

// redactingMetricExporter redacts what it exports and makes it valid
// UTF-8 (metricRedactor): it stands for validMetricExporter when
// redaction is on.
type redactingMetricExporter struct {
	sdkmetric.Exporter
	r *metricRedactor
}

func (e redactingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	return e.Exporter.Export(ctx, e.r.rewrite(rm))
}

// redactResource returns res with its attributes redacted by p (a token in
// OTEL_RESOURCE_ATTRIBUTES, a secret in a command line), or res itself.
func redactResource(p *redact.Policy, res *resource.Resource) *resource.Resource {
	if p == nil {
		return res
	}
	attrs, ch := p.KeyValues(res.Attributes())
	if !ch {
		return res
	}
	return resource.NewWithAttributes(res.SchemaURL(), attrs...)
}

// lateMeterProvider is the meter provider of the redaction policy's
// counter. The policy is built before the SDK meter provider, whose
// resource and exporters it redacts; the counter asks for its instrument
// at its first redaction, which may come first (the resource's). Until set
// gives it the provider, it hands out counters that keep what they are
// given and pass it on once set.
type lateMeterProvider struct {
	embedded.MeterProvider
	mu       sync.Mutex
	mp       metric.MeterProvider
	counters []*lateCounter
}

func (l *lateMeterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mp != nil {
		return l.mp.Meter(name, opts...)
	}
	return &lateMeter{l: l, name: name, opts: opts}
}

// set gives l its provider and the counters handed out so far their
// instruments, adding what they kept.
func (l *lateMeterProvider) set(mp metric.MeterProvider) {
	l.mu.Lock()
	l.mp = mp
	counters := l.counters
	l.counters = nil
	l.mu.Unlock()
	for _, c := range counters {
		c.bind(mp)
	}
}

// lateMeter makes lateCounters; its other instruments do nothing (the
// policy uses none).
type lateMeter struct {
	noop.Meter
	l    *lateMeterProvider
	name string
	opts []metric.MeterOption
}

func (m *lateMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	c := &lateCounter{meter: m.name, meterOpts: m.opts, name: name, opts: opts}
	m.l.mu.Lock()
	mp := m.l.mp
	if mp == nil {
		m.l.counters = append(m.l.counters, c)
	}
	m.l.mu.Unlock()
	if mp != nil {
		c.bind(mp)
	}
	return c, nil
}

type lateCounter struct {
	noop.Int64Counter
	meter     string
	meterOpts []metric.MeterOption
	name      string
	opts      []metric.Int64CounterOption

	real    atomic.Pointer[metric.Int64Counter]
	mu      sync.Mutex
	pending []lateAdd
}

type lateAdd struct {
	n    int64
	opts []metric.AddOption
}

func (c *lateCounter) Add(ctx context.Context, n int64, opts ...metric.AddOption) {
	if r := c.real.Load(); r != nil {
		(*r).Add(ctx, n, opts...)
		return
	}
	c.mu.Lock()
	if r := c.real.Load(); r != nil {
		c.mu.Unlock()
		(*r).Add(ctx, n, opts...)
		return
	}
	c.pending = append(c.pending, lateAdd{n, opts})
	c.mu.Unlock()
}

func (c *lateCounter) Enabled(ctx context.Context) bool {
	if r := c.real.Load(); r != nil {
		return (*r).Enabled(ctx)
	}
	return true
}

// bind makes c's instrument from mp and adds what c kept.
func (c *lateCounter) bind(mp metric.MeterProvider) {
	r, err := mp.Meter(c.meter, c.meterOpts...).Int64Counter(c.name, c.opts...)
	if err != nil {
		otel.Handle(err)
	}
	if r == nil {
		r = noop.Int64Counter{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.pending {
		r.Add(context.Background(), a.n, a.opts...)
	}
	c.pending = nil
	c.real.Store(&r)
}
