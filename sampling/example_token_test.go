package sampling_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/otelkit/otelkit/sampling"
)

// An operator mints a short-lived token with the shared secret and sends it
// in the debug header; the service turns on DEBUG for that request only.
func ExampleSignToken() {
	secret := []byte("example-secret-not-for-production")
	token, _ := sampling.SignToken(secret, time.Unix(1_900_000_000, 0))
	fmt.Println(token)
	// Output:
	// 1900000000.8d2woD5W31bhXaXaqdog9ifiMgTwTzcRkGuAByOt3qg
}

func ExamplePolicy_Start() {
	policy, err := sampling.New(
		sampling.WithSecret([]byte("example-secret-not-for-production")),
		sampling.WithAllowedPeers("10.0.0.0/8"),
		sampling.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		panic(err)
	}
	token, _ := policy.SignToken(time.Now().Add(10 * time.Minute))

	for _, c := range []struct{ peer, header string }{
		{"203.0.113.9:4000", token},     // anyone holding a valid token
		{"10.1.2.3:4000", "1"},          // an allowed peer
		{"203.0.113.9:4000", "1"},       // anyone else: ignored, counted, reported
		{"203.0.113.9:4000", "1.bogus"}, // a forged token
	} {
		r := httptest.NewRequest(http.MethodGet, "/orders/7", nil)
		r.RemoteAddr = c.peer
		r.Header.Set(sampling.DefaultHeader, c.header)
		_, req := policy.Start(r)
		fmt.Printf("forced=%v reason=%q\n", req.Forced(), req.Reason())
	}
	fmt.Println("untrusted:", policy.Stats().DebugUntrusted)
	// Output:
	// forced=true reason="token"
	// forced=true reason="allowed_peer"
	// forced=false reason=""
	// forced=false reason=""
	// untrusted: 2
}
