package logbridge

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/redact"
)

// Processor is an OpenTelemetry log SDK processor that brings OTLP records
// in line with the console and file sinks: it names the severity of
// CRITICAL records "CRITICAL" (otelslog would say "ERROR+4") and adds the
// fields put in the context with [WithFields] as attributes, redacted by
// the same policy as the handler's. Register it before the exporting
// processor:
//
//	sdklog.NewLoggerProvider(
//		sdklog.WithProcessor(logbridge.NewProcessor(policy)),
//		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
//	)
//
// Processor is safe for concurrent use.
type Processor struct {
	redact *redact.Policy
}

var _ sdklog.Processor = (*Processor)(nil)

// NewProcessor returns a [Processor] that redacts context fields with p (a
// nil p is the default policy, as for the handler).
func NewProcessor(p *redact.Policy) *Processor {
	if p == nil {
		p = defaultRedaction()
	}
	return &Processor{redact: p}
}

// OnEmit rewrites r in place so the processors after it see the change.
func (p *Processor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if d, ok := ctx.(*directEmit); ok {
		// From the handler's direct path: the fields are on the record,
		// the severity text is ours.
		d.seen = true
		if len(d.extra) > 0 {
			r.AddAttributes(d.extra...)
			d.extra = nil // once, should the provider run two Processors
		}
		return nil
	}
	if sev := r.Severity(); sev >= otellog.SeverityDebug {
		// otelslog names levels the slog way; name them ours.
		if text := LevelName(slog.Level(sev) - slog.Level(otellog.SeverityInfo)); text != r.SeverityText() {
			r.SetSeverityText(text)
		}
	}
	if fields := redactedFieldsFrom(ctx, p.redact); len(fields) > 0 {
		var buf [8]attribute.KeyValue
		kvs := buf[:0]
		for _, f := range fields {
			kvs = appendKeyValues(kvs, "", fieldAttr(f, p.redact))
		}
		r.AddAttributes(kvs...)
	}
	return nil
}

// Enabled returns false: this processor exports nothing itself, so it
// never asks for a record to be made.
func (p *Processor) Enabled(context.Context, sdklog.EnabledParameters) bool { return false }

// Shutdown does nothing.
func (p *Processor) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (p *Processor) ForceFlush(context.Context) error { return nil }

// appendKeyValues flattens a slog attribute into OTel attributes; groups
// become dotted keys.
func appendKeyValues(kvs []attribute.KeyValue, prefix string, a slog.Attr) []attribute.KeyValue {
	v := a.Value.Resolve()
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p = key + "."
		}
		for _, ga := range v.Group() {
			kvs = appendKeyValues(kvs, p, ga)
		}
		return kvs
	case slog.KindString:
		return append(kvs, attribute.String(key, v.String()))
	case slog.KindInt64:
		return append(kvs, attribute.Int64(key, v.Int64()))
	case slog.KindBool:
		return append(kvs, attribute.Bool(key, v.Bool()))
	case slog.KindFloat64:
		return append(kvs, attribute.Float64(key, v.Float64()))
	}
	if a.Key == "" {
		return kvs
	}
	if v.Kind() == slog.KindAny {
		if f := printFormOf(v.Any()); f == printJSON || f == printString {
			return append(kvs, attribute.KeyValue{Key: attribute.Key(key), Value: otlpAny(v.Any())})
		}
	}
	return append(kvs, attribute.String(key, v.String()))
}
