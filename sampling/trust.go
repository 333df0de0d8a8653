package sampling

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
)

// Reasons carried by a [Decision]. They are fixed, low-cardinality strings,
// safe as metric attributes and log values.
const (
	// ReasonToken: the debug header held a valid signed token.
	ReasonToken = "token"
	// ReasonAllowedPeer: the caller address is in the allow-list.
	ReasonAllowedPeer = "allowed_peer"

	// ReasonMalformed: the header value is neither a token nor usable.
	ReasonMalformed = "malformed"
	// ReasonBadSignature: the token signature does not match.
	ReasonBadSignature = "bad_signature"
	// ReasonExpired: the token has expired.
	ReasonExpired = "expired"
	// ReasonLifetime: the token expires too far in the future.
	ReasonLifetime = "lifetime_too_long"
	// ReasonUntrustedPeer: no valid token and the caller is not allowed.
	ReasonUntrustedPeer = "untrusted_peer"
)

// Decision is the outcome of a trust check on one request.
type Decision struct {
	// Trusted reports whether the request may turn on debug or use the admin
	// handler.
	Trusted bool
	// Reason says why, one of the Reason* constants.
	Reason string
	// Client is the caller address used for the allow-list: the direct peer,
	// or the forwarded client when the peer is a trusted proxy. It is invalid
	// when it could not be determined.
	Client netip.Addr
}

// Trust reports whether r comes from a trusted caller: its debug header holds
// a valid token, or its client address is in the allow-list. Unlike
// [Policy.Start], it needs no header for an allowed peer, and it neither
// counts nor logs. It is safe for concurrent use and never panics.
func (p *Policy) Trust(r *http.Request) Decision {
	if p == nil || r == nil {
		return Decision{Reason: ReasonUntrustedPeer}
	}
	vals := r.Header.Values(p.cfg.header)
	return p.decide(r, vals)
}

// decide runs the trust check with the debug header values already fetched.
func (p *Policy) decide(r *http.Request, vals []string) Decision {
	d := Decision{Client: p.clientAddr(r)}
	tokenReason := ""
	switch {
	case len(vals) > 1:
		tokenReason = ReasonMalformed
	case len(vals) == 1 && looksLikeToken(vals[0]):
		if len(p.cfg.secret) == 0 {
			tokenReason = ReasonBadSignature
			break
		}
		now := p.cfg.now()
		exp, err := VerifyToken(p.cfg.secret, strings.TrimSpace(vals[0]), now)
		switch {
		case err == nil && exp.Sub(now) > p.cfg.maxLifetime:
			tokenReason = ReasonLifetime
		case err == nil:
			d.Trusted, d.Reason = true, ReasonToken
			return d
		case errors.Is(err, ErrTokenExpired):
			tokenReason = ReasonExpired
		case errors.Is(err, ErrTokenSignature):
			tokenReason = ReasonBadSignature
		default:
			tokenReason = ReasonMalformed
		}
	}
	if d.Client.IsValid() && contains(p.cfg.allowed, d.Client) {
		d.Trusted, d.Reason = true, ReasonAllowedPeer
		return d
	}
	d.Reason = ReasonUntrustedPeer
	if tokenReason != "" {
		d.Reason = tokenReason
	}
	return d
}

// looksLikeToken reports whether v is meant as a token (digits then a dot)
// rather than a plain flag such as "1" or "true" sent by an allowed peer.
func looksLikeToken(v string) bool {
	v = strings.TrimSpace(v)
	return strings.IndexByte(v, '.') > 0 || len(v) > 16
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the caller address (see [ClientAddr]).
func (p *Policy) clientAddr(r *http.Request) netip.Addr {
	a, _ := ClientAddr(r, p.cfg.proxies, p.cfg.forwardHeader)
	return a
}

// ClientAddr returns the client address of r and whether the direct peer
// (r.RemoteAddr) is one of trustedProxies. The address is the peer's unless
// the peer is a trusted proxy; then forwardedHeader ("X-Forwarded-For",
// "Forwarded" for RFC 7239, or another comma-separated list) is read from
// the nearest hop outwards, and the first address that is not itself a
// trusted proxy is the client. An unreadable hop yields the invalid
// address: the client is unknown rather than forged. It is the one rule for
// client addresses that the debug-header trust check and httpmw share.
func ClientAddr(r *http.Request, trustedProxies []netip.Prefix, forwardedHeader string) (client netip.Addr, fromProxy bool) {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || len(trustedProxies) == 0 || !contains(trustedProxies, peer) {
		return peer, false
	}
	hops := forwardedHops(r.Header, http.CanonicalHeaderKey(forwardedHeader))
	if hops == nil {
		return peer, true
	}
	client = peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(hops[i])
		if !a.IsValid() {
			return netip.Addr{}, true
		}
		client = a
		if !contains(trustedProxies, a) {
			return a, true
		}
	}
	return client, true
}

// maxHops bounds the work done on forwarding headers.
const maxHops = 32

// forwardedHops returns the hop addresses of the named header, in header
// order: the "for=" parameters of a Forwarded header (RFC 7239), or the
// entries of a comma-separated list such as X-Forwarded-For. Too many hops
// yield a single invalid entry.
func forwardedHops(h http.Header, name string) []string {
	var hops []string
	if name == "Forwarded" {
		for _, line := range h.Values(name) {
			for elem := range strings.SplitSeq(line, ",") {
				found := false
				for pair := range strings.SplitSeq(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, strings.Trim(v, `"`))
						found = true
						break
					}
				}
				if !found {
					hops = append(hops, "")
				}
				if len(hops) > maxHops {
					return []string{""}
				}
			}
		}
		return hops
	}
	for _, line := range h.Values(name) {
		for v := range strings.SplitSeq(line, ",") {
			hops = append(hops, strings.TrimSpace(v))
			if len(hops) > maxHops {
				return []string{""}
			}
		}
	}
	return hops
}

// parseHost parses "ip", "ip:port", "[ipv6]" or "[ipv6]:port", unmapping
// IPv4-in-IPv6. Anything else, including obfuscated or "unknown" RFC 7239
// identifiers and zones, yields the invalid address.
func parseHost(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr())
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return clean(a)
}

func clean(a netip.Addr) netip.Addr {
	if a.Zone() != "" {
		return netip.Addr{}
	}
	return a.Unmap()
}

// addrString formats a for logs; the invalid address is the empty string.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
