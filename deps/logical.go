package deps

import (
	"context"
	"net/http"
	"sync/atomic"
)

type attemptsKey struct{}

// attempts counts the requests made with one LogicalCall context.
type attempts struct{ n atomic.Int64 }

// LogicalCall returns a context in which the HTTP requests made through deps
// transports count as attempts of one logical call. Use it when a retry
// library of your own sits above the client: every attempt still gets its
// record and its span, and the n-th attempt reports retries=n-1 (and
// http.request.resend_count on its span), so retried calls stand out at
// the Degraded level.
//
//	ctx := deps.LogicalCall(ctx)
//	err := retry.Do(func() error { return fetch(ctx) })
//
// Redirects followed by http.Client are not counted as attempts. Use a new
// LogicalCall context for each logical call: every request made with the
// context counts. The counter is safe for concurrent use.
func LogicalCall(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, attemptsKey{}, &attempts{})
}

// priorAttempts counts req as an attempt of its logical call, if it has
// one, and returns the number of attempts made before it.
func priorAttempts(req *http.Request) int {
	a, _ := req.Context().Value(attemptsKey{}).(*attempts)
	if a == nil || req.Response != nil {
		return 0
	}
	return int(a.n.Add(1) - 1)
}

// maxRedirects bounds the walk up a redirect chain.
const maxRedirects = 100

// redirects returns how many redirects led to req: http.Client sets
// req.Response to the redirect response that caused the request.
func redirects(req *http.Request) int {
	n := 0
	for r := req.Response; r != nil && n < maxRedirects; n++ {
		if r.Request == nil {
			return n + 1
		}
		r = r.Request.Response
	}
	return n
}
