package gateway

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

var testGateway6 = netip.MustParseAddr("fd00::2")

// gateway6ForTest is a Gateway with only what target6 and admit6 read.
func gateway6ForTest(p *Policy) *Gateway {
	return &Gateway{
		cfg:         Config{Gateway: testGateway, Gateway6: testGateway6, Policy: p},
		sandboxNet6: netip.MustParsePrefix("fd00::/64"),
	}
}

func TestTarget6(t *testing.T) {
	gw := gateway6ForTest(nil)
	for _, dst := range []string{"::ffff:198.18.5.1", "::1", "ff02::1", "::", "fe80::1", "fd00::100", "fd00::2"} {
		if _, ok, _ := gw.target(ProtoTCP, netip.AddrPortFrom(netip.MustParseAddr(dst), 80)); ok {
			t.Errorf("target(%s) allowed", dst)
		}
	}
	world := netip.MustParseAddrPort("[2001:db8:2::2]:80")
	if to, ok, why := gw.target(ProtoTCP, world); !ok || to != world {
		t.Errorf("target(%s) = %v, %v (%s)", world, to, ok, why)
	}
	gw.cfg.DNS6, gw.cfg.Resolver = netip.MustParseAddr("fd00::3"), netip.MustParseAddrPort("198.18.5.1:53")
	if to, ok, _ := gw.target(ProtoUDP, netip.MustParseAddrPort("[fd00::3]:53")); !ok || to != gw.cfg.Resolver {
		t.Errorf("DNS6 port 53: %v, %v; want the resolver", to, ok)
	}
	if _, ok, _ := gw.target(ProtoUDP, netip.MustParseAddrPort("[fd00::3]:54")); ok {
		t.Error("DNS6 port 54 relayed")
	}
	gw.cfg.AllowHostLoopback = true
	if to, ok, _ := gw.target(ProtoTCP, netip.MustParseAddrPort("[fd00::2]:8080")); !ok || to != netip.MustParseAddrPort("[::1]:8080") {
		t.Errorf("gateway address with --allow-host-loopback: %v, %v; want [::1]:8080", to, ok)
	}
}

// Address rules name IPv4 prefixes; "*" covers IPv6 too, a default deny
// holds, and an IPv4 prefix never matches an IPv6 address.
func TestPolicy6(t *testing.T) {
	v6 := netip.MustParseAddrPort("[2001:db8:2::2]:443")
	rule := func(s string, allow bool) Rule {
		r, err := ParseRule(s, allow)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		p    Policy
		want bool
	}{
		{Policy{}, true},
		{Policy{DenyAll: true}, false},
		{Policy{DenyAll: true, Rules: []Rule{rule("tcp:*:443", true)}}, true},
		{Policy{Rules: []Rule{rule("*", false)}}, false},
		{Policy{Rules: []Rule{rule("0.0.0.0/0", false)}}, false},
		{Policy{Rules: []Rule{rule("198.18.0.0/15", false)}}, true},
		{Policy{DenyAll: true, Rules: []Rule{rule("198.18.0.0/15", true)}}, false},
	} {
		if got := c.p.Allows(ProtoTCP, v6); got != c.want {
			t.Errorf("%+v allows %s: %v, want %v", c.p, v6, got, c.want)
		}
	}
	gw := gateway6ForTest(&Policy{DenyAll: true})
	if _, ok, _ := gw.target(ProtoUDP, v6); ok {
		t.Error("--deny-all: IPv6 destination allowed")
	}
}

// AAAA answers are learnt like A answers: domain rules judge IPv6 flows.
func TestParseDNSAnswerAAAA(t *testing.T) {
	a := netip.MustParseAddr("2001:db8:2::2")
	a16 := a.As16()
	msg := dnsTestMsg(0x8180, "v6.example.test", dnsTestRR([]byte{0xc0, 12}, dnsTypeAAAA, 30, a16[:]),
		dnsTestRR([]byte{0xc0, 12}, dnsTypeAAAA, 30, a16[:4])) // a bad length: skipped
	got, err := parseDNSAnswer(msg)
	if want := []dnsAddrName{{a, "v6.example.test", "v6.example.test", 30}}; err != nil || !slices.Equal(got, want) {
		t.Errorf("parseDNSAnswer = %v, %v; want %v", got, err, want)
	}
}

// ipv6Packet is an IPv6 header with next header next, then body.
func ipv6Packet(src, dst string, next uint8, body []byte) []byte {
	b := make([]byte, header.IPv6MinimumSize, header.IPv6MinimumSize+len(body))
	header.IPv6(b).Encode(&header.IPv6Fields{
		PayloadLength:     uint16(len(body)),
		TransportProtocol: 0,
		HopLimit:          64,
		SrcAddr:           gAddr(netip.MustParseAddr(src)),
		DstAddr:           gAddr(netip.MustParseAddr(dst)),
	})
	b[6] = next
	return append(b, body...)
}

