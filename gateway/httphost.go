package gateway

import (
	"bytes"
	"net/netip"
)

// httpMethods are the request methods whose requests the gateway reads a
// Host from; a stream starting otherwise is not HTTP/1.x.
var httpMethods = [][]byte{
	[]byte("GET "), []byte("HEAD "), []byte("POST "), []byte("PUT "), []byte("DELETE "),
	[]byte("OPTIONS "), []byte("PATCH "), []byte("CONNECT "), []byte("TRACE "),
}

// parseHTTPHost reads the head of an HTTP/1.x request from the start of a
// stream and returns its Host header's host name (RFC 9112 section 3.2),
// without port. A Host that is an address literal is no name ("").
func parseHTTPHost(b []byte) (string, sniffState) {
	method := false
	for _, m := range httpMethods {
		k := min(len(b), len(m))
		if bytes.Equal(b[:k], m[:k]) {
			if k < len(m) {
				return "", sniffMore
			}
			method = true
			break
		}
	}
	if !method {
		return "", sniffNot
	}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return "", sniffMore
	}
	if !bytes.Contains(b[:eol], []byte(" HTTP/1.")) {
		return "", sniffNot
	}
	rest := b[eol+1:]
	for {
		eol = bytes.IndexByte(rest, '\n')
		if eol < 0 {
			return "", sniffMore
		}
		line := bytes.TrimSuffix(rest[:eol], []byte("\r"))
		rest = rest[eol+1:]
		if len(line) == 0 {
			return "", sniffFound // end of the head: no Host
		}
		k := bytes.IndexByte(line, ':')
		if k < 0 {
			return "", sniffNot
		}
		if !bytes.EqualFold(line[:k], []byte("host")) {
			continue
		}
		return hostOnly(string(bytes.TrimSpace(line[k+1:]))), sniffFound
	}
}

// hostOnly drops a port from a Host value and returns a normalized name,
// or "" for an address literal or anything else.
func hostOnly(h string) string {
	if len(h) > 0 && h[0] == '[' {
		return "" // IPv6 literal
	}
	if i := bytes.LastIndexByte([]byte(h), ':'); i >= 0 {
		h = h[:i]
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	n, _ := normalizeName(h)
	return n
}
