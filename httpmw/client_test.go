package httpmw

import (
	"net/http"
	"testing"
)

func TestClientAddress(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		headers map[string]string
		opts    []Option
		want    string
	}{
		{name: "peer", remote: "198.51.100.7:4000", want: "198.51.100.7"},
		{name: "peer IPv6", remote: "[2001:db8::1]:4000", want: "2001:db8::1"},
		{name: "mapped IPv4", remote: "[::ffff:198.51.100.7]:4000", want: "198.51.100.7"},
		{name: "spoofed XFF, no proxies", remote: "198.51.100.7:4000",
			headers: map[string]string{"X-Forwarded-For": "10.1.1.1"}, want: "198.51.100.7"},
		{name: "spoofed XFF, untrusted peer", remote: "198.51.100.7:4000",
			headers: map[string]string{"X-Forwarded-For": "10.1.1.1"},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8")}, want: "198.51.100.7"},
		{name: "trusted proxy", remote: "10.0.0.2:4000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8")}, want: "203.0.113.9"},
		{name: "proxy chain, forged first hop", remote: "10.0.0.2:4000",
			headers: map[string]string{"X-Forwarded-For": "1.2.3.4, 203.0.113.9, 10.0.0.5"},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8")}, want: "203.0.113.9"},
		{name: "garbage hop", remote: "10.0.0.2:4000",
			headers: map[string]string{"X-Forwarded-For": "not-an-ip"},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8")}, want: ""},
		{name: "Forwarded", remote: "10.0.0.2:4000",
			headers: map[string]string{"Forwarded": `for="[2001:db8::9]:1234";proto=https, for=10.0.0.3`},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8"), WithForwardedHeader("forwarded")}, want: "2001:db8::9"},
		{name: "XFF ignored when Forwarded is configured", remote: "10.0.0.2:4000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"},
			opts:    []Option{WithTrustedProxies("10.0.0.0/8"), WithForwardedHeader("Forwarded")}, want: "10.0.0.2"},
		{name: "single address proxy", remote: "127.0.0.1:4000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"},
			opts:    []Option{WithTrustedProxies("127.0.0.1", "bad/cidr")}, want: "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized) // auth_failed carries the address
			}), tt.opts...)
			req := get("/")
			req.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			serve(handler, req)
			if got := h.one(EventAuthFailed)["client_address"]; got != tt.want {
				t.Errorf("client_address %v, want %q", got, tt.want)
			}
			if tt.headers != nil {
				if v, _ := spanAttr(h.ended()[0], "client.address"); v.AsString() != tt.want {
					t.Errorf("span client.address %q, want %q", v.AsString(), tt.want)
				}
			}
		})
	}
}