// neighborSolicit is an NS body (ICMPv6 header, reserved, target).
func neighborSolicit(target string) []byte {
	b := make([]byte, header.ICMPv6NeighborSolicitMinimumSize)
	b[0] = byte(header.ICMPv6NeighborSolicit)
	a := netip.MustParseAddr(target).As16()
	copy(b[8:], a[:])
	return b
}

func admit6Bytes(gw *Gateway, b []byte) bool {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	defer pkt.DecRef()
	return gw.admit6(pkt)
}

func TestAdmit6(t *testing.T) {
	gw := gateway6ForTest(nil)
	world := "2001:db8:2::2"
	for _, c := range []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"NS for the gateway", ipv6Packet("fd00::100", "ff02::1:ff00:2", 58, neighborSolicit("fd00::2")), true},
		{"NS for another address", ipv6Packet("fd00::100", "ff02::1:ff00:9", 58, neighborSolicit("fd00::9")), false},
		{"NS for a world address", ipv6Packet("fd00::100", world, 58, neighborSolicit(world)), false},
		{"TCP to the world", ipv6Packet("fd00::100", world, 6, make([]byte, 20)), true},
		{"UDP to the world", ipv6Packet("fd00::100", world, 17, make([]byte, 8)), true},
		{"fragment to the world", ipv6Packet("fd00::100", world, 44, make([]byte, 16)), true},
		{"routing header", ipv6Packet("fd00::100", world, 43, make([]byte, 24)), false},
		{"hop-by-hop to the world", ipv6Packet("fd00::100", world, 0, make([]byte, 16)), false},
		{"SCTP to the world", ipv6Packet("fd00::100", world, 132, make([]byte, 16)), false},
		{"UDP to a link-local address", ipv6Packet("fd00::100", "fe80::1", 17, make([]byte, 8)), false},
		{"SCTP to the gateway", ipv6Packet("fd00::100", "fd00::2", 132, make([]byte, 16)), true},
		{"MLD report", ipv6Packet("fe80::1", "ff02::16", 0, make([]byte, 16)), true},
		{"too short", []byte{0x60, 0, 0}, true},
	} {
		if got := admit6Bytes(gw, c.pkt); got != c.want {
			t.Errorf("%s: admit6 = %v, want %v", c.name, got, c.want)
		}
	}
	if s := &gw.stats; s.Unrelayed.Load() != 3 || s.SourceRouted.Load() != 1 {
		t.Errorf("drops counted: unrelayed %d (want 3; neighbour solicitations are not counted, as ARP), source-routed %d (want 1)", s.Unrelayed.Load(), s.SourceRouted.Load())
	}
	// Without Gateway6 every IPv6 packet is dropped.
	gw.cfg.Gateway6 = netip.Addr{}
	if admit6Bytes(gw, ipv6Packet("fd00::100", world, 6, make([]byte, 20))) {
		t.Error("no Gateway6: IPv6 admitted")
	}
}

// An IPV6_RECVERR message names its offender in a sockaddr_in6.
func TestParseCmsgs6(t *testing.T) {
	data := make([]byte, sizeofSockExtendedErr+unix.SizeofSockaddrInet6)
	data[4], data[5], data[6] = unix.SO_EE_ORIGIN_ICMP6, 2, 0
	binary.NativeEndian.PutUint32(data[8:], 1400)
	binary.NativeEndian.PutUint16(data[sizeofSockExtendedErr:], unix.AF_INET6)
	off := netip.MustParseAddr("2001:db8:1::2").As16()
	copy(data[sizeofSockExtendedErr+8:], off[:])
	oob := cmsg(unix.SOL_IPV6, unix.IPV6_RECVERR, data)
	hop := make([]byte, 4)
	binary.NativeEndian.PutUint32(hop, 63)
	oob = append(oob, cmsg(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, hop)...)
	ci := parseCmsgs(oob)
	if ci.ee == nil || ci.ee.Type != 2 || ci.ee.Info != 1400 || ci.offender != netip.AddrFrom16(off) || !icmpOrigin(ci.ee.Origin) || !ci.hasTTL || ci.ttl != 63 {
		t.Errorf("parseCmsgs: %+v, ee %+v", ci, ci.ee)
	}
}

func cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafePointer(b))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// FuzzAdmit6 feeds arbitrary bytes to the IPv6 link filter and the IPv6
// control-message parser: never a panic.
func FuzzAdmit6(f *testing.F) {
	f.Add(ipv6Packet("fd00::100", "ff02::1:ff00:2", 58, neighborSolicit("fd00::2")))
	f.Add(ipv6Packet("fd00::100", "2001:db8::1", 43, make([]byte, 24)))
	f.Add(cmsg(unix.SOL_IPV6, unix.IPV6_RECVERR, make([]byte, 44)))
	gw := gateway6ForTest(nil)
	f.Add(buildUDPError6(1, 4, make([]byte, 4), netip.MustParseAddrPort("[2001:db8::1]:53"), netip.MustParseAddrPort("[2001:db8::2]:5353"), 63, 0, 12, []byte("abcd"))[8:])
	f.Fuzz(func(t *testing.T, b []byte) {
		admit6Bytes(gw, b)
		parseCmsgs(b)
		parseUDPQuote6(b)
	})
}

func TestParseRule6(t *testing.T) {
	for _, c := range []struct {
		in     string
		prefix string
		lo, hi uint16
		proto  Proto
	}{
		{"[2001:db8::/32]", "2001:db8::/32", 0, 0, ProtoAny},
		{"2001:db8::/32", "2001:db8::/32", 0, 0, ProtoAny},
		{"2001:db8::1", "2001:db8::1/128", 0, 0, ProtoAny},
		{"tcp:[2001:db8::1]:443", "2001:db8::1/128", 443, 443, ProtoTCP},
		{"[2001:db8::/48]:8000-8100/udp", "2001:db8::/48", 8000, 8100, ProtoUDP},
		{"icmp:[2001:db8:2::/64]", "2001:db8:2::/64", 0, 0, ProtoICMP},
		{"[2001:db8::5/32]", "2001:db8::/32", 0, 0, ProtoAny},
	} {
		r, err := ParseRule(c.in, true)
		if err != nil || r.Prefix != netip.MustParsePrefix(c.prefix) || r.PortLo != c.lo || r.PortHi != c.hi || r.Proto != c.proto {
			t.Errorf("ParseRule(%q) = %+v, %v", c.in, r, err)
		}
	}
	for _, bad := range []string{"[2001:db8::/32", "[2001:db8::]443", "[::ffff:1.2.3.4]", "icmp:[2001:db8::1]:80", "[2001:db8::1]:0", "[fe80::1%eth0]", "2001:db8::g", "[198.18.5.1]"} {
		if r, err := ParseRule(bad, true); err == nil {
			t.Errorf("ParseRule(%q) = %+v, want an error", bad, r)
		}
	}
	// IPv4 rules keep their syntax.
	if r, err := ParseRule("tcp:198.18.5.1:80", true); err != nil || r.Prefix != netip.MustParsePrefix("198.18.5.1/32") || r.PortLo != 80 {
		t.Errorf("IPv4 rule: %+v, %v", r, err)
	}
	p := Policy{DenyAll: true, Rules: []Rule{{Allow: true, Prefix: netip.MustParsePrefix("2001:db8:2::/64")}}}
	if !p.Allows(ProtoTCP, netip.MustParseAddrPort("[2001:db8:2::2]:80")) || p.Allows(ProtoTCP, netip.MustParseAddrPort("[2001:db8:3::2]:80")) {
		t.Error("an IPv6 prefix rule does not decide its prefix alone")
	}
}

func FuzzParseRule6(f *testing.F) {
	for _, s := range []string{"[2001:db8::/32]:80", "tcp:[::1]", "2001:db8::/32", "[", "[]:", "udp:*.a.test:53"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s, false)
		if err == nil && r.Domain == "" && !r.Prefix.IsValid() {
			t.Errorf("ParseRule(%q): no prefix, no domain", s)
		}
	})
}

// The quote of an error to the world reads back as what it quotes, with a
// valid UDP checksum when the whole datagram fits.
func TestUDPQuote6(t *testing.T) {
	from, to := netip.MustParseAddrPort("[2001:db8:2::2]:9"), netip.MustParseAddrPort("[2001:db8:1::1]:40000")
	msg := buildUDPError6(1, 4, []byte{0, 0, 0, 0}, from, to, 63, 0x20, 12, []byte("late"))
	src, dst, udpLen, payload, hop, tclass, ok := parseUDPQuote6(msg[8:])
	if !ok || src != from || dst != to || udpLen != 12 || string(payload) != "late" || hop != 63 || tclass != 0x20 {
		t.Errorf("parseUDPQuote6 = %v %v %d %q %d %#x %v", src, dst, udpLen, payload, hop, tclass, ok)
	}
	u := header.UDP(msg[8+header.IPv6MinimumSize:])
	if !u.IsChecksumValid(gAddr(from.Addr()), gAddr(to.Addr()), checksum.Checksum(payload, 0)) {
		t.Error("quoted UDP checksum invalid")
	}
	for n := 0; n < len(msg)-8; n++ {
		if _, _, _, _, _, _, ok := parseUDPQuote6(msg[8 : 8+n]); ok && n < header.IPv6MinimumSize+header.UDPMinimumSize {
			t.Errorf("a %d-byte quote parsed", n)
		}
	}
}
