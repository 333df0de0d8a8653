package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

const (
	hashPrefix    = "hmac:"
	hashHexDigits = 16
)

// Hash returns a keyed hash of s: "hmac:" followed by the first 16 hex
// digits (64 bits) of HMAC-SHA256(key, s), for example
// "hmac:3f2a9c0d1e4b5a67". Equal inputs give equal outputs under one key,
// so an identifier such as a user ID stays correlatable across records
// without being readable.
//
// The key is the one given to WithHashKey. Without it the Policy uses a
// random key made by New, so hashes correlate within one process only. Hash
// is safe for concurrent use.
func (p *Policy) Hash(s string) string {
	p = p.or()
	h, _ := p.hmacs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, p.hashKey)
	}
	h.Reset()
	_, _ = h.Write([]byte(s))
	var sum [sha256.Size]byte
	var out [len(hashPrefix) + hashHexDigits]byte
	copy(out[:], hashPrefix)
	hex.Encode(out[len(hashPrefix):], h.Sum(sum[:0])[:hashHexDigits/2])
	p.hmacs.Put(h)
	return string(out[:])
}

// isHashToken reports whether v is exactly a Hash output.
func isHashToken(v string) bool {
	if len(v) != len(hashPrefix)+hashHexDigits || v[:len(hashPrefix)] != hashPrefix {
		return false
	}
	return isLowerHex(v[len(hashPrefix):])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
