package redact

import (
	"net/http"
	"regexp"

	"go.opentelemetry.io/otel/metric"
)

// Default limits for walking values inside slog.Any.
const (
	// DefaultMaxDepth is how deep Attr walks maps, slices, structs and
	// pointers inside a slog.Any value before it replaces the rest with
	// "[TRUNCATED]".
	DefaultMaxDepth = 8
	// DefaultMaxItems is how many elements (map entries, slice elements,
	// struct fields) Attr inspects in one slog.Any value before it replaces
	// the rest with "[TRUNCATED]".
	DefaultMaxItems = 1000
)

// Option configures a Policy. Options are applied in order by New; later
// options add to (lists) or override (settings) earlier ones.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// pattern is a user-supplied value rule.
type pattern struct {
	rule string
	re   *regexp.Regexp
}

// config collects options; New turns it into an immutable Policy.
type config struct {
	keys          []string
	allowHeaders  []string
	denyHeaders   []string
	allowListMode bool
	patterns      []pattern
	emails        bool
	ips           bool
	hashKey       []byte
	dropQuery     bool
	maxDepth      int
	maxItems      int
	meterProvider metric.MeterProvider
}

func newConfig(opts []Option) config {
	c := config{
		allowListMode: true,
		maxDepth:      DefaultMaxDepth,
		maxItems:      DefaultMaxItems,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithSensitiveKeys adds keys to the built-in list of sensitive keys (see
// Policy.IsSensitiveKey). Matching ignores case and separators, so
// WithSensitiveKeys("pin_code") also matches "PinCode" and "x-pin-code".
func WithSensitiveKeys(keys ...string) Option {
	keys = append([]string(nil), keys...)
	return optionFunc(func(c *config) { c.keys = append(c.keys, keys...) })
}

// WithHeaderAllowList turns allow-list mode on (the default) or off. In
// allow-list mode Policy.Header and Policy.HeaderAttr keep only the headers
// on the allow list (see WithAllowedHeaders); with it off they keep every
// header. In both modes the deny list wins: a denied header's value is
// always masked.
func WithHeaderAllowList(on bool) Option {
	return optionFunc(func(c *config) { c.allowListMode = on })
}

// WithAllowedHeaders adds header names to the allow list used in allow-list
// mode. The built-in list holds only headers that carry no credentials:
// Accept, Accept-Encoding, Accept-Language, Cache-Control, Content-Encoding,
// Content-Length, Content-Type, Host, Origin, Referer, User-Agent,
// X-Request-Id, Traceparent and Tracestate.
func WithAllowedHeaders(names ...string) Option {
	names = canonicalHeaders(names)
	return optionFunc(func(c *config) { c.allowHeaders = append(c.allowHeaders, names...) })
}

// WithDeniedHeaders adds header names to the deny list, whose values are
// always masked (for example a custom debug-header secret). The built-in
// list is Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
// X-Auth-Token, X-CSRF-Token, X-XSRF-Token, X-Amz-Security-Token,
// X-Goog-Api-Key, X-Vault-Token and X-Forwarded-Authorization; any header
// whose name is a sensitive key is denied as well.
func WithDeniedHeaders(names ...string) Option {
	names = canonicalHeaders(names)
	return optionFunc(func(c *config) { c.denyHeaders = append(c.denyHeaders, names...) })
}

// WithPattern adds a value rule: every match of re in free text and string
// values is redacted, and counted under rule. If re has a capturing group,
// only the text of the first group is redacted (so `(?i)pin=(\d+)` keeps
// "pin="). A nil re is ignored. Custom patterns run a regular expression on
// every string, so they cost more than the built-in rules.
func WithPattern(rule string, re *regexp.Regexp) Option {
	return optionFunc(func(c *config) {
		if re != nil {
			if rule == "" {
				rule = "pattern"
			}
			c.patterns = append(c.patterns, pattern{rule: rule, re: re})
		}
	})
}

// WithEmailRule turns on (or off) the rule that redacts email addresses in
// free text and string values. It is off by default.
func WithEmailRule(on bool) Option {
	return optionFunc(func(c *config) { c.emails = on })
}

// WithIPRule turns on (or off) the rule that redacts IPv4 and IPv6
// addresses in free text and string values. It is off by default.
func WithIPRule(on bool) Option {
	return optionFunc(func(c *config) { c.ips = on })
}

// WithHashKey switches the policy from mask mode to keyed-hash mode: a
// redacted value is replaced by "hmac:" followed by 16 hex digits of
// HMAC-SHA256(key, value), so equal values stay correlatable without being
// readable. The key is copied. An empty key keeps mask mode. URL parts are
// always replaced by "REDACTED", as the semantic conventions require.
func WithHashKey(key []byte) Option {
	key = append([]byte(nil), key...)
	return optionFunc(func(c *config) {
		if len(key) > 0 {
			c.hashKey = key
		}
	})
}

// WithDropQuery makes URL redaction drop the query string entirely instead
// of masking only the sensitive parameters.
func WithDropQuery(on bool) Option {
	return optionFunc(func(c *config) { c.dropQuery = on })
}

// WithMaxDepth sets how deep Attr walks values inside slog.Any (default
// DefaultMaxDepth). Values deeper than that are replaced by "[TRUNCATED]",
// so nothing uninspected reaches a sink. n < 1 is ignored.
func WithMaxDepth(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 1 {
			c.maxDepth = n
		}
	})
}

// WithMaxItems sets how many elements Attr inspects in one slog.Any value
// (default DefaultMaxItems). Elements past the limit are dropped and a
// "[TRUNCATED]" marker is added. n < 1 is ignored.
func WithMaxItems(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 1 {
			c.maxItems = n
		}
	})
}

// WithMeterProvider sets the MeterProvider for the otelkit.redact.count
// counter. By default the global MeterProvider (otel.GetMeterProvider) is
// looked up at the first redaction, so a Policy built before the globals are
// set still reports.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

func canonicalHeaders(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, http.CanonicalHeaderKey(n))
		}
	}
	return out
}
