package redact

import (
	"slices"
	"strings"
)

// String returns s with every secret it contains replaced: JWTs, Bearer and
// Basic credentials, AWS access key IDs, prefixed provider tokens (GitHub,
// GitLab, Slack, Stripe, Google, Twilio, SendGrid, npm, PyPI, OpenAI and
// more), the secret part of webhook URLs, PEM private keys, Luhn-valid
// card numbers, the values of key=value and key: value pairs whose key is
// sensitive (quoted or not, so JSON and Go's %+v output are covered, and
// percent-encoded), the userinfo and sensitive query values of URLs, the
// userinfo of scheme-less DSNs ("user:pw@tcp(db:3306)/app" becomes
// "REDACTED:REDACTED@tcp(db:3306)/app"), and, when enabled, email and IP
// addresses and custom patterns.
//
// Clean text is returned as is, without allocating; the scan looks only at
// bytes that can start a secret. String is idempotent: redacting its output
// again changes nothing. It never panics; if redaction itself fails, the
// whole string is replaced by Mask.
func (p *Policy) String(s string) string {
	out, _ := p.or().text(s)
	return out
}

// spanKind says what a span is replaced by.
type spanKind uint8

const (
	kindMask     spanKind = iota // Mask, or the keyed hash in hash mode
	kindURL                      // URLMask
	kindUserinfo                 // URLMask:URLMask
	kindDrop                     // nothing
)

// span is one piece of s to replace.
type span struct {
	start, end int
	rule       string
	kind       spanKind
}

// text redacts free text and reports whether it changed anything. As with
// URLs (see maxPasses), a replacement can change how the text around it
// parses (a hash token before "://" turns what follows into a URL of
// another shape), so a changed text is passed again until nothing changes:
// redacting twice equals redacting once. Clean text takes one pass.
func (p *Policy) text(s string) (out string, changed bool) {
	defer func() {
		if recover() != nil {
			out, changed = Mask, true
		}
	}()
	out, changed = p.textPass(s)
	for i := 1; changed && i < maxPasses; i++ {
		next, again := p.textPass(out)
		if !again || next == out {
			break
		}
		out = next
	}
	return out, changed
}

// textPass is one pass of text; it may panic (text recovers).
func (p *Policy) textPass(s string) (string, bool) {
	var arr [8]span
	spans := p.scan(s, arr[:0], len(s))
	if p.hasPattern {
		spans = p.patternSpans(s, spans)
	}
	if len(spans) > 0 && strings.Contains(s, hashPrefix) {
		spans = outsideHashTokens(s, spans)
	}
	if len(spans) == 0 {
		return s, false
	}
	return p.apply(s, spans, false)
}

