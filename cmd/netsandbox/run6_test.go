package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePublish6(t *testing.T) {
	p, err := parsePublish("[::1]:18081:8081")
	if err != nil || p.host != netip.MustParseAddrPort("[::1]:18081") || p.sandbox != 8081 || p.udp {
		t.Errorf("[::1]:18081:8081 = %+v, %v", p, err)
	}
	if p, err := parsePublish("[2001:db8::1]:443:8443/tcp"); err != nil || p.host != netip.MustParseAddrPort("[2001:db8::1]:443") || p.sandbox != 8443 {
		t.Errorf("[2001:db8::1]:443:8443/tcp = %+v, %v", p, err)
	}
	if p, err := parsePublish("[::1]:5353:53/udp"); err != nil || p.host != netip.MustParseAddrPort("[::1]:5353") || p.sandbox != 53 || !p.udp {
		t.Errorf("[::1]:5353:53/udp = %+v, %v", p, err)
	}
	for _, bad := range []string{"[::1]:53:53/sctp", "[::1]:80", "[::1:80:80", "[::ffff:1.2.3.4]:80:80", "[fe80::1%eth0]:80:80", "[1.2.3.4]:80:80", "[::1]:0:80"} {
		if p, err := parsePublish(bad); err == nil {
			t.Errorf("parsePublish(%q) = %+v, want an error", bad, p)
		}
	}
	if p, err := parsePublish("127.0.0.1:18080:8080"); err != nil || p.host != netip.MustParseAddrPort("127.0.0.1:18080") {
		t.Errorf("IPv4 -p: %+v, %v", p, err)
	}
}

// The host's resolver is its first IPv4 nameserver, else its first IPv6
// one that the gateway can reach (not link-local).
func TestHostResolverIn(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ conf, want string }{
		{"nameserver 192.0.2.53\nnameserver 2001:db8::53\n", "192.0.2.53:53"},
		{"nameserver 2001:db8::53\nnameserver 192.0.2.53\n", "192.0.2.53:53"},
		{"# IPv6 only\nsearch example.test\nnameserver fe80::1%eth0\nnameserver fe80::2\nnameserver 2001:db8::53\nnameserver 2001:db8::54\n", "[2001:db8::53]:53"},
		{"nameserver ::1\n", "[::1]:53"},
		{"nameserver ::ffff:192.0.2.7\n", "192.0.2.7:53"},
		{"nameserver fe80::1%eth0\noptions edns0\n", ""},
		{"", ""},
	} {
		path := filepath.Join(dir, "resolv.conf")
		if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		got, ok := hostResolverIn(path)
		if c.want == "" {
			if ok {
				t.Errorf("%q: %v, want no resolver", c.conf, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddrPort(c.want) {
			t.Errorf("%q: %v, %v; want %s", c.conf, got, ok, c.want)
		}
	}
	if _, ok := hostResolverIn(filepath.Join(dir, "missing")); ok {
		t.Error("a missing resolv.conf gave a resolver")
	}
}

// With IPv6 the sandbox's resolv.conf names fd00::3 after 10.0.2.3.
func TestResolvConfText(t *testing.T) {
	if got, want := resolvConfText(true), "# written by netsandbox run\nnameserver 10.0.2.3\nnameserver fd00::3\n"; got != want {
		t.Errorf("with IPv6: %q, want %q", got, want)
	}
	if got, want := resolvConfText(false), "# written by netsandbox run\nnameserver 10.0.2.3\n"; got != want {
		t.Errorf("without IPv6: %q, want %q", got, want)
	}
}
