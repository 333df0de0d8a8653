package logbridge

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// otlpSink sends records to OpenTelemetry. Without a unique-keys provider
// (see SinkUniqueKeys) every record goes through the otelslog bridge on the
// provider that removes duplicate keys. With one, records whose keys it has
// checked to be unique skip the SDK's duplicate check there; and of those,
// records made only of plain values (strings, numbers, booleans, durations,
// times) take the direct path: the sink converts them itself, with the
// context fields, in one pass and without the bridge's intermediate buffer.
// Every other record goes through otelslog as before. Values of slog.Any
// reach either path in the form the console prints them (see otlpAny),
// not in otelslog's (fmt's %+v for structs).
type otlpSink struct {
	dedup  slog.Handler   // on the provider that removes duplicate keys
	unique slog.Handler   // nil without SinkUniqueKeys
	direct log.Logger     // the unique-keys provider's logger; nil without it
	redact *redact.Policy // of context fields on the direct path; nil: none

	// keys are the top-level keys of the WithAttrs attributes; complex is
	// set once they cannot be checked cheaply (a group opened, a group or
	// LogValuer attribute, a key twice), which sends every record to dedup.
	keys    []string
	complex bool
	// base are the WithAttrs attributes converted for the direct path;
	// baseOK is false when one of them is not a plain value.
	base   []attribute.KeyValue
	baseOK bool
	// split says whether the direct path's provider runs Processor (see
	// directEmit); shared by the handlers derived with WithAttrs.
	split *atomic.Int32
}

func newOTLPSink(scope string, lp, unique log.LoggerProvider, p *redact.Policy) *otlpSink {
	s := &otlpSink{dedup: otelslog.NewHandler(scope, otelslog.WithLoggerProvider(lp)), redact: p, baseOK: true,
		split: new(atomic.Int32)}
	if unique != nil {
		// otelslog names its logger by the scope alone, as here, so records of
		// both paths share one instrumentation scope.
		s.unique = otelslog.NewHandler(scope, otelslog.WithLoggerProvider(unique))
		s.direct = unique.Logger(scope)
	}
	return s
}

func (s *otlpSink) Enabled(ctx context.Context, l slog.Level) bool { return s.dedup.Enabled(ctx, l) }

func (s *otlpSink) Handle(ctx context.Context, r slog.Record) error {
	r = otlpRecord(r) // values as the console prints them
	if s.unique != nil && !s.complex {
		if s.baseOK && s.emitDirect(ctx, r) {
			return nil
		}
		if s.uniqueKeys(ctx, r) {
			return s.unique.Handle(ctx, r)
		}
	}
	return s.dedup.Handle(ctx, r)
}

// sevOffset maps slog levels to OpenTelemetry severities, as otelslog does:
// DEBUG is SeverityDebug, INFO SeverityInfo, and so on.
const sevOffset = slog.Level(log.SeverityDebug) - slog.LevelDebug

// emitDirect converts r, with the WithAttrs attributes and the context
// fields, and emits it on the unique-keys provider. It reports false, having
// emitted nothing, when the record does not qualify: a value that is not
// plain, a key twice, or more attributes than maxCheckedKeys.
func (s *otlpSink) emitDirect(ctx context.Context, r slog.Record) bool {
	fields := redactedFieldsFrom(ctx, s.redact)
	if len(s.base)+len(fields)+r.NumAttrs() > maxCheckedKeys {
		return false
	}
	d := directPool.Get().(*directEmit)
	kvs := append(d.buf[:0], s.base...)
	defer func() { d.release(len(kvs)) }()
	ok := true
	add := func(a slog.Attr) bool {
		kv, keep, plain := plainKeyValue(a)
		if !plain || (keep && hasKey(kvs, kv.Key)) {
			ok = false
			return false
		}
		if keep {
			kvs = append(kvs, kv)
		}
		return true
	}
	r.Attrs(add)
	for i := 0; ok && i < len(fields); i++ {
		add(fieldAttr(fields[i], s.redact))
	}
	if !ok {
		return false
	}
	var rec log.Record
	rec.SetTimestamp(r.Time)
	rec.SetBody(attribute.StringValue(r.Message))
	rec.SetSeverity(log.Severity(r.Level + sevOffset))
	rec.SetSeverityText(LevelName(r.Level))
	d.Context = ctx
	d.hideFields = len(fields) > 0 // they are on the record: Processor must not add them again
	switch s.split.Load() {
	case splitOn:
		// The log SDK copies a record's attributes one at a time, growing
		// its slice past the inline ones each time; Processor adds the
		// rest in one call instead.
		n := min(len(kvs), inlineAttrs)
		rec.AddAttributes(kvs[:n]...)
		d.extra = kvs[n:]
		s.direct.Emit(d, rec)
	default:
		rec.AddAttributes(kvs...)
		d.probe = true
		s.direct.Emit(d, rec)
		if s.split.Load() == splitUnknown {
			if d.seen {
				s.split.Store(splitOn)
			} else {
				s.split.Store(splitOff)
			}
		}
	}
	return true
}

// inlineAttrs is how many attributes OpenTelemetry's log records (API and
// SDK) keep inline before they allocate.
const inlineAttrs = 5

var directPool = sync.Pool{New: func() any { return new(directEmit) }}

// States of otlpSink.split.
const (
	splitUnknown int32 = iota
	splitOn            // the provider runs Processor: hand it the attributes past the inline ones
	splitOff           // it does not: records carry all their attributes
)