// trigger marks the bytes at which a secret can be recognised.
var trigger = func() (t [256]bool) {
	for _, c := range []byte("JBbAS_-.=:@%~") {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	return t
}()

// scan appends to dst the spans of every built-in rule that matches s, in
// one left-to-right pass that stops only at trigger bytes. The key=value
// rule applies only before kvUntil (URLString handles the query itself).
func (p *Policy) scan(s string, dst []span, kvUntil int) []span {
	// The URL being scanned: its parameters are the URL rule's, an '@' in
	// its authority ends userinfo (not an email local part or a DSN), and
	// key=value and key: value apply in its path only (";SharedAccessKey=…"
	// in a connection string).
	var u urlState
	u.from, u.to, u.auth, u.query = -1, -1, -1, -1
	for i := 0; ; {
		i = skipClean(s, i)
		if i >= len(s) {
			break
		}
		c := s[i]
		next := i + 1
		switch {
		case c == 'J':
			if i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' {
				sp, ok := matchJWT(s, i-2)
				if ok {
					dst = append(dst, sp)
				}
				next = max(next, sp.end)
			}
		case c == 'B' || c == 'b':
			if sp, ok := matchAuthScheme(s, i); ok {
				dst, next = append(dst, sp), sp.end
			}
		case c == 'A' || c == 'S':
			if sp, ok := matchUpper(s, i); ok {
				dst, next = append(dst, sp), sp.end
			}
		case c == '_' || c == '.':
			if sp, ok := matchToken(s, i); ok {
				dst, next = append(dst, sp), max(next, sp.end)
			}
		case c == '-':
			if sp, ok := matchDash(s, i); ok {
				dst, next = append(dst, sp), sp.end
			}
		case isDigit(c):
			if i > 0 && (isAlnum(s[i-1]) || s[i-1] == '.') {
				break
			}
			if p.ips {
				if sp, ok := matchIPv4(s, i); ok {
					dst, next = append(dst, sp), sp.end
					break
				}
			}
			dst, next = matchCards(s, i, dst)
		case c == '=':
			if i >= kvUntil || u.outsidePath(i) {
				break
			}
			if sp, ok, n := p.matchKV(s, i, max(kvUntil, i+1)); ok {
				dst, next = append(dst, sp), n
			} else if n > next {
				next = n
			}
		case c == ':':
			if strings.HasPrefix(s[i:], "://") {
				if i < u.to {
					// A URL inside a URL (?next=https://…): its userinfo
					// only; the parameters belong to the outer one.
					dst = p.urlParts(s, i+3, u.to, true, false, true, dst)
					next = i + 3
					break
				}
				end := urlEnd(s, i+3)
				dst = p.urlSpans(s, i+3, end, false, dst)
				u.set(s, i, end)
				next = i + 3 // the value rules still apply inside
				break
			}
			if i+2 < len(s) && s[i+1] == 'A' && s[i+2] == 'A' {
				if sp, ok := matchTelegram(s, i); ok {
					dst, next = append(dst, sp), sp.end
					break
				}
			}
			if i >= kvUntil || u.outsidePath(i) {
				// no key: value pairs in a URL's authority or query
			} else if sp, ok, n := p.matchKV(s, i, max(kvUntil, i+1)); ok {
				dst, next = append(dst, sp), n
				break
			} else if n > next {
				next = n
				break
			}
			if p.ips {
				if sp, ok, n := matchIPv6(s, i); ok {
					dst, next = append(dst, sp), sp.end
				} else if n > next {
					next = n
				}
			}
		case c == '@':
			if u.from <= i && i < u.auth {
				break // the URL's userinfo
			}
			if sp, ok := matchDSN(s, i); ok {
				dst = append(dst, sp)
			} else if p.emails {
				if sp, ok := matchEmail(s, i); ok {
					dst, next = append(dst, sp), sp.end
				}
			}
		case c == '%':
			if sp, ok := p.matchPercentKV(s, i); ok {
				dst, next = append(dst, sp), sp.end
			}
		case c == '~':
			if sp, ok := matchAzureSecret(s, i); ok {
				dst, next = append(dst, sp), sp.end
			}
		}
		i = next
	}
	return dst
}

// skipClean returns the index of the first trigger byte in s at or after
// i, or len(s): the loop where clean text spends its time.
func skipClean(s string, i int) int {
	for i < len(s) && !trigger[s[i]] {
		i++
	}
	return i
}

// urlState is where the URL being scanned lies in free text: from its
// "://" to to; its authority ends at auth, its query or fragment starts at
// query.
type urlState struct{ from, to, auth, query int }

func (u *urlState) set(s string, from, to int) {
	u.from, u.to = from, to
	u.auth = from + 3
	for u.auth < to && s[u.auth] != '/' && s[u.auth] != '?' && s[u.auth] != '#' {
		u.auth++
	}
	u.query = to
	if q := strings.IndexAny(s[u.auth:to], "?#"); q >= 0 {
		u.query = u.auth + q
	}
}

// outsidePath reports whether i lies in the URL's authority, query or
// fragment.
func (u *urlState) outsidePath(i int) bool {
	return u.from <= i && i < u.to && (i < u.auth || i >= u.query)
}

// patternSpans appends the matches of the custom patterns.
func (p *Policy) patternSpans(s string, dst []span) []span {
	for _, pt := range p.patterns {
		for _, m := range pt.re.FindAllStringSubmatchIndex(s, -1) {
			st, en := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				st, en = m[2], m[3]
			}
			if en > st {
				dst = append(dst, span{start: st, end: en, rule: pt.rule})
			}
		}
	}
	return dst
}

