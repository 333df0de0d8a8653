package redact

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strings"
)

// The built-in value rules. Each matcher is anchored at the trigger byte the
// scan stopped at and returns the span to redact.

func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// token68 from RFC 9110, the credential syntax of Bearer and Basic.
func isToken68(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

func runEnd(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// runEndMax is runEnd looking at n bytes at most: a rule that fails on a
// run longer than it wants must not read the whole run, or hostile text
// of repeated prefixes would cost quadratic time.
func runEndMax(s string, i, n int, ok func(byte) bool) int {
	return runEnd(s[:min(len(s), i+n)], i, ok)
}

// matchJWT matches header.payload.signature in base64url, the header
// starting with "eyJ" (`{"`), at start.
func matchJWT(s string, start int) (span, bool) {
	e1 := runEnd(s, start, isB64URL)
	if e1-start < 10 || e1 >= len(s) || s[e1] != '.' {
		// No JWT can start later in this run either: skip it.
		return span{end: e1}, false
	}
	e2 := runEnd(s, e1+1, isB64URL)
	if e2-e1-1 < 2 || e2 >= len(s) || s[e2] != '.' {
		return span{}, false
	}
	e3 := runEnd(s, e2+1, isB64URL)
	return span{start: start, end: e3, rule: ruleJWT}, true
}

// matchAuthScheme matches the credential after "Bearer " or "Basic " (any
// case). A Bearer credential must have 8 or more characters and a digit or
// symbol, or 20 or more letters, so "Bearer authentication" survives; a
// Basic credential must decode to "user:password".
func matchAuthScheme(s string, i int) (span, bool) {
	if i > 0 && isLetter(s[i-1]) {
		return span{}, false
	}
	rule := ""
	n := 0
	switch {
	case len(s)-i > 7 && strings.EqualFold(s[i:i+6], "bearer"):
		rule, n = ruleBearer, 6
	case len(s)-i > 6 && strings.EqualFold(s[i:i+5], "basic"):
		rule, n = ruleBasic, 5
	default:
		return span{}, false
	}
	st := i + n
	for st < len(s) && (s[st] == ' ' || s[st] == '\t') {
		st++
	}
	// token68 may end in '=' padding but not start with it: "Bearer =x" is
	// a key and a value, not a credential (and may be one redacted already).
	if st == i+n || (st < len(s) && s[st] == '=') {
		return span{}, false
	}
	end := runEnd(s, st, isToken68)
	cred := s[st:end]
	if len(cred) < 8 || strings.Contains(cred, URLMask) {
		// A credential holding the mask was redacted already (a query value
		// after "Bearer x=", say): matching it now would change the text on
		// a second pass.
		return span{}, false
	}
	if rule == ruleBasic {
		if !isBasicCredential(cred) {
			return span{}, false
		}
	} else if len(cred) < 20 {
		letters := true
		for j := 0; j < len(cred); j++ {
			if !isLetter(cred[j]) {
				letters = false
				break
			}
		}
		if letters {
			return span{}, false
		}
	}
	return span{start: st, end: end, rule: rule}, true
}

func isBasicCredential(cred string) bool {
	if len(cred) > 1024 {
		return true // too long to check cheaply; redact to be safe
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(cred, "="))
	return err == nil && bytes.IndexByte(b, ':') > 0
}

// matchAWS matches an AWS access key ID (AKIA…, ASIA…, ABIA…, ACCA…
// followed by 16 upper-case letters or digits) at i.
func matchAWS(s string, i int) (span, bool) {
	if len(s)-i < 20 || (i > 0 && isAlnum(s[i-1])) {
		return span{}, false
	}
	switch s[i : i+4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	default:
		return span{}, false
	}
	for j := i + 4; j < i+20; j++ {
		if !isUpper(s[j]) && !isDigit(s[j]) {
			return span{}, false
		}
	}
	if i+20 < len(s) && isAlnum(s[i+20]) {
		return span{}, false
	}
	return span{start: i, end: i + 20, rule: ruleAWS}, true
}

// tokenStart returns where the run of letters and digits ending at i starts.
func tokenStart(s string, i int) int {
	j := i
	for j > 0 && isAlnum(s[j-1]) {
		j--
	}
	return j
}

// matchDash matches, at a '-', a PEM private key block or a prefixed token
// (see matchToken).
func matchDash(s string, i int) (span, bool) {
	if strings.HasPrefix(s[i:], "-----BEGIN ") {
		return matchPEM(s, i)
	}
	return matchToken(s, i)
}

// matchPEM matches "-----BEGIN … PRIVATE KEY-----" through the matching END
// line, or to the end of s if the block is cut short.
func matchPEM(s string, i int) (span, bool) {
	h := i + len("-----BEGIN ")
	k := runEnd(s, h, isPEMLabel)
	if !strings.HasPrefix(s[k:], "-----") || !strings.Contains(s[h:k], "PRIVATE KEY") {
		return span{}, false
	}
	body := k + 5
	end := len(s)
	if e := strings.Index(s[body:], "-----END "); e >= 0 {
		t := runEnd(s, body+e+len("-----END "), isPEMLabel)
		if strings.HasPrefix(s[t:], "-----") {
			end = t + 5
		}
	}
	return span{start: i, end: end, rule: rulePrivateKey}, true
}

func isPEMLabel(c byte) bool { return isUpper(c) || c == ' ' }

func isKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

func isValueDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', ',', ';', '&', '"', '\'', ')', ']', '}', '<', '>', '`':
		return true
	}
	return false
}

