package logbridge

import (
	"context"
	"log/slog"
)

type fieldsKey struct{}

// WithFields returns a context whose records carry attrs, on every sink,
// after the fields already in ctx. Use it for values that belong to a unit
// of work (a request ID, a job ID), so every record logged with the context
// has them without passing a logger around.
func WithFields(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	old := fieldsFromContext(ctx)
	fields := make([]slog.Attr, 0, len(old)+len(attrs))
	fields = append(fields, old...)
	fields = append(fields, attrs...)
	return context.WithValue(ctx, fieldsKey{}, fields)
}

// Fields returns a copy of the fields that [WithFields] put in ctx.
func Fields(ctx context.Context) []slog.Attr {
	f := fieldsFromContext(ctx)
	if len(f) == 0 {
		return nil
	}
	return append([]slog.Attr(nil), f...)
}

func fieldsFromContext(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	f, _ := ctx.Value(fieldsKey{}).([]slog.Attr)
	return f
}
