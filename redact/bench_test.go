package redact

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRecord compares a clean 10-attribute record logged through a JSON
// handler with and without the redaction stage in front of it.
func BenchmarkRecord(b *testing.B) {
	attrs := cleanAttrs()
	ctx := context.Background()
	run := func(b *testing.B, h slog.Handler) {
		l := slog.New(h)
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(ctx, slog.LevelInfo, "request completed", attrs...)
		}
	}
	b.Run("json", func(b *testing.B) { run(b, slog.NewJSONHandler(io.Discard, nil)) })
	b.Run("redact+json", func(b *testing.B) { run(b, New().Handler(slog.NewJSONHandler(io.Discard, nil))) })
}

// BenchmarkRecordStage measures the redaction stage alone.
func BenchmarkRecordStage(b *testing.B) {
	p := New()
	clean := slog.NewRecord(time.Now(), slog.LevelInfo, "request completed", 0)
	clean.AddAttrs(cleanAttrs()...)
	dirty := clean.Clone()
	dirty.AddAttrs(slog.String("password", "hunter2"))
	b.Run("clean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Record(clean)
		}
	})
	b.Run("dirty", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Record(dirty)
		}
	})
}

func BenchmarkHeader(b *testing.B) {
	h := typicalHeader()
	for _, tc := range []struct {
		name string
		p    *Policy
	}{
		{"allowlist", New()},
		{"all", New(WithHeaderAllowList(false))},
	} {
		b.Run(tc.name+"/Header", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.p.Header(h)
			}
		})
		b.Run(tc.name+"/HeaderAttr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.p.HeaderAttr("headers", h)
			}
		})
	}
}

func BenchmarkURLString(b *testing.B) {
	p := New()
	for _, tc := range []struct{ name, in string }{
		{"clean", "https://api.example.com/v1/orders/42?page=2&limit=50"},
		{"dirty", "https://bob:pw@s3.example.com/b/k?X-Amz-Credential=AK%2F1&X-Amz-Date=20240101&X-Amz-Signature=f00d"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.URLString(tc.in)
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	p := New()
	for _, tc := range []struct{ name, in string }{
		{"clean", "GET /orders/42 completed in 12ms for user 7 with status 200 after 2 retries"},
		{"dirty", "call to https://api.example.com/v1?access_token=abc failed: Authorization: Bearer abc123def, card 4111 1111 1111 1111"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.String(tc.in)
			}
		})
	}
}

func BenchmarkIsSensitiveKey(b *testing.B) {
	p := New()
	keys := []string{"method", "http.request.method", "request_id", "user_agent", "sessionToken"}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			p.IsSensitiveKey(k)
		}
	}
}