// matchKV matches the value of key=value or key: value at the separator i
// when the key is sensitive. The key may be quoted (JSON); the value may be
// quoted, JSON-escaped quoted, or run to the next delimiter. A value that is
// an HTTP auth scheme ("Bearer") takes the following word with it. next is
// where the scan should continue when nothing matched (past a marker). In
// prose ("invalid token: please retry", a key after a space), a key: value
// pair counts only if the value looks like a secret, unless the key is a
// password.
func (p *Policy) matchKV(s string, i, limit int) (sp span, ok bool, next int) {
	s = s[:limit] // a value never runs into a URL's query
	k := i
	for k > 0 && i-k < 4 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	var key string
	prose := false // "invalid token: please retry"
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		q := s[k-1]
		st := strings.LastIndexByte(s[max(0, k-66):k-1], q)
		if st < 0 {
			return span{}, false, 0
		}
		st += max(0, k-66)
		key = strings.TrimSuffix(s[st+1:k-1], `\`) // JSON inside a JSON string
		for j := 0; j < len(key); j++ {
			if !isKeyChar(key[j]) && key[j] != ' ' {
				return span{}, false, 0 // a quoted sentence or URL, not a key
			}
		}
	} else {
		st := k
		for st > 0 && k-st <= 64 && isKeyChar(s[st-1]) {
			st--
		}
		key = s[st:k]
		// Stable under redaction: depends only on the space before the key.
		prose = s[i] == ':' && st >= 1 && s[st-1] == ' ' && !strings.Contains(normalizeKeyLower(key), "pass")
	}
	if key == "" || !p.IsSensitiveKey(key) {
		return span{}, false, 0
	}
	v := i + 1
	for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
		v++
	}
	if v >= len(s) {
		return span{}, false, 0
	}
	var vs, ve int
	switch {
	case s[v] == '"' || s[v] == '\'':
		vs, ve = v+1, closingQuote(s, v+1, s[v])
		next = ve + 1
	case s[v] == '\\' && v+1 < len(s) && s[v+1] == '"':
		vs = v + 2
		if e := strings.Index(s[vs:], `\"`); e >= 0 {
			ve = vs + e
		} else {
			ve = len(s)
		}
		next = ve + 2
	case strings.HasPrefix(s[v:], Mask):
		return span{}, false, v + len(Mask)
	default:
		vs = v
		ve = runEnd(s, v, func(c byte) bool { return !isValueDelim(c) })
		if isAuthSchemeName(s[vs:ve]) && ve+1 < len(s) && s[ve] == ' ' && !isValueDelim(s[ve+1]) {
			ve = runEnd(s, ve+1, func(c byte) bool { return !isValueDelim(c) })
		}
		next = ve
	}
	if ve <= vs || isMarker(s[vs:ve]) || (prose && !looksSecret(s[vs:ve])) {
		return span{}, false, next
	}
	return span{start: vs, end: ve, rule: ruleKeyValue}, true, next
}

// looksSecret reports whether a value after "word key:" in prose could be a
// secret rather than the next word of the sentence: it has a digit or a
// symbol, or is long.
func looksSecret(v string) bool {
	if len(v) >= 16 {
		return true
	}
	for i := 0; i < len(v); i++ {
		if !isLetter(v[i]) {
			return true
		}
	}
	return false
}

// closingQuote returns the index of the quote q that closes a value opened
// at from, skipping backslash-escaped quotes, or len(s).
func closingQuote(s string, from int, q byte) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return len(s)
}

func isAuthSchemeName(v string) bool {
	for _, n := range [...]string{"bearer", "basic", "digest", "token", "negotiate", "bot"} {
		if strings.EqualFold(v, n) {
			return true
		}
	}
	return false
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || strings.IndexByte("._%+-", c) >= 0
}