// apply sorts and merges spans and writes the redacted string. In a
// whole URL (inURL), every span becomes URLMask: a mask or hash could make
// the URL unparsable ("[" in a host, "hmac:" in a first path segment).
func (p *Policy) apply(s string, spans []span, inURL bool) (string, bool) {
	// By start, longest first; stable, so that for equal spans the earlier
	// rule (URL before key=value) wins.
	slices.SortStableFunc(spans, spanCmp)
	merged := spans[:0]
	for _, sp := range spans {
		if sp.start < 0 || sp.end > len(s) || sp.end <= sp.start {
			continue
		}
		if protected(s, sp) {
			continue
		}
		if n := len(merged); n > 0 && sp.start < merged[n-1].end {
			last := &merged[n-1]
			if sp.end <= last.end {
				continue
			}
			last.end, last.kind = sp.end, kindMask
			continue
		}
		merged = append(merged, sp)
	}
	if len(merged) == 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 16*len(merged))
	prev := 0
	for _, sp := range merged {
		b.WriteString(s[prev:sp.start])
		switch sp.kind {
		case kindMask:
			if inURL {
				b.WriteString(URLMask)
			} else {
				b.WriteString(p.replacement(s[sp.start:sp.end]))
			}
		case kindURL:
			b.WriteString(URLMask)
		case kindUserinfo:
			b.WriteString(URLMask + ":" + URLMask)
		case kindDrop:
		}
		prev = sp.end
		p.count(sp.rule)
	}
	b.WriteString(s[prev:])
	return b.String(), true
}

func spanCmp(a, b span) int {
	if a.start != b.start {
		return a.start - b.start
	}
	return b.end - a.end
}

// protected reports whether sp lies entirely inside the output of an
// earlier redaction (a marker or a hash), which must stay as it is.
func protected(s string, sp span) bool {
	for _, m := range [...]string{"[" + URLMask + "]", URLMask, Truncated} {
		// Look for a marker that starts at most len(m) before sp.
		lo := max(sp.start-len(m), 0)
		hi := min(sp.end+len(m), len(s))
		w := s[lo:hi]
		for off := 0; ; {
			k := strings.Index(w[off:], m)
			if k < 0 {
				break
			}
			ms := lo + off + k
			if ms <= sp.start && sp.end <= ms+len(m) {
				return true
			}
			off += k + 1
		}
	}
	lo := max(sp.start-len(hashPrefix)-hashHexDigits, 0)
	if k := strings.LastIndex(s[lo:min(sp.start+1, len(s))], hashPrefix); k >= 0 {
		k += lo
		end := k + len(hashPrefix) + hashHexDigits
		if end <= len(s) && isHashToken(s[k:end]) && sp.end <= end {
			return true
		}
	}
	return false
}

// outsideHashTokens drops the spans that start inside a hash token ("hmac:"
// and 16 hex digits) in s: a token is already the output of a redaction,
// and its hex digits must not start a match of their own (an email local
// part, an IPv6 group), or redacting twice would differ from redacting
// once. A span that starts before a token (a Bearer credential, say) is
// kept: its rule decides, and it must not let a planted token shield what
// follows.
func outsideHashTokens(s string, spans []span) []span {
	var tokens [][2]int
	for i := 0; ; {
		j := strings.Index(s[i:], hashPrefix)
		if j < 0 {
			break
		}
		start, end := i+j, i+j+len(hashPrefix)+hashHexDigits
		if end <= len(s) && isHashToken(s[start:end]) {
			tokens = append(tokens, [2]int{start, end})
		}
		i = i + j + len(hashPrefix)
	}
	if len(tokens) == 0 {
		return spans
	}
	kept := spans[:0]
	for _, sp := range spans {
		touches := false
		for _, t := range tokens {
			if sp.start >= t[0] && sp.start < t[1] {
				touches = true
				break
			}
		}
		if !touches {
			kept = append(kept, sp)
		}
	}
	return kept
}
