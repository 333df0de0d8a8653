// Package escape holds the one set of escaping rules every line otelkit
// writes follows (log records on the console, in files and to syslog, and
// the console's span and metric lines), in JSON and in text, at every
// nesting level, so that no input can split a line, forge a record, move
// the cursor, colour the terminal or reorder what a reader sees.
//
// The escaped set: C0 controls (U+0000–U+001F, which hold \t \n \v \f \r,
// NUL, ESC and the separators U+001C–U+001E), DEL (U+007F), C1 controls
// (U+0080–U+009F, which hold NEL and CSI), U+2028 and U+2029, the bidi
// embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the
// bidi marks U+200E, U+200F and U+061C, and invalid UTF-8. Together they
// hold every line break of Python's str.splitlines and of Unicode.
//
// JSON: a rune of the set becomes \uXXXX (\n \r \t keep their short forms)
// and each invalid byte becomes \ufffd; '"' and '\\' are escaped as JSON
// requires; everything else is written as it is.
//
// Text: a value holding a rune of the set, or a space, '=', '"' or '\\',
// or empty, is quoted with Go's strconv.Quote, which escapes the set and
// every other rune strconv.IsPrint rejects (\n, \x1b, \x7f, \u0085,
// \u202e), and writes each invalid byte as \xNN so the bytes stay visible.
// A message is not quoted but escaped the same way.
package escape

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plainJSON marks the bytes a JSON string holds as they are: printable
// ASCII but '"', '\\' and DEL.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapedRune reports whether r, a rune of U+0080 or above, is in the set.
func escapedRune(r rune) bool {
	switch {
	case r < 0xa0:
		return true // C1
	case r < 0x061c:
		return false
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true // ALM, LRM, RLM
	case r >= 0x2028 && r <= 0x202e:
		return true // LS, PS, LRE, RLE, PDF, LRO, RLO
	case r >= 0x2066 && r <= 0x2069:
		return true // LRI, RLI, FSI, PDI
	}
	return false
}

func appendUnicodeEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendJSONString appends s as a quoted JSON string under the rules of
// the package.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = appendUnicodeEscape(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		invalid := r == utf8.RuneError && size == 1
		if !invalid && !escapedRune(r) {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		if invalid {
			b = append(b, `\ufffd`...)
		} else {
			b = appendUnicodeEscape(b, r)
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSON appends j, the output of encoding/json (json.Marshal, which
// compacts a Marshaler's output too), with its strings brought under the
// rules of the package: encoding/json escapes C0 controls but writes DEL,
// C1 controls and bidi controls raw, and passes a Marshaler's invalid
// UTF-8 through. Outside strings such output holds ASCII only, so every
// rune the rules escape is inside a string and becomes \uXXXX (an invalid
// byte \ufffd), which keeps j valid JSON with the same structure. A raw
// C0 byte, which valid compact JSON cannot hold, becomes a space. Output
// that needs nothing is appended as it is, after one pass over its bytes.
func AppendJSON(b, j []byte) []byte {
	start := 0
	for i := 0; i < len(j); {
		c := j[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(j[i:])
			if (r != utf8.RuneError || size != 1) && !escapedRune(r) {
				i += size
				continue
			}
		}
		b = append(b, j[start:i]...)
		switch {
		case c < 0x20:
			b = append(b, ' ')
		case r == utf8.RuneError:
			b = append(b, `\ufffd`...)
		default:
			b = appendUnicodeEscape(b, r)
		}
		i += size
		start = i
	}
	return append(b, j[start:]...)
}

// NeedsQuote reports whether s must be quoted in the text format: it is
// empty, or holds a space, '=', '"', '\\', or a rune strconv.IsPrint
// rejects (every rune of the set among them), or invalid UTF-8.
func NeedsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// AppendText appends s for the text format: bare when [NeedsQuote] says
// it may be, else quoted with Go escapes (\n, \x1b, \u202e, \xff).
func AppendText(b []byte, s string) []byte {
	if !NeedsQuote(s) {
		return append(b, s...)
	}
	return strconv.AppendQuote(b, s)
}

// AppendTextMessage appends a message for the text format: not quoted, so
// spaces and quotes stay, but '\\' and every rune strconv.IsPrint rejects
// are escaped as in [AppendText] and each invalid byte is written \xNN.
func AppendTextMessage(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\\':
				b = append(b, '\\', '\\')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r) // '\u200b', quotes dropped below
			b = append(b, q[1:len(q)-1]...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