// matchEmail matches local@domain.tld around the '@' at i.
func matchEmail(s string, i int) (span, bool) {
	j := i
	for j > 0 && isEmailLocal(s[j-1]) {
		j--
	}
	if j == i {
		return span{}, false
	}
	e := runEnd(s, i+1, func(c byte) bool { return isAlnum(c) || c == '-' || c == '.' })
	for e > i+1 && (s[e-1] == '.' || s[e-1] == '-') {
		e--
	}
	dot := strings.LastIndexByte(s[i+1:e], '.')
	if dot <= 0 {
		return span{}, false
	}
	tld := s[i+1+dot+1 : e]
	if len(tld) < 2 {
		return span{}, false
	}
	for k := 0; k < len(tld); k++ {
		if !isLetter(tld[k]) {
			return span{}, false
		}
	}
	return span{start: j, end: e, rule: ruleEmail}, true
}

// matchIPv4 matches a dotted-quad IPv4 address starting at i.
func matchIPv4(s string, i int) (span, bool) {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(s) || s[j] != '.' {
				return span{}, false
			}
			j++
		}
		n, d := 0, 0
		for j < len(s) && isDigit(s[j]) && d < 4 {
			n = n*10 + int(s[j]-'0')
			j++
			d++
		}
		if d == 0 || d > 3 || n > 255 {
			return span{}, false
		}
	}
	if j < len(s) && (isAlnum(s[j]) || (s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]))) {
		return span{}, false
	}
	return span{start: i, end: j, rule: ruleIP}, true
}

func isIPv6Char(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') || c == ':' || c == '.'
}

// matchIPv6 matches an IPv6 address around the ':' at i. next is where the
// scan should continue when nothing matched.
func matchIPv6(s string, i int) (sp span, ok bool, next int) {
	j := i
	for j > 0 && isIPv6Char(s[j-1]) {
		j--
	}
	e := runEnd(s, i, isIPv6Char)
	if (j > 0 && isAlnum(s[j-1])) || (e < len(s) && isAlnum(s[e])) {
		return span{}, false, e
	}
	for e > j && s[e-1] == '.' {
		e--
	}
	cand := s[j:e]
	if strings.Count(cand, ":") < 2 {
		return span{}, false, e
	}
	if _, err := netip.ParseAddr(cand); err != nil {
		return span{}, false, e
	}
	return span{start: j, end: e, rule: ruleIP}, true, e
}

// normalizeKeyLower is strings.ToLower for ASCII keys, without allocating
// when the key is already lower case.
func normalizeKeyLower(k string) string {
	for i := 0; i < len(k); i++ {
		if isUpper(k[i]) {
			return strings.ToLower(k)
		}
	}
	return k
}

// matchDSN matches the userinfo of a data source name without a scheme,
// around the '@' at i: "user:password@tcp(host:3306)/db" (the
// go-sql-driver/mysql form), "user:password@host:5432/db",
// "user:password@[::1]:5432/db" and "user:password@/db". What follows the
// '@' must be one of those addresses, so an email address
// ("bob@example.com"), an scp-style remote ("git@github.com:org/repo.git")
// or "a:b@c" in prose is left alone. The userinfo runs back from the '@' to
// a space, quote, bracket, '=', ',', ';' or '|' (a password may hold ':',
// '@' and '/'), and must have a ':' and a password after it; when it has
// more than one ':', what comes before the last but one is a key ("DSN:" as
// %+v prints a struct field) and is kept. Like URL userinfo, the user and
// password become "REDACTED:REDACTED". The scan back reads at most 256
// bytes, so a hostile run stays linear.
func matchDSN(s string, i int) (span, bool) {
	if !isDSNAddress(s, i+1) {
		return span{}, false
	}
	t := i
	for t > 0 && i-t < 256 && !isDSNStop(s[t-1]) {
		t--
	}
	ui := s[t:i]
	c := strings.LastIndexByte(ui, ':')
	if c < 0 || c == len(ui)-1 {
		return span{}, false
	}
	if k := strings.LastIndexByte(ui[:c], ':'); k >= 0 {
		t += k + 1
	}
	// Already redacted. A suffix, not the whole userinfo: past the
	// 256-byte bound the scan stops inside a longer run, and what it left
	// before the mask must not make a second pass redact again.
	if strings.HasSuffix(s[t:i], URLMask+":"+URLMask) {
		return span{}, false
	}
	return span{start: t, end: i, rule: ruleDSN, kind: kindUserinfo}, true
}

