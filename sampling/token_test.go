package sampling_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

func TestVerifyToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	valid := mustToken(t, now.Add(time.Hour))
	exp, sig, _ := strings.Cut(valid, ".")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid", valid, nil},
		{"expired", mustToken(t, now.Add(-time.Second)), sampling.ErrTokenExpired},
		{"expires now", mustToken(t, now), sampling.ErrTokenExpired},
		{"empty", "", sampling.ErrTokenMalformed},
		{"no dot", exp + sig, sampling.ErrTokenMalformed},
		{"no expiry", "." + sig, sampling.ErrTokenMalformed},
		{"signed plus sign", "+" + valid, sampling.ErrTokenMalformed},
		{"negative", "-" + valid, sampling.ErrTokenMalformed},
		{"leading zero", "0" + valid, sampling.ErrTokenMalformed},
		{"padded signature", valid + "=", sampling.ErrTokenMalformed},
		{"short signature", valid[:len(valid)-1], sampling.ErrTokenMalformed},
		{"std base64 chars", exp + "." + strings.Repeat("+", len(sig)), sampling.ErrTokenMalformed},
		{"huge", strings.Repeat("9", 10_000) + "." + sig, sampling.ErrTokenMalformed},
		{"overflow expiry", "9999999999999999999." + sig, sampling.ErrTokenMalformed},
		{"other expiry same signature", "1900000000." + sig, sampling.ErrTokenSignature},
		{"zero signature", exp + "." + strings.Repeat("A", len(sig)), sampling.ErrTokenSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sampling.VerifyToken(testSecret, tt.token, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyToken(%.40q) = %v, want %v", tt.token, err, tt.want)
			}
		})
	}
}

func TestSignTokenNoSecret(t *testing.T) {
	if _, err := sampling.SignToken(nil, time.Now()); !errors.Is(err, sampling.ErrNoSecret) {
		t.Fatalf("SignToken(nil) = %v", err)
	}
	if _, err := sampling.VerifyToken(nil, "1.x", time.Now()); !errors.Is(err, sampling.ErrNoSecret) {
		t.Fatalf("VerifyToken(nil) = %v", err)
	}
	p := mustNew(t)
	if _, err := p.SignToken(time.Now()); !errors.Is(err, sampling.ErrNoSecret) {
		t.Fatalf("Policy.SignToken without secret = %v", err)
	}
}
