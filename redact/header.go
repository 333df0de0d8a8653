package redact

import (
	"log/slog"
	"net/http"
	"strings"
)

// IsDeniedHeader reports whether the value of the header name is always
// masked: it is on the deny list (see WithDeniedHeaders) or its name is a
// sensitive key.
func (p *Policy) IsDeniedHeader(name string) bool {
	p = p.or()
	if _, ok := p.deny[name]; ok {
		return true
	}
	if c := http.CanonicalHeaderKey(name); c != name {
		if _, ok := p.deny[c]; ok {
			return true
		}
	}
	return p.IsSensitiveKey(name)
}

// IsAllowedHeader reports whether the header name is logged at all: in
// allow-list mode it must be on the allow list; otherwise every header is.
// A denied header that is logged has its value masked.
func (p *Policy) IsAllowedHeader(name string) bool {
	p = p.or()
	if !p.allowMode {
		return true
	}
	_, ok := p.allowSet[http.CanonicalHeaderKey(name)]
	return ok
}

// Header returns a redacted copy of h for logging. In allow-list mode (the
// default) it holds only allow-listed headers; otherwise every header. The
// deny list always wins: a denied header keeps its name but its value is
// masked. Other values go through String, so a credential under a custom
// header name is caught too. h is never modified; a nil h gives nil.
func (p *Policy) Header(h http.Header) http.Header {
	p = p.or()
	if h == nil {
		return nil
	}
	var out http.Header
	if p.allowMode {
		n, nv := 0, 0
		for _, name := range p.allow {
			if vs, ok := h[name]; ok {
				n++
				nv += len(vs)
			}
		}
		out = make(http.Header, n)
		backing := make([]string, 0, nv)
		for _, name := range p.allow {
			if vs, ok := h[name]; ok {
				backing, out[name] = p.headerValues(name, vs, backing)
			}
		}
		return out
	}
	nv := 0
	for _, vs := range h {
		nv += len(vs)
	}
	out = make(http.Header, len(h))
	backing := make([]string, 0, nv)
	for name, vs := range h {
		backing, out[name] = p.headerValues(name, vs, backing)
	}
	return out
}

// headerValues appends the redacted values of one header to backing and
// returns them as their own slice, capped so that appending to it cannot
// overwrite a neighbour.
func (p *Policy) headerValues(name string, vs, backing []string) ([]string, []string) {
	st := len(backing)
	if p.IsDeniedHeader(name) {
		for _, v := range vs {
			backing = append(backing, p.maskHeader(v))
		}
	} else {
		for _, v := range vs {
			backing = append(backing, p.String(v))
		}
	}
	return backing, backing[st:len(backing):len(backing)]
}

func (p *Policy) maskHeader(v string) string {
	if v == "" || isMarker(v) {
		return v
	}
	p.count(ruleHeader)
	return p.replacement(v)
}

// HeaderAttr returns h as a slog group named key, for request and
// dependency logs: the same headers and values as Header, with lower-case
// names (as in the semantic conventions' http.request.header.<name>) and
// several values joined by ", ". If no header is kept, the group is empty
// and handlers omit it.
func (p *Policy) HeaderAttr(key string, h http.Header) slog.Attr {
	p = p.or()
	var attrs []slog.Attr
	if p.allowMode {
		for i, name := range p.allow {
			if vs, ok := h[name]; ok {
				if attrs == nil {
					attrs = make([]slog.Attr, 0, len(p.allow))
				}
				attrs = append(attrs, slog.String(p.allowLower[i], p.headerValue(name, vs)))
			}
		}
	} else if len(h) > 0 {
		attrs = make([]slog.Attr, 0, len(h))
		for name, vs := range h {
			attrs = append(attrs, slog.String(strings.ToLower(name), p.headerValue(name, vs)))
		}
		sortAttrs(attrs)
	}
	return slog.Attr{Key: key, Value: slog.GroupValue(attrs...)}
}

func (p *Policy) headerValue(name string, vs []string) string {
	v := ""
	switch len(vs) {
	case 0:
	case 1:
		v = vs[0]
	default:
		v = strings.Join(vs, ", ")
	}
	if p.IsDeniedHeader(name) {
		return p.maskHeader(v)
	}
	return p.String(v)
}

func sortAttrs(a []slog.Attr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Key < a[j-1].Key; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
