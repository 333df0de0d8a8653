package httpmw

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds the work done on a forwarding header.
const maxHops = 32

// clientAddr returns the client address of r and whether the direct peer
// is a trusted proxy. The address is the peer's (r.RemoteAddr) unless the
// peer is a trusted proxy; then the forwarding header is read from the
// nearest hop outwards, and the first address that is not itself a trusted
// proxy is the client. An unreadable hop yields the invalid address: the
// client is unknown rather than forged.
func (c *config) clientAddr(r *http.Request) (client netip.Addr, fromProxy bool) {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || len(c.proxies) == 0 || !contains(c.proxies, peer) {
		return peer, false
	}
	hops := forwardedHops(r.Header, c.fwdHeader)
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
		if !contains(c.proxies, a) {
			break
		}
	}
	return client, true
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedHops returns the hop addresses of the named header in header
// order: the for= parameters of Forwarded (RFC 7239), or the entries of a
// comma-separated list such as X-Forwarded-For. Too many hops yield one
// invalid entry.
func forwardedHops(h http.Header, name string) []string {
	lines := h[name]
	if len(lines) == 0 {
		return nil
	}
	var hops []string
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			v := strings.TrimSpace(elem)
			if name == "Forwarded" {
				v = ""
				for pair := range strings.SplitSeq(elem, ";") {
					k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						v = strings.Trim(val, `"`)
						break
					}
				}
			}
			hops = append(hops, v)
			if len(hops) > maxHops {
				return []string{""}
			}
		}
	}
	return hops
}

// parseHost parses "ip", "ip:port", "[ipv6]" or "[ipv6]:port", unmapping
// IPv4-in-IPv6. Anything else (names, "unknown", obfuscated identifiers,
// zones) yields the invalid address.
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

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
