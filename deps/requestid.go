package deps

import (
	"context"
	"log/slog"

	"github.com/otelkit/otelkit/logbridge"
)

// requestIDField is the context field httpmw sets (logbridge.WithFields).
const requestIDField = "request_id"

// maxRequestIDLength bounds a forwarded request ID, as httpmw bounds an
// incoming one.
const maxRequestIDLength = 128

// requestID returns the current request's ID in ctx, or "" if there is none
// or it is not safe to send.
func (c *config) requestIDFrom(ctx context.Context) string {
	var id string
	if c.requestID != nil {
		id = c.requestID(ctx)
	} else {
		id = fieldRequestID(ctx)
	}
	if !validRequestID(id) {
		return ""
	}
	return id
}

// fieldRequestID returns the last request_id field of ctx.
func fieldRequestID(ctx context.Context) string {
	fields := logbridge.Fields(ctx)
	for i := len(fields) - 1; i >= 0; i-- {
		if a := fields[i]; a.Key == requestIDField {
			if v := a.Value.Resolve(); v.Kind() == slog.KindString {
				return v.String()
			}
			return ""
		}
	}
	return ""
}

// validRequestID reports whether s may be sent as it is: 1 to 128 bytes of
// A-Z a-z 0-9 and - _ . : / + = @ ; , ~ (the set httpmw accepts), so no
// value can break a header or a log line.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		}
		switch c {
		case '-', '_', '.', ':', '/', '+', '=', '@', ';', ',', '~':
			continue
		}
		return false
	}
	return true
}
