package logbridge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/otelkit/otelkit/redact"
)

type fieldsKey struct{}

// defaultRedaction is the policy of handlers and processors given none; one
// value, so that context fields are redacted once for both (a Policy is
// immutable).
var defaultRedaction = sync.OnceValue(func() *redact.Policy { return redact.New() })

// fieldSet is what WithFields puts in a context: the fields, and their
// redaction by the last policy asked for, computed once per context rather
// than once per record and sink.
type fieldSet struct {
	attrs []slog.Attr
	red   atomic.Pointer[redactedFields]
}

// redactedFields are attrs redacted by p, except LogValuers, which resolve
// to a new value at each record and are redacted then (see fieldAttr).
type redactedFields struct {
	p     *redact.Policy
	attrs []slog.Attr
}

// WithFields returns a context whose records carry attrs, on every sink,
// after the fields already in ctx. Use it for values that belong to a unit
// of work (a request ID, a job ID), so every record logged with the context
// has them without passing a logger around.
func WithFields(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	old := fieldsFromContext(ctx)
	fs := &fieldSet{attrs: make([]slog.Attr, 0, len(old)+len(attrs))}
	fs.attrs = append(fs.attrs, old...)
	fs.attrs = append(fs.attrs, attrs...)
	return context.WithValue(ctx, fieldsKey{}, fs)
}

// Fields returns a copy of the fields that [WithFields] put in ctx.
func Fields(ctx context.Context) []slog.Attr {
	f := fieldsFromContext(ctx)
	if len(f) == 0 {
		return nil
	}
	return append([]slog.Attr(nil), f...)
}

func fieldSetFrom(ctx context.Context) *fieldSet {
	if ctx == nil {
		return nil
	}
	fs, _ := ctx.Value(fieldsKey{}).(*fieldSet)
	return fs
}

func fieldsFromContext(ctx context.Context) []slog.Attr {
	if fs := fieldSetFrom(ctx); fs != nil {
		return fs.attrs
	}
	return nil
}

// redactedFieldsFrom returns the fields in ctx redacted by p (all of them
// but LogValuers: pass each through fieldAttr). A nil p means no redaction.
func redactedFieldsFrom(ctx context.Context, p *redact.Policy) []slog.Attr {
	fs := fieldSetFrom(ctx)
	if fs == nil {
		return nil
	}
	if p == nil {
		return fs.attrs
	}
	if r := fs.red.Load(); r != nil && r.p == p {
		return r.attrs
	}
	out := make([]slog.Attr, len(fs.attrs))
	for i, a := range fs.attrs {
		if a.Value.Kind() != slog.KindLogValuer {
			a, _ = p.Attr(a)
		}
		out[i] = a
	}
	fs.red.Store(&redactedFields{p: p, attrs: out})
	return out
}

// fieldAttr finishes the redaction of a field from redactedFieldsFrom.
func fieldAttr(a slog.Attr, p *redact.Policy) slog.Attr {
	if a.Value.Kind() != slog.KindLogValuer {
		return a
	}
	a.Value = a.Value.Resolve()
	if p != nil && !(a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0) {
		a, _ = p.Attr(a) // an empty group, which handlers omit, needs none
	}
	return a
}
