package redact

import (
	"context"
	"log/slog"
)

// Handler wraps next so that every record, and every attribute added with
// WithAttrs, is redacted before next sees it; a WithGroup name that is
// itself a secret becomes KeyMask (see Key). Enabled passes through. It is the simplest way to apply the policy to any slog.Handler;
// otelkit's logbridge applies it itself.
func (p *Policy) Handler(next slog.Handler) slog.Handler {
	return &handler{p: p.or(), next: next}
}

type handler struct {
	p    *Policy
	next slog.Handler
}

var _ slog.Handler = (*handler)(nil)

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	r, _ = h.p.Record(r)
	return h.next.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if ra, ok := h.p.Attrs(attrs); ok {
		attrs = ra
	}
	return &handler{p: h.p, next: h.next.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	name, _ = h.p.Key(name)
	return &handler{p: h.p, next: h.next.WithGroup(name)}
}
