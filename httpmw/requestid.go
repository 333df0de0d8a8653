package httpmw

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
)

// MaxRequestIDLength is the longest incoming request ID accepted.
const MaxRequestIDLength = 128

// Reasons an incoming request ID is replaced, in the reason field of
// request_id_replaced records.
const (
	reasonTooLong  = "too_long"
	reasonBadChars = "invalid_characters"
	reasonMultiple = "multiple_values"
)

// badIDPreview bounds the part of an invalid ID that is logged.
const badIDPreview = 64

// badIDRedacted bounds the part of an invalid ID that is redacted before
// its preview is cut from it.
const badIDRedacted = 1024

// validRequestID reports whether s may be used as a request ID as it is:
// 1 to MaxRequestIDLength bytes, each one of A-Z a-z 0-9 and - _ . : / + = @ ; , ~
// That covers UUIDs, hex and base64 IDs and the X-Amzn-Trace-Id format,
// and rules out spaces, quotes, control characters and non-ASCII, so an ID
// can be written into any log line or header as it is.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idByte(s[i]) {
			return false
		}
	}
	return true
}

func idByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', ':', '/', '+', '=', '@', ';', ',', '~':
		return true
	}
	return false
}

// newRequestID returns 128 random bits as 32 lower-case hex digits.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	var out [32]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// sanitizeRequestID returns a printable preview of an invalid ID for the
// log: at most badIDPreview bytes, every byte outside the ID set replaced by
// '?', and the original length when it was cut.
func sanitizeRequestID(s string, length int) string {
	n := min(len(s), badIDPreview)
	b := make([]byte, 0, n+24)
	for i := 0; i < n; i++ {
		if c := s[i]; idByte(c) {
			b = append(b, c)
		} else {
			b = append(b, '?')
		}
	}
	if length > n {
		b = append(b, "...("...)
		b = strconv.AppendInt(b, int64(length), 10)
		b = append(b, " bytes)"...)
	}
	return string(b)
}

// requestID decides the ID of r: the incoming one if it is valid (and, with
// WithRequestIDFromProxiesOnly, comes from a trusted proxy), else a new one.
// It returns the sanitized invalid value and the reason when an incoming
// value was rejected for its content.
func (c *config) requestID(r *http.Request, fromProxy bool) (id, bad, reason string) {
	vals := r.Header[c.idHeader]
	if len(vals) == 0 || (c.idFromProxies && !fromProxy) {
		return newRequestID(), "", ""
	}
	v := vals[0]
	switch {
	case len(vals) > 1:
		reason = reasonMultiple
	case v == "":
		return newRequestID(), "", ""
	case len(v) > MaxRequestIDLength:
		reason = reasonTooLong
	case !validRequestID(v):
		reason = reasonBadChars
	default:
		return v, "", ""
	}
	// Redacted before it is sanitized and cut: replacing a DSN's '(' or a
	// PEM block's newlines by '?', or cutting a token in two, would hide
	// the secret from the rules, not from the log.
	return newRequestID(), sanitizeRequestID(c.redact.String(v[:min(len(v), badIDRedacted)]), len(v)), reason
}
