package redact

import (
	"strings"
	"sync/atomic"
)

// KeyMask replaces an attribute key, group name or map key that is itself
// a secret (see Policy.Key). The value under such a key is replaced by
// Mask as well: nothing tells what it is.
const KeyMask = "[REDACTED_KEY]"

// Key returns key, or KeyMask and true when key itself holds a secret: when
// String would redact something in it (a token, a JWT, an AWS key ID, a
// "password=hunter2" pair, credentials in a URL, ...). Names that are
// merely sensitive ("password", "api_key") are not secrets: their values
// are masked, the names stay (see IsSensitiveKey).
//
// Keys repeat, so the answer for short keys is remembered (a fixed number
// per Policy); a clean key seen before costs a lookup and no allocation.
func (p *Policy) Key(key string) (string, bool) {
	p = p.or()
	if p.keyInfo(key)&keySecret != 0 {
		p.count(ruleKey)
		return KeyMask, true
	}
	return key, false
}

// keyClass is what the rules say of a key.
type keyClass uint8

const (
	keySensitive keyClass = 1 << iota // values under it are masked
	keySecret                         // the key itself is a secret
	keyKnown                          // set on every memo entry
)

// keyInfo classifies key: IsSensitiveKey and the value rules, remembered
// for up to keyCacheSlots short keys.
func (p *Policy) keyInfo(key string) keyClass {
	if key == "" {
		return 0
	}
	if len(key) > maxCachedKey {
		return p.classify(key)
	}
	h := uint(len(key))*131 + uint(key[0])*31 + uint(key[len(key)/2])*17 + uint(key[len(key)-1])
	slot := &p.keyClasses.slots[h%keyCacheSlots]
	if e := slot.Load(); e != nil && e.key == key {
		return e.class
	}
	c := p.classify(key)
	if slot.Load() == nil {
		// Fill empty slots only: at most keyCacheSlots allocations over
		// the policy's life, however many distinct keys it sees.
		slot.CompareAndSwap(nil, &keyClassEntry{key: strings.Clone(key), class: c})
	}
	return c
}

func (p *Policy) classify(key string) keyClass {
	c := keyKnown
	if isMarker(key) || key == KeyMask {
		return c
	}
	if p.holdsSecret(key) {
		return c | keySecret
	}
	if p.isSensitiveKey(key) {
		c |= keySensitive
	}
	return c
}

// keyClassCache is keyInfo's memo.
type keyClassCache struct {
	slots [keyCacheSlots]atomic.Pointer[keyClassEntry]
}

type keyClassEntry struct {
	key   string
	class keyClass
}

// holdsSecret reports whether the value rules find a secret in s, as text
// would, without counting it (Key counts each replacement).
func (p *Policy) holdsSecret(s string) (found bool) {
	defer func() {
		if recover() != nil {
			found = true // what cannot be scanned is not let through
		}
	}()
	var arr [8]span
	spans := p.scan(s, arr[:0], len(s))
	if p.hasPattern {
		spans = p.patternSpans(s, spans)
	}
	if len(spans) > 0 && strings.Contains(s, hashPrefix) {
		spans = outsideHashTokens(s, spans)
	}
	for _, sp := range spans {
		if sp.start >= 0 && sp.end <= len(s) && sp.end > sp.start && !protected(s, sp) {
			return true
		}
	}
	return false
}
