package deps

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryWait decides whether the attempt that gave resp or err is retried,
// and after how long. The caller has checked the method, the body and the
// number of attempts.
func (c *httpCall) retryWait(resp *http.Response, err error) (time.Duration, bool) {
	p := c.t.cfg.retry
	if p == nil || c.ctx.Err() != nil {
		return 0, false
	}
	wait := backoff(p, c.retries)
	if err != nil {
		switch c.errType {
		case CategoryConnectionRefused, CategoryConnectionReset, CategoryTimeout:
		default:
			return 0, false
		}
	} else {
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
		if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			if ra > p.MaxBackoff {
				return 0, false
			}
			wait = ra
		}
	}
	if deadline, ok := c.ctx.Deadline(); ok && time.Until(deadline) <= wait {
		return 0, false
	}
	return wait, true
}

// backoff returns the wait before retry n+1: p.Backoff doubled n times,
// capped at p.MaxBackoff, drawn uniformly from [d/2, d).
func backoff(p *RetryPolicy, n int) time.Duration {
	d := p.MaxBackoff
	if n < 30 {
		if b := p.Backoff << n; b > 0 && b < d {
			d = b
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

// maxRetryAfter bounds the seconds parsed from Retry-After, so the
// conversion to a Duration cannot overflow.
const maxRetryAfter = 1 << 30

// retryAfter parses a Retry-After value, seconds or an HTTP date (RFC 9110
// section 10.2.3), into a wait from now. A date in the past means no wait.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, maxRetryAfter)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
