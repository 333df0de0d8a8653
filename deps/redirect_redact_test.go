package deps

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/otelkit/otelkit/redact"
)

// TestRedirectFinalURLRedacted: the URL a redirect leads to (its query, its
// userinfo) is redacted in every record, span and error deps makes, as the
// first one is, for a relative and an absolute Location, and for the error
// of a redirect the client refuses to follow.
func TestRedirectFinalURLRedacted(t *testing.T) {
	const tok, pw, sig = "tok-redirect-canary", "pw-redirect-canary", "sig-redirect-canary"
	for _, tc := range []struct {
		name   string
		target func(base string) string
		stop   bool // the client refuses the redirect
	}{
		{"relative", func(string) string { return "/final?access_token=" + tok + "&sig=" + sig }, false},
		{"absolute with userinfo", func(base string) string {
			return strings.Replace(base, "://", "://bob:"+pw+"@", 1) + "/final?token=" + tok
		}, false},
		{"refused", func(string) string { return "/final?access_token=" + tok }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			mux := http.NewServeMux()
			var base string
			var hops []string // the URLs requested, as the server saw them
			var mu sync.Mutex
			mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.target(base), http.StatusFound)
			})
			mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "done") })
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				u := "http://" + r.Host + r.URL.RequestURI()
				if user, pass, ok := r.BasicAuth(); ok {
					u = "http://" + user + ":" + pass + "@" + r.Host + r.URL.RequestURI()
				}
				hops = append(hops, u)
				mu.Unlock()
				mux.ServeHTTP(w, r)
			}))
			base = srv.URL
			c := h.client("api", nil)
			if tc.stop {
				c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			}
			resp, err := get(context.Background(), c, srv.URL+"/start")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Every hop's record and span carry the hop's URL as the policy
			// redacts it.
			p := redact.New()
			recs := h.records(EventDependencyCall)
			spans := h.spans()
			if len(recs) != len(hops) || len(spans) != len(hops) {
				t.Fatalf("%d records, %d spans for hops %q", len(recs), len(spans), hops)
			}
			for i, hop := range hops {
				want := p.URLString(hop)
				if got := recs[i].Attrs[FieldURL]; got != want {
					t.Errorf("hop %d: record url %v, want %q", i, got, want)
				}
				if got := attrMap(spans[i].Attributes)["url.full"]; got != want {
					t.Errorf("hop %d: span url.full %v, want %q", i, got, want)
				}
			}
			all := h.everything()
			for _, s := range []string{tok, pw, sig} {
				if strings.Contains(all, s) {
					t.Errorf("%q leaked:\n%s", s, all)
				}
			}
		})
	}
}
