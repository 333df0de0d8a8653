package redact

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Mask is what a redacted value is replaced by in mask mode (the default).
const Mask = "[REDACTED]"

// URLMask replaces userinfo parts and sensitive query values in URLs, as
// the OpenTelemetry semantic conventions for url.full require.
const URLMask = "REDACTED"

// Truncated replaces the parts of a slog.Any value that lie beyond the
// walking limits (see WithMaxDepth and WithMaxItems).
const Truncated = "[TRUNCATED]"

// Policy is one redaction policy: which keys, headers, URL parts and value
// patterns are secret, and what they are replaced by. Every otelkit package
// applies the same Policy to logs, span attributes, span events, URLs,
// headers and error strings, so a secret cannot leak through a side door.
//
// A Policy is immutable after New and safe for concurrent use. A nil
// *Policy behaves exactly like New() with no options; its methods never
// panic.
type Policy struct {
	keys       map[string]struct{} // normalized sensitive keys
	keysByLen  [64][]string        // the same, by length: faster than the map for a few keys
	keyCache   keyCache            // IsSensitiveKey's memo; an internal detail, not state
	keyClasses keyClassCache       // keyInfo's memo, likewise
	keyLens    uint64              // bit n set: some normalized key has length n (63: >= 63)
	keyFirst   [256]bool           // first byte of some normalized key
	allowMode  bool
	allow      []string            // canonical, sorted, deduplicated
	allowLower []string            // allow, lower-cased
	allowSet   map[string]struct{} // canonical
	deny       map[string]struct{} // canonical
	patterns   []pattern
	emails     bool
	ips        bool
	dropQuery  bool
	hashMode   bool
	hashKey    []byte
	hmacs      sync.Pool
	maxDepth   int
	maxItems   int
	counter    counter
	hasPattern bool
}

// defaultSensitiveKeys are matched after normalization (lower case, no
// separators), against the whole key or its trailing words.
var defaultSensitiveKeys = []string{
	"password", "passwd", "pwd", "passphrase", "secret", "token",
	"access_token", "refresh_token", "id_token", "authorization",
	"api_key", "apikey", "private_key", "client_secret", "secret_key",
	"session", "session_id", "cookie", "set-cookie", "card_number", "credit_card",
	"cvv", "cvc", "ssn", "jwt", "credentials",
	"pass", "passcode", "otp", "totp", "pin", "iban", "bank_account",
	"session_key", "client_assertion", "account_key", "shared_access_key",
}

var defaultDenyHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key", "X-Auth-Token", "X-Csrf-Token", "X-Xsrf-Token",
	"X-Amz-Security-Token", "X-Goog-Api-Key", "X-Vault-Token",
	"X-Forwarded-Authorization",
}

var defaultAllowHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control",
	"Content-Encoding", "Content-Length", "Content-Type", "Host", "Origin",
	"Referer", "User-Agent", "X-Request-Id", "Traceparent", "Tracestate",
}

// New returns a Policy. With no options it masks the built-in sensitive
// keys, denied headers, URL credentials and secret-looking values, logs
// only allow-listed headers, and leaves emails and IP addresses alone.
func New(opts ...Option) *Policy {
	c := newConfig(opts)
	p := &Policy{
		keys:      make(map[string]struct{}, len(defaultSensitiveKeys)+len(c.keys)),
		allowMode: c.allowListMode,
		allowSet:  make(map[string]struct{}),
		deny:      make(map[string]struct{}),
		patterns:  slices.Clone(c.patterns),
		emails:    c.emails,
		ips:       c.ips,
		dropQuery: c.dropQuery,
		maxDepth:  c.maxDepth,
		maxItems:  c.maxItems,
	}
	p.hasPattern = len(p.patterns) > 0
	for _, k := range slices.Concat(defaultSensitiveKeys, c.keys) {
		n := normalizeKey(k)
		if n == "" {
			continue
		}
		if _, dup := p.keys[n]; dup {
			continue
		}
		p.keys[n] = struct{}{}
		if len(n) < len(p.keysByLen) {
			p.keysByLen[len(n)] = append(p.keysByLen[len(n)], n)
		}
		p.keyLens |= lenBit(len(n))
		p.keyFirst[n[0]] = true
	}
	for _, h := range slices.Concat(defaultDenyHeaders, c.denyHeaders) {
		p.deny[http.CanonicalHeaderKey(h)] = struct{}{}
	}
	for _, h := range slices.Concat(defaultAllowHeaders, c.allowHeaders) {
		h = http.CanonicalHeaderKey(h)
		if _, dup := p.allowSet[h]; !dup {
			p.allowSet[h] = struct{}{}
			p.allow = append(p.allow, h)
		}
	}
	slices.Sort(p.allow)
	for _, h := range p.allow {
		p.allowLower = append(p.allowLower, strings.ToLower(h))
	}

	p.hashKey = c.hashKey
	p.hashMode = len(c.hashKey) > 0
	if !p.hashMode {
		// Hash still works in mask mode: with a random key, hashes
		// correlate within this process only.
		p.hashKey = make([]byte, 32)
		_, _ = rand.Read(p.hashKey)
	}
	rules := slices.Clone(builtinRules)
	for _, pt := range p.patterns {
		rules = append(rules, pt.rule)
	}
	p.counter.init(c.meterProvider, rules)
	return p
}

var defaultPolicy = sync.OnceValue(func() *Policy { return New() })

// or returns p, or the default policy when p is nil.
func (p *Policy) or() *Policy {
	if p == nil {
		return defaultPolicy()
	}
	return p
}

// replacement returns what a redacted value is replaced by: Mask, or its
// keyed hash in hash mode.
func (p *Policy) replacement(v string) string {
	if p.hashMode {
		return p.Hash(v)
	}
	return Mask
}

// isMarker reports whether v is already the output of a redaction, so
// redacting it again must leave it alone.
func isMarker(v string) bool {
	return v == Mask || v == URLMask || v == Truncated || isHashToken(v)
}
