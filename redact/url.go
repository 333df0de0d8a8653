package redact

import (
	"net/url"
	"strings"
)

// sensitiveParams are the query parameters redacted besides those whose
// name is a sensitive key, matched without regard to case: those the
// OpenTelemetry semantic conventions for url.full and url.query name, and
// those that carry a credential only as query parameters: Google's API key
// (key), OAuth 2.0 authorization codes and PKCE verifiers (code,
// code_verifier), JWT and SAML assertions (assertion, SAMLResponse) and
// auth.
var sensitiveParams = [...]string{
	"AWSAccessKeyId", "Signature", "sig", "X-Amz-Signature",
	"X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature",
	"key", "code", "code_verifier", "assertion", "SAMLResponse", "auth",
}

// URL returns u as a string for logs and span attributes: userinfo becomes
// "REDACTED:REDACTED@", the values of sensitive query and fragment
// parameters become "REDACTED" (or the query is dropped, see
// WithDropQuery), and the value rules of String apply to the rest (a token
// in the path becomes "REDACTED" too, so the result still parses). The
// query is edited as text, so the other parameters keep their order and
// encoding. u is not modified; a nil u gives "".
func (p *Policy) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	// u parsed, so its parameter names can be trusted without parsing
	// its text again.
	return p.urlString(u.String(), true)
}

// URLString is URL for a URL that is still a string, such as a request's
// RequestURI or a url.full attribute. It does not need s to parse: the
// parts are found by their delimiters. If s does not parse as a URL, every
// query and fragment parameter value is redacted, since the parameter names
// cannot be trusted. Like String, it is idempotent and never panics.
func (p *Policy) URLString(s string) (out string) {
	return p.urlString(s, false)
}

// maxPasses bounds the passes of urlString and text. A redaction can
// change how the text around it parses (a control character replaced by the mask extends
// a URL; a mask completes an email's local part), so a second pass over a
// redacted URL could find more; passes repeat until nothing changes. Real
// URLs settle in one or two; the bound is for hostile input.
const maxPasses = 4

// urlString is URLString; parsed says s is known to be a valid URL.
func (p *Policy) urlString(s string, parsed bool) (out string) {
	p = p.or()
	defer func() {
		if recover() != nil {
			out = Mask
		}
	}()
	out = p.urlPass(s, parsed)
	for range maxPasses - 1 {
		if out == s {
			return out
		}
		s, out = out, p.urlPass(out, false)
	}
	return out
}

// urlPass is one pass of urlString; it may panic (urlString recovers).
func (p *Policy) urlPass(s string, parsed bool) string {
	var arr [8]span
	spans := arr[:0]
	kvUntil := len(s)
	if strings.ContainsAny(s, "@?#") {
		invalid := false
		if !parsed {
			_, err := url.Parse(s)
			invalid = err != nil
		}
		start, hasAuthority := authorityStart(s)
		spans = p.urlParts(s, start, len(s), hasAuthority, invalid, false, spans)
		if q := strings.IndexAny(s[start:], "?#"); q >= 0 {
			kvUntil = start + q
		}
	}
	spans = p.scan(s, spans, kvUntil)
	if p.hasPattern {
		spans = p.patternSpans(s, spans)
	}
	if len(spans) == 0 {
		return s
	}
	out, _ := p.apply(s, spans, true)
	return out
}

// authorityStart finds the authority of a whole URL: after "scheme://" or
// a leading "//".
func authorityStart(s string) (int, bool) {
	if strings.HasPrefix(s, "//") {
		return 2, true
	}
	i := 0
	for i < len(s) && isSchemeChar(s[i]) {
		i++
	}
	if i > 0 && isLetter(s[0]) && strings.HasPrefix(s[i:], "://") {
		return i + 3, true
	}
	return 0, false
}

func isSchemeChar(c byte) bool { return isAlnum(c) || c == '+' || c == '-' || c == '.' }