// directEmit is the context of a record emitted on the direct path. It
// hides the WithFields fields when they are already on the record, and
// carries the attributes Processor is to add (extra), or asks it to say it
// ran (probe, seen), which tells the sink whether the provider has a
// Processor at all: until it knows, records carry all their attributes.
//
// They are pooled: processors use the context during OnEmit only (the SDK's
// batch and simple processors keep the record, never the context).
type directEmit struct {
	context.Context
	hideFields  bool
	extra       []attribute.KeyValue
	probe, seen bool
	buf         [maxCheckedKeys]attribute.KeyValue
}

// release returns d to the pool; n attributes of buf were used.
func (d *directEmit) release(n int) {
	clear(d.buf[:n]) // drop references to the record's strings
	d.Context, d.extra = nil, nil
	d.hideFields, d.probe, d.seen = false, false, false
	directPool.Put(d)
}

func (c *directEmit) Value(key any) any {
	if _, ok := key.(fieldsKey); ok && c.hideFields {
		return nil
	}
	return c.Context.Value(key)
}

// plainKeyValue converts a to an OpenTelemetry attribute as otelslog would
// when its value is plain (LogValuers resolved). keep is false for an
// attribute slog handlers omit (an empty group); plain is false when the
// value needs the bridge (a group, an error or other slog.Any value) or the
// key is empty.
func plainKeyValue(a slog.Attr) (kv attribute.KeyValue, keep, plain bool) {
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	k := attribute.Key(a.Key)
	switch v.Kind() {
	case slog.KindString:
		kv = k.String(v.String())
	case slog.KindInt64:
		kv = k.Int64(v.Int64())
	case slog.KindFloat64:
		kv = k.Float64(v.Float64())
	case slog.KindBool:
		kv = k.Bool(v.Bool())
	case slog.KindDuration:
		kv = k.Int64(v.Duration().Nanoseconds())
	case slog.KindTime:
		kv = k.Int64(v.Time().UnixNano())
	case slog.KindUint64:
		if u := v.Uint64(); u > math.MaxInt64 {
			kv = k.Float64(float64(u))
		} else {
			kv = k.Int64(int64(u))
		}
	case slog.KindGroup:
		if len(v.Group()) == 0 {
			return kv, false, true
		}
		return kv, false, false
	default:
		if a.Key == "" && v.Any() == nil {
			return kv, false, true // the empty Attr
		}
		return kv, false, false
	}
	return kv, true, a.Key != ""
}

func hasKey(kvs []attribute.KeyValue, k attribute.Key) bool {
	for i := range kvs {
		if kvs[i].Key == k {
			return true
		}
	}
	return false
}

// maxCheckedKeys bounds the quadratic check; larger records take the
// deduplicating path.
const maxCheckedKeys = 24

// uniqueKeys reports whether the record's attributes, the WithAttrs
// attributes and the context fields (which logbridge.Processor adds) have
// no key twice and no nested groups.
func (s *otlpSink) uniqueKeys(ctx context.Context, r slog.Record) bool {
	fields := fieldsFromContext(ctx)
	if len(s.keys)+len(fields)+r.NumAttrs() > maxCheckedKeys {
		return false
	}
	var buf [maxCheckedKeys]string
	seen := append(buf[:0], s.keys...)
	ok := true
	add := func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindLogValuer {
			// Context fields such as httpmw's user_id are LogValuers that
			// resolve to a string or to nothing; the bridge resolves them
			// the same way.
			a.Value = a.Value.Resolve()
			if isEmptyAttr(a) || (a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0) {
				return true // omitted
			}
		}
		if !simpleAttr(a) || containsString(seen, a.Key) {
			ok = false
			return false
		}
		seen = append(seen, a.Key)
		return true
	}
	for _, f := range fields {
		if !add(f) {
			return false
		}
	}
	r.Attrs(add)
	return ok
}

// simpleAttr reports whether a is a plain key and value: no group (whose
// inner keys would need checking too), no LogValuer (which may resolve to a
// group), no empty key (inlined by the bridge).
func simpleAttr(a slog.Attr) bool {
	k := a.Value.Kind()
	return a.Key != "" && k != slog.KindGroup && k != slog.KindLogValuer
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *otlpSink) WithAttrs(attrs []slog.Attr) slog.Handler {
	attrs = otlpAttrs(attrs)
	s2 := *s
	s2.dedup = s.dedup.WithAttrs(attrs)
	if s.unique != nil {
		s2.unique = s.unique.WithAttrs(attrs)
	}
	s2.keys = append([]string(nil), s.keys...)
	s2.base = append([]attribute.KeyValue(nil), s.base...)
	for _, a := range attrs {
		if isEmptyAttr(a) {
			continue
		}
		if !simpleAttr(a) || containsString(s2.keys, a.Key) {
			s2.complex = true
		}
		s2.keys = append(s2.keys, a.Key)
		if kv, keep, plain := plainKeyValue(a); !plain {
			s2.baseOK = false
		} else if keep {
			s2.base = append(s2.base, kv)
		}
	}
	return &s2
}

func (s *otlpSink) WithGroup(name string) slog.Handler {
	s2 := *s
	s2.dedup = s.dedup.WithGroup(name)
	if s.unique != nil {
		s2.unique = s.unique.WithGroup(name)
	}
	// Later attributes nest in the group; its keys are not checked.
	s2.complex = true
	return &s2
}
