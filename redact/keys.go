package redact

import (
	"strings"
	"sync/atomic"
)

// IsSensitiveKey reports whether values under key must be redacted.
//
// Matching ignores case and separators: "api_key", "apiKey", "API-KEY" and
// "x-api-key" all match, because a key matches when it, or its trailing
// words, spell a sensitive key ("x-api-key" ends in the words "api key").
// Words are split at separators (anything but ASCII letters and digits) and
// at camel-case humps. A key with a whole word "password", "passwd",
// "secret" or "token" anywhere matches too ("auth_token", "sessionToken",
// "DB_PASSWORD"), but a different word that merely contains those letters
// does not ("tokens_used", "secretary").
//
// IsSensitiveKey does not allocate, except to remember the answer for a new
// key while its memo has room (a fixed number of short keys per Policy).
func (p *Policy) IsSensitiveKey(key string) bool {
	p = p.or()
	if key == "" {
		return false
	}
	if len(key) > maxCachedKey {
		return p.isSensitiveKey(key)
	}
	// A cheap hash: a collision only costs a recomputation.
	h := uint(len(key))*131 + uint(key[0])*31 + uint(key[len(key)/2])*17 + uint(key[len(key)-1])
	slot := &p.keyCache.slots[h%keyCacheSlots]
	if e := slot.Load(); e != nil && e.key == key {
		return e.sensitive
	}
	sensitive := p.isSensitiveKey(key)
	if slot.Load() == nil {
		// Fill empty slots only: at most keyCacheSlots allocations over
		// the policy's life, however many distinct keys it sees.
		slot.CompareAndSwap(nil, &keyEntry{key: strings.Clone(key), sensitive: sensitive})
	}
	return sensitive
}

// Log keys repeat, so IsSensitiveKey remembers its answers for up to
// keyCacheSlots short keys.
const (
	keyCacheSlots = 1024
	maxCachedKey  = 64
)

type keyCache struct {
	slots [keyCacheSlots]atomic.Pointer[keyEntry]
}

type keyEntry struct {
	key       string
	sensitive bool
}

func (p *Policy) isSensitiveKey(key string) bool {
	var nbuf [128]byte
	var wbuf [16]int
	norm := nbuf[:0]
	if len(key) > len(nbuf) {
		norm = make([]byte, 0, len(key))
	}
	starts := wbuf[:0]
	newWord := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isLower(c) || isDigit(c):
		case isUpper(c):
			if i > 0 && (isLower(key[i-1]) || isDigit(key[i-1])) {
				newWord = true
			} else if i > 0 && isUpper(key[i-1]) && i+1 < len(key) && isLower(key[i+1]) {
				newWord = true // the K in "APIKey"
			}
			c += 'a' - 'A'
		default:
			newWord = true
			continue
		}
		if newWord {
			starts = append(starts, len(norm))
			newWord = false
		}
		norm = append(norm, c)
	}
	for i, st := range starts {
		end := len(norm)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		switch string(norm[st:end]) {
		case "password", "passwd", "secret", "token":
			return true
		}
		suffix := norm[st:]
		if p.keyLens&lenBit(len(suffix)) == 0 || !p.keyFirst[suffix[0]] {
			continue
		}
		if len(suffix) < len(p.keysByLen) {
			for _, k := range p.keysByLen[len(suffix)] {
				if string(suffix) == k {
					return true
				}
			}
		} else if _, ok := p.keys[string(suffix)]; ok {
			return true
		}
	}
	return false
}

// normalizeKey lower-cases k and drops everything but ASCII letters and
// digits.
func normalizeKey(k string) string {
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case isLower(c) || isDigit(c):
			b = append(b, c)
		case isUpper(c):
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

func lenBit(n int) uint64 {
	if n >= 63 {
		return 1 << 63
	}
	return 1 << uint(n)
}

func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return isLower(c) || isUpper(c) }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }
