package main

import (
	"bytes"
	"strings"
	"testing"
)

// A --link without a usable name is a usage mistake (exit 2) that says
// what to write; tap: exited 1 with the library's error.
func TestServeLinkNameUsage(t *testing.T) {
	for _, c := range []struct{ link, want string }{
		{"tap:", "write tap:NAME, e.g. --link tap:"},
		{"iface:", "write iface:NAME, e.g. --link iface:"},
		{"tap:a/b", "not an interface name"},
		{"iface:sixteen-bytes-xx", "want 1..15 bytes"},
	} {
		for _, cmd := range []string{"serve", "mcast", "tracepath"} {
			var out bytes.Buffer
			args := []string{cmd, "--link", c.link, "--addr", "198.18.0.2/24"}
			if cmd == "tracepath" {
				args = append(args, "198.19.0.1")
			}
			code := run(args, &out, &out)
			if code != exitUsage || !strings.Contains(out.String(), c.want) {
				t.Errorf("%s --link %s: exit %d, want %d and %q:\n%s", cmd, c.link, code, exitUsage, c.want, out.String())
			}
		}
	}
}

// --link iface:NAME for a missing interface tells the operator what exists
// and what it needs, not the library's advice to call OpenTAP.
func TestServeMissingInterface(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"serve", "--link", "iface:nosuch0", "--addr", "198.18.0.2/24"}, &out, &out)
	msg := out.String()
	if code != exitFailure || strings.Contains(msg, "OpenTAP") || !strings.Contains(msg, `no interface "nosuch0"`) ||
		!strings.Contains(msg, "ip link") || !strings.Contains(msg, "lo") || !strings.Contains(msg, "CAP_NET_RAW") ||
		!strings.Contains(msg, "--link tap:nosuch0") {
		t.Errorf("serve --link iface:nosuch0: exit %d, want %d, the interfaces there, `ip link` and CAP_NET_RAW:\n%s", code, exitFailure, msg)
	}
}
