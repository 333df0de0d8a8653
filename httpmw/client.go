package httpmw

import (
	"net/http"
	"net/netip"

	"github.com/otelkit/otelkit/sampling"
)

// clientAddr returns the client address of r and whether the direct peer
// is a trusted proxy, by the rule the debug-header trust check uses too
// (sampling.ClientAddr): forwarding headers count only from trusted proxies.
func (c *config) clientAddr(r *http.Request) (client netip.Addr, fromProxy bool) {
	return sampling.ClientAddr(r, c.proxies, c.fwdHeader)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