func isDSNStop(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte("\"'`<>=([{,;|\\", c) >= 0
}

// isDSNAddress reports whether a DSN's address starts at k: "/db",
// "proto(…", "host:port" or "[v6]:port".
func isDSNAddress(s string, k int) bool {
	if k >= len(s) {
		return false
	}
	if s[k] == '/' {
		return k+1 < len(s) && isKeyChar(s[k+1])
	}
	var h int
	if s[k] == '[' {
		e := strings.IndexByte(s[k:min(len(s), k+48)], ']')
		if e < 0 {
			return false
		}
		h = k + e + 1
	} else {
		if e := runEnd(s, k, isAlnum); e > k && e-k <= 10 && e < len(s) && s[e] == '(' {
			return true // tcp(…), unix(…)
		}
		h = runEnd(s, k, func(c byte) bool { return isAlnum(c) || c == '.' || c == '-' })
		if h == k {
			return false
		}
	}
	if h >= len(s) || s[h] != ':' {
		return false
	}
	d := runEnd(s, h+1, isDigit)
	return d-h-1 >= 1 && d-h-1 <= 5 && (d == len(s) || !isAlnum(s[d]))
}

// matchPercentKV matches the value of a percent-encoded pair
// ("password%3Dhunter2", as in a URL-encoded form or a URL inside a query
// value) at the '%' of "%3D" when the key is sensitive. The key may follow
// an escape ("%26password%3D…"); the value ends at a delimiter, '&', or an
// escaped delimiter ("%26", "%20", "%22", …).
func (p *Policy) matchPercentKV(s string, i int) (span, bool) {
	if len(s)-i < 4 || s[i+1] != '3' || (s[i+2] != 'D' && s[i+2] != 'd') {
		return span{}, false
	}
	st := i
	for st > 0 && i-st <= 64 && isKeyChar(s[st-1]) {
		st--
	}
	if st >= 1 && s[st-1] == '%' && i-st > 2 {
		st += 2 // the hex digits of the escape before the key
	}
	if st == i || !p.IsSensitiveKey(s[st:i]) {
		return span{}, false
	}
	v := i + 3
	if strings.HasPrefix(s[v:], Mask) {
		return span{}, false
	}
	e := v
	for e < len(s) && !isValueDelim(s[e]) && s[e] != '&' && !(s[e] == '%' && isEscapedDelim(s, e)) {
		e++
	}
	if e == v || isMarker(s[v:e]) {
		return span{}, false
	}
	return span{start: v, end: e, rule: rulePercentEncoded}, true
}

// isEscapedDelim reports whether the escape at i ("%XX") encodes a value
// delimiter or '&'.
func isEscapedDelim(s string, i int) bool {
	if len(s)-i < 3 || !isHex(s[i+1]) || !isHex(s[i+2]) {
		return false
	}
	b := unhex(s[i+1])<<4 | unhex(s[i+2])
	return b == '&' || isValueDelim(b)
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// matchTelegram matches a Telegram bot token ("<bot id>:AA<33 more>") at
// its ':'.
func matchTelegram(s string, i int) (span, bool) {
	d := i
	for d > 0 && i-d <= 10 && isDigit(s[d-1]) {
		d--
	}
	if i-d < 8 || i-d > 10 || (d > 0 && isAlnum(s[d-1])) {
		return span{}, false
	}
	if e := runEndMax(s, i+1, 36, isB64URL); e-i-1 == 35 && (e == len(s) || !isB64URL(s[e])) {
		return span{start: d, end: e, rule: ruleTelegram}, true
	}
	return span{}, false
}

func isAzureChar(c byte) bool { return isAlnum(c) || c == '_' || c == '~' || c == '.' }

func isAzureBody(c byte) bool { return isAzureChar(c) || c == '-' }

// matchAzureSecret matches a Microsoft Entra ID (Azure AD) client secret
// ("abc1Q~" and 31 to 34 more) at the '~' after its "Q".
func matchAzureSecret(s string, i int) (span, bool) {
	if i < 5 || s[i-1] != 'Q' || !isDigit(s[i-2]) {
		return span{}, false
	}
	st := i - 5
	for k := st; k < i-2; k++ {
		if !isAzureChar(s[k]) {
			return span{}, false
		}
	}
	if st > 0 && isAzureChar(s[st-1]) {
		return span{}, false
	}
	e := runEndMax(s, i+1, 35, isAzureBody)
	if n := e - i - 1; n < 31 || n > 34 {
		return span{}, false
	}
	return span{start: st, end: e, rule: ruleAzure}, true
}
