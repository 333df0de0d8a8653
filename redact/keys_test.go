package redact

import "testing"

func TestIsSensitiveKey(t *testing.T) {
	p := New(WithSensitiveKeys("pin_code"))
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true},
		{"Password", true},
		{"passwd", true},
		{"api_key", true},
		{"apiKey", true},
		{"API-KEY", true},
		{"x-api-key", true},
		{"APIKey", true},
		{"auth_token", true},
		{"sessionToken", true},
		{"DB_PASSWORD", true},
		{"access_token", true},
		{"refresh-token", true},
		{"client_secret", true},
		{"Authorization", true},
		{"http.request.header.authorization", true},
		{"Set-Cookie", true},
		{"cookie", true},
		{"card number", true},
		{"credit_card_number", true},
		{"cvv", true},
		{"user_ssn", true},
		{"session", true},
		{"session_id", true},
		{"X-CSRF-Token", true},
		{"pin_code", true}, // user-added
		{"PinCode", true},  // user-added, other spelling
		{"user.pin-code", true},
		{"pass", true},
		{"db_pass", true},
		{"otp", true},
		{"totp", true},
		{"pin", true},
		{"card_pin", true},
		{"cvc", true},
		{"iban", true},
		{"bank_account", true},
		{"BankAccount", true},
		{"ssn", true},
		{"session_key", true},
		{"client_assertion", true},
		{"AccountKey", true},
		{"SharedAccessKey", true},

		// near misses that must survive
		{"tokens_used", false},
		{"secretary", false},
		{"passwordless", false},
		{"order_id", false},
		{"user_id", false},
		{"duration_ms", false},
		{"http.request.method", false},
		{"api_key_id", false},
		{"cookie_count", false},
		{"session_count", false},
		{"pincode_region", false},
		{"passenger", false},
		{"pinned", false},
		{"shipping", false},
		{"spinner", false},
		{"compass", false},
		{"bypass", false},
		{"cache_bypass", false},
		{"pass_count", false},
		{"bank_account_id", false},
		{"otpauth_enabled", false},
		{"", false},
		{"_", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := p.IsSensitiveKey(tt.key); got != tt.want {
				t.Errorf("IsSensitiveKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestIsSensitiveKeyLong(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	p := New()
	if p.IsSensitiveKey(string(long)) {
		t.Error("long clean key matched")
	}
	if !p.IsSensitiveKey(string(long) + "_password") {
		t.Error("long key ending in _password did not match")
	}
}

func TestIsSensitiveKeyAllocs(t *testing.T) {
	p := New()
	keys := []string{"order_id", "http.request.method", "sessionToken", "tokens_used"}
	allocs := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			p.IsSensitiveKey(k)
		}
	})
	if allocs != 0 {
		t.Errorf("IsSensitiveKey allocates %v times, want 0", allocs)
	}
}

func TestNilPolicy(t *testing.T) {
	var p *Policy
	if got := p.String("password=hunter2"); got != "password=[REDACTED]" {
		t.Errorf("nil policy String = %q", got)
	}
	if !p.IsSensitiveKey("token") {
		t.Error("nil policy IsSensitiveKey(token) = false")
	}
	if got := p.URLString("https://u:p@h/"); got != "https://REDACTED:REDACTED@h/" {
		t.Errorf("nil policy URLString = %q", got)
	}
	if got := p.Hash("x"); !isHashToken(got) {
		t.Errorf("nil policy Hash = %q", got)
	}
	if got := p.Error(nil); got != "" {
		t.Errorf("nil policy Error(nil) = %q", got)
	}
	if got := p.Header(nil); got != nil {
		t.Errorf("nil policy Header(nil) = %v", got)
	}
}