// urlEnd returns where a URL that starts in free text ends: at white space,
// a quote, an angle bracket or a control character.
func urlEnd(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f, c == '"', c == '\'', c == '<', c == '>', c == '`':
			return i
		}
		i++
	}
	return i
}

// urlSpans appends the spans of a URL in free text whose authority starts
// at start and which ends at end.
func (p *Policy) urlSpans(s string, start, end int, all bool, dst []span) []span {
	return p.urlParts(s, start, end, true, all, false, dst)
}

// urlParts appends spans for the userinfo (if hasAuthority) and, unless
// authOnly, the query and fragment parameters of the URL in s[start:end].
// With all set, every parameter value is redacted.
func (p *Policy) urlParts(s string, start, end int, hasAuthority, all, authOnly bool, dst []span) []span {
	a := start
	if hasAuthority {
		for a < end && s[a] != '/' && s[a] != '?' && s[a] != '#' {
			a++
		}
		if at := strings.LastIndexByte(s[start:a], '@'); at >= 0 {
			if ui := s[start : start+at]; ui != URLMask+":"+URLMask {
				dst = append(dst, span{start: start, end: start + at, rule: ruleURLUserinfo, kind: kindUserinfo})
			}
		}
	}
	if authOnly {
		return dst
	}
	rest := s[a:end]
	q := strings.IndexByte(rest, '?')
	f := strings.IndexByte(rest, '#')
	if q >= 0 && (f < 0 || q < f) {
		qe := end
		if f >= 0 {
			qe = a + f
		}
		if p.dropQuery {
			dst = append(dst, span{start: a + q, end: qe, rule: ruleURLQuery, kind: kindDrop})
		} else {
			dst = p.params(s, a+q+1, qe, all, dst)
		}
	}
	if f >= 0 {
		dst = p.params(s, a+f+1, end, all, dst)
	}
	return dst
}

// params appends spans for the sensitive values in the &-separated
// parameters of s[from:to].
func (p *Policy) params(s string, from, to int, all bool, dst []span) []span {
	for from < to {
		pe := from + strings.IndexByte(s[from:to], '&')
		if pe < from {
			pe = to
		}
		if eq := strings.IndexByte(s[from:pe], '='); eq >= 0 {
			vs := from + eq + 1
			if v := s[vs:pe]; v != "" && !isMarker(v) && (all || p.isSensitiveParam(s[from:from+eq]) || p.encodedSecret(v)) {
				dst = append(dst, span{start: vs, end: pe, rule: ruleURLQuery, kind: kindURL})
			}
		}
		from = pe + 1
	}
	return dst
}

// encodedSecret reports whether the percent-encoded parameter value v
// holds a secret only once decoded (a URL, a pair or a PEM block passed as a
// parameter: next=https%3A%2F%2Fh%2Fcb%3Ftoken%3Dghp_…), which the rules
// cannot see in the encoded form, where "%3D" runs into the token.
func (p *Policy) encodedSecret(v string) bool {
	if !strings.ContainsAny(v, "%+") {
		return false
	}
	d, err := url.QueryUnescape(v)
	// A secret the rules find in v as it is (an encoded pair) is left to
	// them: they redact it alone, not the whole value.
	return err == nil && d != v && holdsSecretFn(p, d) && !holdsSecretFn(p, v)
}

// holdsSecretFn is Policy.holdsSecret, called through a variable: a direct
// call would close the cycle scan → params → holdsSecret → scan, after
// which escape analysis moves every caller's span array to the heap, and
// the clean path would allocate.
var holdsSecretFn func(*Policy, string) bool

func init() { holdsSecretFn = (*Policy).holdsSecret }

func (p *Policy) isSensitiveParam(key string) bool {
	if strings.ContainsAny(key, "%+") {
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
	}
	for _, sp := range sensitiveParams {
		if len(sp) == len(key) && strings.EqualFold(key, sp) {
			return true
		}
	}
	return p.IsSensitiveKey(key)
}
