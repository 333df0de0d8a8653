package redact_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"

	"github.com/otelkit/otelkit/redact"
)

func Example() {
	p := redact.New()
	fmt.Println(p.String("login user=bob password=hunter2"))
	fmt.Println(p.URLString("https://bob:pw@api.example.com/v1?page=2&sig=abc"))
	fmt.Println(p.IsSensitiveKey("sessionToken"), p.IsSensitiveKey("tokens_used"))
	// Output:
	// login user=bob password=[REDACTED]
	// https://REDACTED:REDACTED@api.example.com/v1?page=2&sig=REDACTED
	// true false
}

func ExamplePolicy_String() {
	p := redact.New()
	fmt.Println(p.String("charge failed for card 4111 1111 1111 1111, order 4111111111111112"))
	fmt.Println(p.String(`upstream said {"error":"denied","access_token":"abc.def"}`))
	fmt.Println(p.String("Authorization: Bearer abc123.def456"))
	fmt.Println(p.String("token refresh failed for user 42"))
	// Output:
	// charge failed for card [REDACTED], order 4111111111111112
	// upstream said {"error":"denied","access_token":"[REDACTED]"}
	// Authorization: [REDACTED]
	// token refresh failed for user 42
}

func ExamplePolicy_URL() {
	p := redact.New()
	u, _ := url.Parse("https://s3.example.com/bucket/key?X-Amz-Credential=AK%2F1&X-Amz-Date=20240101T000000Z&X-Amz-Signature=f00d")
	fmt.Println(p.URL(u))
	// Output:
	// https://s3.example.com/bucket/key?X-Amz-Credential=REDACTED&X-Amz-Date=20240101T000000Z&X-Amz-Signature=REDACTED
}

func ExamplePolicy_Header() {
	p := redact.New(redact.WithAllowedHeaders("Authorization"))
	h := http.Header{
		"Authorization": {"Bearer abc123def"},
		"Accept":        {"application/json"},
		"Cookie":        {"session=abc"},
	}
	fmt.Println(p.Header(h))
	// Output:
	// map[Accept:[application/json] Authorization:[[REDACTED]]]
}

func ExamplePolicy_Error() {
	p := redact.New()
	err := &url.Error{Op: "Get", URL: "https://api.example.com/v1?api_key=k-123", Err: errors.New("timeout")}
	fmt.Println(p.Error(err))
	// Output:
	// Get "https://api.example.com/v1?api_key=REDACTED": timeout
}

func ExamplePolicy_Handler() {
	p := redact.New()
	logger := slog.New(p.Handler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	logger.Info("user signed in", "user", "bob", "password", "hunter2",
		slog.Group("req", "cookie", "session=abc", "path", "/login"))
	// Output:
	// level=INFO msg="user signed in" user=bob password=[REDACTED] req.cookie=[REDACTED] req.path=/login
}

func ExamplePolicy_Hash() {
	p := redact.New(redact.WithHashKey([]byte("from-configuration")))
	a, b := p.Hash("user-42"), p.Hash("user-42")
	fmt.Println(a == b, a != "user-42", len(a))
	fmt.Println(p.String("password=hunter2") == "password="+p.Hash("hunter2"))
	// Output:
	// true true 21
	// true
}

func ExampleSecret() {
	type config struct {
		User string
		DSN  redact.Secret
	}
	c := config{User: "app", DSN: "postgres://app:pw@db/orders"}
	fmt.Printf("%+v\n", c)
	fmt.Println(c.DSN.Reveal() != "")
	// Output:
	// {User:app DSN:[REDACTED]}
	// true
}
