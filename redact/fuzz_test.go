package redact

import (
	"encoding/json"
	"net/http"
	"runtime/metrics"
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
		"admin:p@w:d@tcp(db:3306)/orders", "{DSN:u:p@[::1]:5432/x}", "next=%2Fa%3Fpassword%3Dx%26y%3D1", "AccountKey=a+b/c==;x=y",
		"https://hooks.slack.com/services/T0/B0/FAKEfake0000", "x.atlasv1." + strings.Repeat("F", 60), "12345678:AA" + strings.Repeat("F", 33),
		"abc8Q~" + strings.Repeat("F", 32), "sk-" + strings.Repeat("F0", 20), "SK" + strings.Repeat("0", 32), "AIza" + strings.Repeat("F", 35),
	} {
		f.Add(s)
	}
}

func FuzzString(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range fuzzPolicies {
			var once string
			checkAllocs(t, "String", len(s), func() { once = p.String(s) })
			checkGrowth(t, "String", s, once, maxSpanOutput(p), len(Mask))
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
			checkGrowth(t, "String", planted, out, maxSpanOutput(p), len(Mask))
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
			var once string
			checkAllocs(t, "URLString", len(s), func() { once = p.URLString(s) })
			checkGrowth(t, "URLString", s, once, urlSpanOutput, len(Mask))
			if twice := p.URLString(once); twice != once {
				t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", s, once, twice)
			}
			if strings.Contains(s, canaryURL) {
				return
			}
			path := strings.NewReplacer("?", "", "#", "").Replace(s)
			planted := "https://bob:" + canaryURL + "@example.com/" + path + "?X-Amz-Signature=" + canaryURL + "&" + s
			out := p.URLString(planted)
			checkGrowth(t, "URLString", planted, out, urlSpanOutput, len(Mask))
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
		in := 0
		for k, vs := range h {
			in += len(k) + len(strings.Join(vs, ""))
		}
		for _, p := range []*Policy{New(), New(WithHeaderAllowList(false)), New(WithHashKey([]byte("fuzz")))} {
			var out http.Header
			checkAllocs(t, "Header", in, func() { out = p.Header(h) })
			// Names are kept; each value is kept, redacted as text, or
			// replaced whole by a mask or hash (an empty value too).
			n := 0
			for k, vs := range out {
				n += len(k) + len(strings.Join(vs, ""))
			}
			if limit := maxSpanOutput(p)*in + len(h)*hashLen; n > limit {
				t.Fatalf("header output %d bytes for %d bytes in (limit %d): %q -> %q", n, in, limit, h, out)
			}
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
			var r0 any
			var ch0 bool
			checkAllocs(t, "walk", len(data), func() {
				r0, ch0 = w.walk(json.RawMessage(data)) // no recover here: a panic fails the test
			})
			if ch0 {
				if enc, err := json.Marshal(r0); err == nil {
					checkGrowth(t, "walk", string(data), string(enc), maxSpanOutput(p), jsonWalkOverhead(p))
				}
			}
			planted := json.RawMessage(`{"password":"` + canaryKV + `","v":` + string(data) + `}`)
			w = walker{p: p, budget: p.maxItems}
			r, ch := w.walk(planted)
			out, err := json.Marshal(r)
			if ch && err != nil {
				t.Fatalf("redacted value does not encode: %v", err)
			}
			if err == nil {
				checkGrowth(t, "walk", string(planted), string(out), maxSpanOutput(p), jsonWalkOverhead(p))
			}
			if json.Valid(planted) && (!ch || strings.Contains(string(out), canaryKV)) {
				t.Fatalf("planted password survived in %s", out)
			}
		}
	})
}

// Output bounds. Redaction replaces non-empty, non-overlapping spans of its
// input (apply drops empty and merges overlapping ones), so with R the
// longest replacement of one span, out <= len(in) + (R-1)*spans <=
// R*len(in). When the redaction itself panics, the whole result is Mask.
const (
	hashLen         = len(hashPrefix) + hashHexDigits                 // "hmac:" + 16 hex digits = 21
	userinfoMaskLen = len(URLMask + ":" + URLMask)                    // 17, the longest fixed mask
	urlSpanOutput   = userinfoMaskLen                                 // URLString: every span becomes URLMask or that
	jsonEntryLen    = len(`,"` + Truncated + `":"` + Truncated + `"`) // one budget-exhaustion marker
)

// maxSpanOutput is R for p's String: Mask (10), a hash in hash mode (21),
// or a URL's userinfo mask (17).
func maxSpanOutput(p *Policy) int {
	if p.hashMode {
		return hashLen
	}
	return userinfoMaskLen
}

// jsonWalkOverhead is c for the walk of JSON text, encoded again. Per input
// byte: a kept byte is escaped by json.Marshal to at most 6 (\u003c for
// '<', \ufffd for an invalid byte), below R; "\u0000" in the input is 6
// bytes that come back as 6; a redacted span obeys R as in String; a
// container too deep becomes "[TRUNCATED]" (13 bytes, its input at least
// 3). The constants: 2 quotes around a string result, and when the item
// budget runs out one Truncated marker in each open container (at most
// maxDepth+1 of them).
func jsonWalkOverhead(p *Policy) int {
	return 2 + (p.maxDepth+1)*jsonEntryLen + len(Mask)
}

// checkGrowth fails if out is longer than k*len(in)+c.
func checkGrowth(t *testing.T, what, in, out string, k, c int) {
	t.Helper()
	if limit := k*len(in) + c; len(out) > limit {
		t.Fatalf("%s: %d bytes out for %d in, over %d*len+%d:\n in  %q\n out %q", what, len(out), len(in), k, c, in, out)
	}
}

// checkAllocs fails if fn allocates far more than its input can justify.
// testing.AllocsPerRun cannot run inside a fuzz function, so the heap's
// cumulative allocation count (runtime/metrics, no stop-the-world) is
// read around one call. Small allocations are counted when their span
// leaves the P's cache, so the count lags by up to a few cached spans:
// the constant is generous (allocSlack); what it catches is an allocation
// sized by the content of the input rather than its length.
func checkAllocs(t *testing.T, what string, inLen int, fn func()) {
	t.Helper()
	before := heapAllocated()
	fn()
	if got, limit := heapAllocated()-before, uint64(allocPerByte*inLen+allocSlack); got > limit {
		t.Fatalf("%s: allocated %d bytes for %d bytes of input (limit %d)", what, got, inLen, limit)
	}
}

const (
	allocPerByte = 1024    // JSON decoding builds a map or []any per 2-3 input bytes
	allocSlack   = 8 << 20 // lag of cached spans, plus a fresh HMAC and sync.Pool refills
)

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func heapAllocated() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}
