package logbridge

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// StackKey is the attribute that carries a stack trace.
const StackKey = "stack"

// Exception logs msg at ERROR with err (as "error": message and type) and
// the stack trace of the caller (as "stack"), in the spirit of Python's
// logger.exception. args are more attributes, as for slog.Logger.Log.
func Exception(ctx context.Context, l *slog.Logger, msg string, err error, args ...any) {
	if l == nil {
		l = slog.Default()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.Enabled(ctx, slog.LevelError) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	r := slog.NewRecord(time.Now(), slog.LevelError, msg, pcs[0])
	r.Add(args...)
	r.AddAttrs(slog.Any("error", err), slog.String(StackKey, stack(3)))
	_ = l.Handler().Handle(ctx, r)
}

// stack returns the calling goroutine's stack, skipping skip frames, one
// "function file:line" per frame separated by newlines (escaped by the
// sinks, so it stays on one line).
func stack(skip int) string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(skip, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "log/slog.") {
			if !more {
				break
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f.Function)
		b.WriteByte(' ')
		b.WriteString(f.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		if !more {
			break
		}
	}
	return b.String()
}

func hasStack(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == StackKey
		return !found
	})
	return found
}
