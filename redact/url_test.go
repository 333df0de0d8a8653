package redact

import (
	"net/url"
	"testing"
)

func TestURLString(t *testing.T) {
	p := New()
	tests := []struct {
		name, in, want string
	}{
		{"userinfo", "https://user:pass@example.com/a", "https://REDACTED:REDACTED@example.com/a"},
		{"user only", "https://user@example.com/a", "https://REDACTED:REDACTED@example.com/a"},
		{"semconv params", "https://s3.test/o?X-Amz-Credential=c&X-Amz-Signature=s&X-Amz-Date=20240101&X-Amz-Security-Token=t",
			"https://s3.test/o?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Date=20240101&X-Amz-Security-Token=REDACTED"},
		{"azure sig", "https://blob.test/c?sv=2020&sig=abc%2Fdef", "https://blob.test/c?sv=2020&sig=REDACTED"},
		{"gcs", "https://gcs.test/b?X-Goog-Signature=aa&x=1", "https://gcs.test/b?X-Goog-Signature=REDACTED&x=1"},
		{"aws v2", "https://s3.test/o?AWSAccessKeyId=AK&Signature=s&Expires=1", "https://s3.test/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1"},
		{"sensitive key", "/cb?page=1&access_token=abc&state=x", "/cb?page=1&access_token=REDACTED&state=x"},
		{"oauth code", "/cb?code=4%2F0AFAKE&state=x", "/cb?code=REDACTED&state=x"},
		{"encoded key", "/cb?access%5Ftoken=abc", "/cb?access%5Ftoken=REDACTED"},
		{"order and encoding kept", "/s?b=%20x&token=t&a=1+2&empty=&flag", "/s?b=%20x&token=REDACTED&a=1+2&empty=&flag"},
		{"fragment", "https://app.test/#access_token=abc&type=bearer", "https://app.test/#access_token=REDACTED&type=bearer"},
		{"query then fragment", "/a?token=x#frag", "/a?token=REDACTED#frag"},
		{"path secret", "https://api.test/hooks/" + fakeSlack, "https://api.test/hooks/REDACTED"},
		{"google key", "https://maps.test/api?key=x1&address=y", "https://maps.test/api?key=REDACTED&address=y"},
		{"auth and assertion", "/t?auth=a&client_assertion=b&session_key=c&code_verifier=d", "/t?auth=REDACTED&client_assertion=REDACTED&session_key=REDACTED&code_verifier=REDACTED"},
		{"encoded pair in value", "/login?next=%2Fapp%3Ftoken%3Dabc%26x%3D1&lang=en", "/login?next=%2Fapp%3Ftoken%3DREDACTED%26x%3D1&lang=en"},
		{"encoded url in value", "/r?m=1&to=http%3A%2F%2Fh%2Fcb%3Fnote%3D" + fakeGitHub + "&x=1", "/r?m=1&to=REDACTED&x=1"},
		{"encoded bearer in value", "/r?note=Authorization%3A+Bearer+FAKEbearer0000&x=1", "/r?note=REDACTED&x=1"},
		{"encoded clean value", "/r?to=http%3A%2F%2Fh%2Fcb%3Fpage%3D2&q=a+b", "/r?to=http%3A%2F%2Fh%2Fcb%3Fpage%3D2&q=a+b"},
		{"slack webhook", "https://hooks.slack.com/services/T0000/B0000/FAKEfake0000FAKE", "https://hooks.slack.com/services/T0000/B0000/REDACTED"},
		{"dsn", "admin:pw@tcp(db:3306)/orders", "REDACTED:REDACTED@tcp(db:3306)/orders"},
		{"clean", "https://example.com/a/b?page=2#top", "https://example.com/a/b?page=2#top"},
		{"relative clean", "/orders/42", "/orders/42"},
		{"unparsable", "http://us%zz:pw@h/?page=2&q=secret", "http://REDACTED:REDACTED@h/?page=REDACTED&q=REDACTED"},
		{"unparsable control", "/a\x7f?name=x", "/a\x7f?name=REDACTED"},
		{"already", "https://REDACTED:REDACTED@h/?sig=REDACTED", "https://REDACTED:REDACTED@h/?sig=REDACTED"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.URLString(tt.in)
			if got != tt.want {
				t.Errorf("URLString(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := p.URLString(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestURL(t *testing.T) {
	p := New()
	u, err := url.Parse("https://bob:pw@example.com/x?sig=abc&b=2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.URL(u), "https://REDACTED:REDACTED@example.com/x?sig=REDACTED&b=2"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if u.User.Username() != "bob" || u.RawQuery != "sig=abc&b=2" {
		t.Error("URL modified its argument")
	}
	if got := p.URL(nil); got != "" {
		t.Errorf("URL(nil) = %q", got)
	}
}

func TestURLDropQuery(t *testing.T) {
	p := New(WithDropQuery(true))
	tests := []struct{ in, want string }{
		{"https://h/a?page=2&token=x#frag", "https://h/a#frag"},
		{"https://h/a?page=2", "https://h/a"},
		{"https://h/a", "https://h/a"},
	}
	for _, tt := range tests {
		if got := p.URLString(tt.in); got != tt.want {
			t.Errorf("URLString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := p.String("see https://h/a?page=2 now"), "see https://h/a now"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
