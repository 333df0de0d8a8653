package redact

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// Fake secrets, assembled so that no scanner mistakes this file for a leak.
var (
	fakeJWT    = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiJGQUtFIn0.c2lnbmF0dXJlLWZha2U"
	fakeGitHub = "ghp_" + "FAKEfakeFAKEfakeFAKEfakeFAKEfake0000"
	fakeGitPAT = "github_pat_" + "11FAKE0000_fakefakefakefakefakefake"
	fakeGitLab = "glpat-" + "FAKEfakeFAKEfake0000"
	fakeSlack  = "xoxb-" + "0000000000-FAKEfakeFAKE"
	fakeStripe = "sk_live_" + "FAKEfakeFAKEfake0000"
	fakeWhsec  = "whsec_" + "FAKEfakeFAKEfake0000"
	fakeAWS    = "AKIA" + "FAKEFAKEFAKE0000"
	fakeBasic  = "Zm9vOmJhcg==" // foo:bar
	fakePEM    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKE\nFAKE==\n-----END RSA PRIVATE KEY-----"
)

func TestString(t *testing.T) {
	p := New()
	tests := []struct {
		name, in, want string
	}{
		// rules
		{"jwt", "got " + fakeJWT + " from idp", "got [REDACTED] from idp"},
		{"bearer", "header Bearer abc123.def-456", "header Bearer [REDACTED]"},
		{"bearer lower", "bearer abc123def456", "bearer [REDACTED]"},
		{"basic", "Basic " + fakeBasic, "Basic [REDACTED]"},
		{"aws", "key " + fakeAWS + ".", "key [REDACTED]."},
		{"github", "push with " + fakeGitHub, "push with [REDACTED]"},
		{"github pat", "pat=" + fakeGitPAT, "pat=[REDACTED]"},
		{"gitlab", fakeGitLab + " expired", "[REDACTED] expired"},
		{"slack", "slack " + fakeSlack, "slack [REDACTED]"},
		{"stripe", "charge via " + fakeStripe, "charge via [REDACTED]"},
		{"stripe webhook", fakeWhsec, "[REDACTED]"},
		{"pem", "key: " + fakePEM + " loaded", "key: [REDACTED] loaded"},
		{"pem cut short", "oops -----BEGIN PRIVATE KEY-----\nMIIE", "oops [REDACTED]"},
		{"card", "paid with 4111111111111111.", "paid with [REDACTED]."},
		{"card spaces", "card 4111 1111 1111 1111 exp 12/30", "card [REDACTED] exp 12/30"},
		{"card dashes", "card 5555-5555-5555-4444", "card [REDACTED]"},
		{"amex", "amex 378282246310005", "amex [REDACTED]"},
		{"kv equals", "login user=bob password=hunter2 ok", "login user=bob password=[REDACTED] ok"},
		{"kv colon", "password: hunter2", "password: [REDACTED]"},
		{"kv quoted", `token="a b c" next`, `token="[REDACTED]" next`},
		{"kv json", `{"user":"bob","api_key":"k-123","n":1}`, `{"user":"bob","api_key":"[REDACTED]","n":1}`},
		{"kv json spaced", `{"secret" : "s1"}`, `{"secret" : "[REDACTED]"}`},
		{"kv escaped json", `body={\"password\":\"hunter2\"}`, `body={\"password\":\"[REDACTED]\"}`},
		{"kv go map", "map[password:hunter2 user:bob]", "map[password:[REDACTED] user:bob]"},
		{"kv go struct", "{User:bob Password:hunter2}", "{User:bob Password:[REDACTED]}"},
		{"kv auth scheme", "Authorization: Bearer abc123def", "Authorization: [REDACTED]"},
		{"kv prose secret", "invalid token: s3cr3t", "invalid token: [REDACTED]"},
		{"url in text", `Get "https://api.test/v1?page=2&access_token=abc": EOF`, `Get "https://api.test/v1?page=2&access_token=REDACTED": EOF`},
		{"url userinfo", "dial postgres://app:pw@db:5432/x failed", "dial postgres://REDACTED:REDACTED@db:5432/x failed"},
		{"several", "token=a1 and " + fakeGitHub, "token=[REDACTED] and [REDACTED]"},
		{"dsn mysql", "open admin:pw0@tcp(db:3306)/orders: refused", "open REDACTED:REDACTED@tcp(db:3306)/orders: refused"},
		{"dsn host port", "dial user:pw0@db:5432/app", "dial REDACTED:REDACTED@db:5432/app"},
		{"dsn no host", "user:pw0@/dbname", "REDACTED:REDACTED@/dbname"},
		{"dsn struct field kept", "{DSN:admin:pw0@tcp(db:3306)/x}", "{DSN:REDACTED:REDACTED@tcp(db:3306)/x}"},
		{"dsn quoted", `sql: open "app:p@ss:w0rd@tcp(h:3306)/x"`, `sql: open "app:REDACTED:REDACTED@tcp(h:3306)/x"`},
		{"dsn as value", "dsn=admin:pw0@tcp(db:3306)/orders", "dsn=REDACTED:REDACTED@tcp(db:3306)/orders"},
		{"slack webhook", "post https://hooks.slack.com/services/T0000/B0000/FAKEfake0000FAKE: 404", "post https://hooks.slack.com/services/T0000/B0000/[REDACTED]: 404"},
		{"percent encoded", "next=%2Fa%3Fpassword%3Dhunter2%26x%3D1", "next=%2Fa%3Fpassword%3D[REDACTED]%26x%3D1"},
		{"pass key", "login bob pass=hunter2", "login bob pass=[REDACTED]"},
		{"connection string", "AccountName=a;AccountKey=RkFLRQ==;EndpointSuffix=x", "AccountName=a;AccountKey=[REDACTED];EndpointSuffix=x"},
		{"kv in url path", "sb://h.example/;SharedAccessKey=RkFLRQ==", "sb://h.example/;SharedAccessKey=[REDACTED]"},
		{"terraform whole token", "t=FAKEfake00000A.atlasv1." + strings.Repeat("F", 60) + " ok", "t=[REDACTED] ok"},

		// near misses that must survive
		{"order number fails luhn", "order 4111111111111112 shipped", "order 4111111111111112 shipped"},
		{"timestamp", "at 1700000000123 ms", "at 1700000000123 ms"},
		{"long id", "id 41111111111111111111111", "id 41111111111111111111111"},
		{"digits in word", "build4111111111111111", "build4111111111111111"},
		{"word token", "token refresh failed for user 42", "token refresh failed for user 42"},
		{"prose token colon", "invalid token: please retry", "invalid token: please retry"},
		{"tokens_used", "tokens_used=1500 model=x", "tokens_used=1500 model=x"},
		{"secretary", "secretary=alice", "secretary=alice"},
		{"bearer prose", "the Bearer authentication scheme", "the Bearer authentication scheme"},
		{"basic prose", "Basic authentication failed", "Basic authentication failed"},
		{"aws too short", "AKIA1234", "AKIA1234"},
		{"ghp short", "ghp_short", "ghp_short"},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIB", "-----BEGIN PUBLIC KEY-----\nMIIB"},
		{"email off", "mail bob@example.com", "mail bob@example.com"},
		{"ip off", "from 10.1.2.3", "from 10.1.2.3"},
		{"url clean", "GET https://example.com/a?page=2", "GET https://example.com/a?page=2"},
		{"empty", "", ""},
		{"time", "took 12:30:45", "took 12:30:45"},
		{"already", "password=[REDACTED] sig=REDACTED", "password=[REDACTED] sig=REDACTED"},
		{"email not dsn", "mail bob@example.com:25 ok", "mail bob@example.com:25 ok"},
		{"scp not dsn", "git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"prose not dsn", "a:b@c", "a:b@c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := p.String(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestStringOptIn(t *testing.T) {
	p := New(WithEmailRule(true), WithIPRule(true))
	tests := []struct {
		name, in, want string
	}{
		{"email", "mail bob.smith+x@example.co.uk now", "mail [REDACTED] now"},
		{"ipv4", "from 10.1.2.3:80", "from [REDACTED]:80"},
		{"ipv6", "from fe80::1ff:fe23:4567:890a now", "from [REDACTED] now"},
		{"ipv6 loopback", "addr ::1", "addr [REDACTED]"},
		{"not ip", "version 1.2.3 and 300.1.1.1", "version 1.2.3 and 300.1.1.1"},
		{"not email", "user@localhost", "user@localhost"},
		{"time", "at 12:30:45", "at 12:30:45"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringHashMode(t *testing.T) {
	p := New(WithHashKey([]byte("test-key")))
	got := p.String("password=hunter2 and password=hunter2")
	h := p.Hash("hunter2")
	if want := "password=" + h + " and password=" + h; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if again := p.String(got); again != got {
		t.Errorf("hash mode not idempotent: %q -> %q", got, again)
	}
	if other := New(WithHashKey([]byte("other"))).Hash("hunter2"); other == h {
		t.Error("different keys give equal hashes")
	}
}

func TestWithPattern(t *testing.T) {
	p := New(WithPattern("employee_id", regexp.MustCompile(`\bEMP-(\d{6})\b`)))
	if got, want := p.String("by EMP-123456 today"), "by EMP-[REDACTED] today"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStringAllocs(t *testing.T) {
	p := New()
	clean := "GET /orders/42 completed in 12ms for user 7: status=200 bytes=512 https://example.com/x?page=2"
	if a := testing.AllocsPerRun(100, func() { p.String(clean) }); a != 0 {
		t.Errorf("String on clean text allocates %v times", a)
	}
}

func TestStringNoPanicOnOddInput(t *testing.T) {
	p := New(WithEmailRule(true), WithIPRule(true))
	odd := []string{"=", ":", "://", "a://@", "@", "-----BEGIN ", "eyJ", "eyJ.", "Bearer ", "B", "\"password\":", "password=\"",
		`password=\"`, "4", strings.Repeat("4111 ", 100), strings.Repeat("=", 1000), "\xff\xfe=\x00", "::", "a@b.", "1.2.3.", "ghp_", "xoxb-"}
	for _, s := range odd {
		_ = p.String(s)
		_ = p.URLString(s)
	}
}

func TestStringLinearTime(t *testing.T) {
	p := New(WithEmailRule(true), WithIPRule(true))
	for _, unit := range []string{"eyJ", "://", "4 ", "a:", "a=", "@a", "ghp_", "xoxb-", "Bearer ", "1.", "\"k\":", "-----BEGIN ", "token=\"", "hmac:",
		"-AIza", "-sk-", "abc1Q~", "12345678:AA", "a:b@/c", "password%3D", "x%3D", "SK0", ".hvs.", "hooks.slack.com/services/", "-ATATT3"} {
		s := strings.Repeat(unit, 200_000/len(unit))
		start := time.Now()
		once := p.String(s)
		_ = p.URLString(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q×%d took %v", unit, len(s)/len(unit), d)
		}
		if p.String(once) != once {
			t.Errorf("%q: not idempotent", unit)
		}
	}
}
