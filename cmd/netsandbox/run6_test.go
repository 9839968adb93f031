package main

import (
	"net/netip"
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
