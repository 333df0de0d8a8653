package redact

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Canaries are planted in fuzzed text; whatever surrounds them, they must
// not come out.
const (
	canaryKV     = "CANARYkv0000fake"
	canaryBearer = "CANARYbearer0000fake"
	canaryCard   = "4111111111111111"
	canaryURL    = "CANARYurl0000fake"
)

var fuzzPolicies = []*Policy{
	New(),
	New(WithEmailRule(true), WithIPRule(true), WithHashKey([]byte("fuzz"))),
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"", "hello world", "password=hunter2", `{"token":"abc","n":1}`, "Authorization: Bearer abc123def",
		"https://u:p@h/?sig=x&a=1#access_token=y", "card 4111 1111 1111 1111", fakeJWT, fakeGitHub, fakePEM,
		"map[password:x]", "[REDACTED]", "hmac:0123456789abcdef", "REDACTED:REDACTED@", "bob@example.com 10.0.0.1 ::1",
		`body={\"password\":\"x\"}`, "token: \"unterminated", "-----BEGIN PRIVATE KEY-----", "Basic " + fakeBasic,
	} {
		f.Add(s)
	}
}

func FuzzString(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range fuzzPolicies {
			once := p.String(s)
			if twice := p.String(once); twice != once {
				t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", s, once, twice)
			}
			for _, c := range []string{canaryKV, canaryBearer, canaryCard} {
				if strings.Contains(s, c) {
					return
				}
			}
			planted := s + " password=" + canaryKV + " " + s + "\nAuthorization: Bearer " + canaryBearer + "\n" + s + " " + canaryCard + " " + s
			out := p.String(planted)
			for _, c := range []string{canaryKV, canaryBearer, canaryCard} {
				if strings.Contains(out, c) {
					t.Fatalf("canary %q survived:\n in  %q\n out %q", c, planted, out)
				}
			}
			if again := p.String(out); again != out {
				t.Fatalf("not idempotent on planted input:\n once  %q\n twice %q", out, again)
			}
		}
	})
}

func FuzzURL(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{"/a/b", "?q=1", "#frag", "http://[::1", "%zz", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range fuzzPolicies {
			once := p.URLString(s)
			if twice := p.URLString(once); twice != once {
				t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", s, once, twice)
			}
			if strings.Contains(s, canaryURL) {
				return
			}
			path := strings.NewReplacer("?", "", "#", "").Replace(s)
			planted := "https://bob:" + canaryURL + "@example.com/" + path + "?X-Amz-Signature=" + canaryURL + "&" + s
			out := p.URLString(planted)
			if strings.Contains(out, canaryURL) {
				t.Fatalf("canary survived:\n in  %q\n out %q", planted, out)
			}
			if again := p.URLString(out); again != out {
				t.Fatalf("not idempotent on planted input:\n once  %q\n twice %q", out, again)
			}
		}
	})
}

// FuzzHeader redacts fuzzed header sets: no panic, a denied header's value
// never survives, and redacting the result again changes nothing.
func FuzzHeader(f *testing.F) {
	f.Add("X-Custom", "v", "Bearer abc123def456")
	f.Add("authorization", "Basic dXNlcjpwYXNz", "x")
	f.Add("Cookie", "session=abc", "\x00\xff")
	f.Fuzz(func(t *testing.T, name, value, auth string) {
		h := http.Header{}
		h.Add(name, value)
		h.Set("Authorization", "Bearer "+canaryBearer+auth)
		for _, p := range []*Policy{New(), New(WithHeaderAllowList(false))} {
			out := p.Header(h)
			for k, vs := range out {
				for _, v := range vs {
					if strings.Contains(v, canaryBearer) {
						t.Fatalf("Authorization canary survived under %q: %q", k, v)
					}
				}
			}
			again := p.Header(out)
			if len(again) != len(out) {
				t.Fatalf("not idempotent: %v then %v", out, again)
			}
			for k := range out {
				if strings.Join(again[k], ",") != strings.Join(out[k], ",") {
					t.Fatalf("not idempotent for %q: %q then %q", k, out[k], again[k])
				}
			}
		}
	})
}

// FuzzJSONValue walks fuzzed JSON as a json.RawMessage value and inside a
// decoded body: it must never panic, its result must still encode, and a
// password planted beside the fuzzed value must not come out.
func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"x",null,true]`, `"Bearer abc123def"`, `{"n":4111111111111111}`,
		`{"a":{"b":{"c":{"d":[1,2,{"token":"t"}]}}}}`, `1e400`, `{"a":1}{"b":2}`, `not json`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range fuzzPolicies {
			w := walker{p: p, budget: p.maxItems}
			w.walk(json.RawMessage(data)) // no recover here: a panic fails the test
			planted := json.RawMessage(`{"password":"` + canaryKV + `","v":` + string(data) + `}`)
			w = walker{p: p, budget: p.maxItems}
			r, ch := w.walk(planted)
			out, err := json.Marshal(r)
			if ch && err != nil {
				t.Fatalf("redacted value does not encode: %v", err)
			}
			if json.Valid(planted) && (!ch || strings.Contains(string(out), canaryKV)) {
				t.Fatalf("planted password survived in %s", out)
			}
		}
	})
}
