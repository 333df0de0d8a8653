package logbridge

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/log"
)

// otlpSink sends records to OpenTelemetry through the otelslog bridge. With
// a unique-keys provider (see SinkUniqueKeys) it sends records whose keys
// it has checked to be unique there, skipping the SDK's own duplicate
// check, and every other record through the provider that deduplicates.
type otlpSink struct {
	dedup  slog.Handler // on the provider that removes duplicate keys
	unique slog.Handler // nil without SinkUniqueKeys

	// keys are the top-level keys of the WithAttrs attributes; complex is
	// set once they cannot be checked cheaply (a group opened, a group or
	// LogValuer attribute, a key twice), which sends every record to dedup.
	keys    []string
	complex bool
}

func newOTLPSink(scope string, lp, unique log.LoggerProvider) *otlpSink {
	s := &otlpSink{dedup: otelslog.NewHandler(scope, otelslog.WithLoggerProvider(lp))}
	if unique != nil {
		s.unique = otelslog.NewHandler(scope, otelslog.WithLoggerProvider(unique))
	}
	return s
}

func (s *otlpSink) Enabled(ctx context.Context, l slog.Level) bool { return s.dedup.Enabled(ctx, l) }

func (s *otlpSink) Handle(ctx context.Context, r slog.Record) error {
	if s.unique != nil && !s.complex && s.uniqueKeys(ctx, r) {
		return s.unique.Handle(ctx, r)
	}
	return s.dedup.Handle(ctx, r)
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
	s2 := *s
	s2.dedup = s.dedup.WithAttrs(attrs)
	if s.unique != nil {
		s2.unique = s.unique.WithAttrs(attrs)
	}
	s2.keys = append([]string(nil), s.keys...)
	for _, a := range attrs {
		if isEmptyAttr(a) {
			continue
		}
		if !simpleAttr(a) || containsString(s2.keys, a.Key) {
			s2.complex = true
		}
		s2.keys = append(s2.keys, a.Key)
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
