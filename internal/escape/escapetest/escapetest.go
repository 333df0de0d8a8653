// Package escapetest holds what the tests of every otelkit sink share to
// attack the escaping rules of package escape: hostile strings, and a check
// that a written line holds none of the characters the rules escape. The
// set is written out here on its own, not taken from package escape, so a
// mistake there cannot hide itself.
package escapetest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Hostile are strings that try to split, forge, colour or reorder a line:
// CR LF with a forged JSON record, every Python line break, NUL, ESC, DEL,
// C1 controls (NEL, CSI), U+2028/U+2029, bidi controls and invalid UTF-8.
var Hostile = []string{
	"\r\n{\"level\":\"ERROR\",\"msg\":\"forged\"}\n",
	"a\x00b\x1b[31mred\x1b[0m\x7fdel\ttab",
	"v\vf\fs\x1cg\x1dr\x1eu\x1fend",
	"nel\u0085csi\u009b31mc1\u0080\u009f",
	"ls\u2028ps\u2029",
	"rlo\u202eevil\u202cpdf \u202a\u202b\u202d\u2066lri\u2067\u2068\u2069",
	"lrm\u200erlm\u200falm\u061c",
	"bad\xff\xfe utf8 \xe2\x80 \xc0\x80 \xed\xa0\x80",
	"\"quoted\" back\\slash k=v {\"x\":1}",
	"",
}

// Escaped reports whether r must never appear raw on a line: C0 controls,
// DEL, C1 controls, U+2028, U+2029, the bidi controls U+202A–U+202E and
// U+2066–U+2069, and the marks U+200E, U+200F and U+061C.
func Escaped(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// CheckLine returns an error when line (without its newline) holds
// invalid UTF-8 or a rune that [Escaped] reports, which includes every
// line break of Python's str.splitlines.
func CheckLine(line string) error {
	for i, r := range line {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(line[i:]); size == 1 {
				return fmt.Errorf("raw invalid UTF-8 byte %#x at %d in %q", line[i], i, line)
			}
		}
		if Escaped(r) {
			return fmt.Errorf("raw %U at %d in %q", r, i, line)
		}
	}
	return nil
}

// Lines splits out, which must end with a newline, into its lines by
// '\n' alone; check each with [CheckLine] for every other line break.
func Lines(out string) ([]string, error) {
	body, ok := strings.CutSuffix(out, "\n")
	if !ok {
		return nil, fmt.Errorf("output does not end with a newline: %q", out)
	}
	return strings.Split(body, "\n"), nil
}

// Decoded is s as a JSON decoder gives it back: each invalid byte U+FFFD.
func Decoded(s string) string { return strings.Map(func(r rune) rune { return r }, s) }

// LooseJSON quotes s as a JSON string the way a careless MarshalJSON
// might: only '"', '\\' and C0 controls escaped, everything else (DEL,
// C1 and bidi controls, invalid UTF-8) raw. encoding/json accepts it.
func LooseJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
