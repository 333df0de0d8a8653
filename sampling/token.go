package sampling

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"
)

// Token errors returned by [VerifyToken]. They are distinct so that callers
// can count rejections by reason; none of them reveals the secret.
var (
	// ErrTokenMalformed reports a token that is not <unix-expiry>.<signature>.
	ErrTokenMalformed = errors.New("sampling: malformed debug token")
	// ErrTokenSignature reports a token whose signature does not match.
	ErrTokenSignature = errors.New("sampling: bad debug token signature")
	// ErrTokenExpired reports a token whose expiry has passed.
	ErrTokenExpired = errors.New("sampling: expired debug token")
	// ErrTokenTooLong reports a token that expires further in the future than
	// the policy allows.
	ErrTokenTooLong = errors.New("sampling: debug token lifetime too long")
	// ErrNoSecret reports an attempt to sign or verify without a secret.
	ErrNoSecret = errors.New("sampling: no debug secret configured")
)

// maxTokenLen bounds the work done on an untrusted header value. A token is
// at most 19 digits, a dot and 43 base64 characters.
const maxTokenLen = 128

// b64 is strict so that one signature has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// SignToken returns a debug token that expires at expiry:
// "<unix-expiry>.<base64url(HMAC-SHA256(secret, "<unix-expiry>"))>". Send it
// in the debug header to turn on per-request debug. It returns ErrNoSecret
// if secret is empty.
func SignToken(secret []byte, expiry time.Time) (string, error) {
	if len(secret) == 0 {
		return "", ErrNoSecret
	}
	exp := strconv.AppendInt(nil, expiry.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write(exp)
	var sum [sha256.Size]byte
	return string(exp) + "." + b64.EncodeToString(mac.Sum(sum[:0])), nil
}

// VerifyToken checks a token made by [SignToken] with the same secret. It
// returns the token's expiry, or one of the ErrToken* errors (ErrNoSecret
// without a secret). The signature is compared in constant time; any input
// is safe.
func VerifyToken(secret []byte, token string, now time.Time) (time.Time, error) {
	if len(secret) == 0 {
		return time.Time{}, ErrNoSecret
	}
	exp, sig, err := parseToken(token)
	if err != nil {
		return time.Time{}, err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(token[:len(token)-len(sig)-1]))
	var want, got [sha256.Size]byte
	mac.Sum(want[:0])
	if n, err := b64.Decode(got[:], []byte(sig)); err != nil || n != sha256.Size {
		return time.Time{}, ErrTokenMalformed
	}
	if !hmac.Equal(want[:], got[:]) {
		return time.Time{}, ErrTokenSignature
	}
	expiry := time.Unix(exp, 0)
	if !now.Before(expiry) {
		return expiry, ErrTokenExpired
	}
	return expiry, nil
}

// parseToken splits a token into its expiry and signature text. Only plain
// decimal digits are accepted for the expiry, so one expiry has exactly one
// spelling.
func parseToken(token string) (exp int64, sig string, err error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return 0, "", ErrTokenMalformed
	}
	dot := -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			dot = i
			break
		}
		if c < '0' || c > '9' {
			return 0, "", ErrTokenMalformed
		}
	}
	if dot < 1 || dot > 19 || (dot > 1 && token[0] == '0') {
		return 0, "", ErrTokenMalformed
	}
	exp, perr := strconv.ParseInt(token[:dot], 10, 64)
	if perr != nil {
		return 0, "", ErrTokenMalformed
	}
	sig = token[dot+1:]
	if len(sig) != b64.EncodedLen(sha256.Size) {
		return 0, "", ErrTokenMalformed
	}
	return exp, sig, nil
}
