package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

func TestUDPBetweenStacks(t *testing.T) {
	a, b := pair(t)
	ra, rb := newRecorder(), newRecorder()
	ba := bind(t, a, ra, "0.0.0.0:0", stack.UDPBindFlags{})
	bind(t, b, rb, "0.0.0.0:5000", stack.UDPBindFlags{})

	port := ba.Local().Port()
	if port < 32768 || port > 60999 {
		t.Errorf("ephemeral port %d outside 32768..60999", port)
	}
	err := a.SendUDP(&stack.UDPSend{Src: ba.Local(), Dst: ap("10.0.0.2:5000"), TOS: 0x10, Payload: []byte("ping")})
	if err != nil {
		t.Fatalf("SendUDP A->B: %v", err)
	}
	d := rb.next(t)
	want := stack.Datagram{
		Src: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), Dst: ap("10.0.0.2:5000"),
		IfIndex: 2, TTL: 64, TOS: 0x10, Payload: []byte("ping"),
	}
	if d.Src != want.Src || d.Dst != want.Dst || d.IfIndex != want.IfIndex || d.TTL != want.TTL ||
		d.TOS != want.TOS || !bytes.Equal(d.Payload, want.Payload) || d.IPOptions != nil {
		t.Errorf("B got %+v, want %+v", d, want)
	}

	// Reply with an explicit TTL.
	if err := b.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:5000"), Dst: d.Src, TTL: 7, Payload: []byte("pong")}); err != nil {
		t.Fatalf("SendUDP B->A: %v", err)
	}
	d = ra.next(t)
	if d.Src != ap("10.0.0.2:5000") || d.TTL != 7 || string(d.Payload) != "pong" {
		t.Errorf("A got %+v", d)
	}
	if got := a.Stats().UDPOutDatagrams.Load(); got != 1 {
		t.Errorf("A OutDatagrams = %d, want 1", got)
	}
	if got := a.Stats().UDPInDatagrams.Load(); got != 1 {
		t.Errorf("A InDatagrams = %d, want 1", got)
	}
}

func TestUDPLoopback(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	r1, r2 := newRecorder(), newRecorder()
	b1 := bind(t, s, r1, "127.0.0.1:7000", stack.UDPBindFlags{})
	b2 := bind(t, s, r2, "0.0.0.0:7001", stack.UDPBindFlags{})

	for _, dst := range []string{"127.0.0.1:7000"} {
		if err := s.SendUDP(&stack.UDPSend{Src: b2.Local(), Dst: ap(dst), Payload: []byte("x")}); err != nil {
			t.Fatalf("send to %s: %v", dst, err)
		}
		d := r1.next(t)
		if d.Src != ap("127.0.0.1:7001") || d.IfIndex != 1 || string(d.Payload) != "x" {
			t.Errorf("loopback datagram %+v", d)
		}
	}
	// To our own address on eth0: delivered locally, through lo, also from
	// a 127.0.0.1 source as on Linux.
	for _, src := range []netip.AddrPort{ap("0.0.0.0:7000"), b1.Local()} {
		if err := s.SendUDP(&stack.UDPSend{Src: src, Dst: ap("10.0.0.1:7001"), Payload: []byte("y")}); err != nil {
			t.Fatalf("send from %s to own address: %v", src, err)
		}
		d := r2.next(t)
		wantSrc := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 7000)
		if src.Addr().IsLoopback() {
			wantSrc = src
		}
		if d.Src != wantSrc || d.Dst != ap("10.0.0.1:7001") || d.IfIndex != 1 || string(d.Payload) != "y" {
			t.Errorf("own-address datagram from %s: %+v", src, d)
		}
	}
	// From our eth0 address to 127.0.0.1 works too, as on Linux.
	if err := s.SendUDP(&stack.UDPSend{Src: ap("10.0.0.1:7003"), Dst: ap("127.0.0.1:7000"), Payload: []byte("w")}); err != nil {
		t.Fatalf("send 10.0.0.1 -> 127.0.0.1: %v", err)
	}
	if d := r1.next(t); d.Src != ap("10.0.0.1:7003") || string(d.Payload) != "w" {
		t.Errorf("10.0.0.1 -> 127.0.0.1 datagram %+v", d)
	}
	// Any address of 127/8 is local on Linux.
	r3 := newRecorder()
	bind(t, s, r3, "127.0.0.2:7002", stack.UDPBindFlags{})
	if err := s.SendUDP(&stack.UDPSend{Src: b2.Local(), Dst: ap("127.0.0.2:7002"), Payload: []byte("z")}); err != nil {
		t.Fatalf("send to 127.0.0.2: %v", err)
	}
	if d := r3.next(t); string(d.Payload) != "z" {
		t.Errorf("127.0.0.2 datagram %+v", d)
	}
}

func TestUDPSendErrors(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	cases := []struct {
		name string
		m    stack.UDPSend
		want unix.Errno
	}{
		{"no route", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("192.0.2.1:9")}, unix.ENETUNREACH},
		{"too long", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:9"), Payload: make([]byte, 65508)}, unix.EMSGSIZE},
		{"DF over MTU", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:9"), PMTU: stack.PMTUDo, Payload: make([]byte, 1473)}, unix.EMSGSIZE},
		{"non-local source", stack.UDPSend{Src: ap("10.0.0.9:1234"), Dst: ap("10.0.0.2:9")}, unix.ENETUNREACH},
		{"loopback source to remote", stack.UDPSend{Src: ap("127.0.0.1:1234"), Dst: ap("10.0.0.2:9")}, unix.EINVAL},
		{"loopback source, no route", stack.UDPSend{Src: ap("127.0.0.1:1234"), Dst: ap("192.0.2.1:9")}, unix.ENETUNREACH},
		{"port 0", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:0")}, unix.EINVAL},
		{"limited broadcast without route", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("255.255.255.255:9")}, unix.ENETUNREACH},
		{"unknown ifindex", stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:9"), IfIndex: 42}, unix.ENODEV},
	}
	for _, c := range cases {
		m := c.m
		if err := s.SendUDP(&m); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	// 1472 bytes with DF fit a 1500 MTU; 65507 bytes fit in one
	// (fragmented) datagram.
	if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:9"), PMTU: stack.PMTUDo, Payload: make([]byte, 1472)}); err != nil {
		t.Errorf("1472-byte DF payload: %v", err)
	}
	if err := s.SendUDP(&stack.UDPSend{Src: ap("0.0.0.0:1234"), Dst: ap("10.0.0.2:9"), Payload: make([]byte, 65507)}); err != nil {
		t.Errorf("65507-byte payload: %v", err)
	}
}

func TestPortUnreachable(t *testing.T) {
	a := newStack(t, stack.Config{})
	b := newStack(t, stack.Config{})
	ca, _ := attach(t, a, "10.0.0.1/24")
	cb, _ := attach(t, b, "10.0.0.2/24")
	wire(t, ca, cb) // B's replies stay in cb for inspection

	if err := a.SendUDP(&stack.UDPSend{Src: ap("10.0.0.1:4000"), Dst: ap("10.0.0.2:4001"), Payload: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	frame := readFrame(t, cb)
	ip := header.IPv4(frame)
	if !ip.IsValid(len(frame)) || ip.TransportProtocol() != header.ICMPv4ProtocolNumber {
		t.Fatalf("reply is not ICMP: % x", frame)
	}
	if ip.SourceAddress() != tcpip.AddrFrom4([4]byte{10, 0, 0, 2}) || ip.DestinationAddress() != tcpip.AddrFrom4([4]byte{10, 0, 0, 1}) {
		t.Errorf("ICMP addresses %s -> %s", ip.SourceAddress(), ip.DestinationAddress())
	}
	icmp := header.ICMPv4(ip.Payload())
	if icmp.Type() != header.ICMPv4DstUnreachable || icmp.Code() != header.ICMPv4PortUnreachable {
		t.Fatalf("ICMP type %d code %d, want 3/3", icmp.Type(), icmp.Code())
	}
	quoted := header.IPv4(icmp.Payload())
	qudp := header.UDP(quoted.Payload())
	if qudp.SourcePort() != 4000 || qudp.DestinationPort() != 4001 {
		t.Errorf("quoted ports %d -> %d", qudp.SourcePort(), qudp.DestinationPort())
	}
	if got := b.Stats().UDPNoPorts.Load(); got != 1 {
		t.Errorf("NoPorts = %d, want 1", got)
	}

	// A datagram with a bad checksum is dropped silently and counted.
	bad := udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 4000, 4001, []byte("hello"))
	bad[len(bad)-1] ^= 0xff
	inject(cb, bad)
	if cb.NumQueued() != 0 {
		t.Errorf("bad-checksum datagram drew a reply")
	}
	if got := b.Stats().UDPInCsumErrors.Load(); got != 1 {
		t.Errorf("InCsumErrors = %d, want 1", got)
	}
	if got := b.Stats().UDPNoPorts.Load(); got != 1 {
		t.Errorf("NoPorts = %d after bad checksum, want 1", got)
	}
	// No port unreachable for broadcast.
	inject(cb, udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 255}, 4000, 4001, []byte("b")))
	if cb.NumQueued() != 0 {
		t.Errorf("broadcast to a closed port drew a reply")
	}
}

// udpPacket builds an IPv4 UDP packet with valid checksums.
func udpPacket(src, dst [4]byte, sport, dport uint16, payload []byte) []byte {
	n := header.IPv4MinimumSize + header.UDPMinimumSize + len(payload)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(n), TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(src), DstAddr: tcpip.AddrFrom4(dst),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(b[header.IPv4MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(u.Payload(), payload)
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, tcpip.AddrFrom4(src), tcpip.AddrFrom4(dst), u.Length())
	xsum = checksum.Combine(xsum, checksum.Checksum(payload, 0))
	u.SetChecksum(^u.CalculateChecksum(xsum))
	return b
}

func TestUDPIPOptionsAndHeaderFacts(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.2/24")
	r := newRecorder()
	bind(t, s, r, "0.0.0.0:4001", stack.UDPBindFlags{})

	plain := udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 4000, 4001, []byte("opt"))
	// Insert 4 bytes of options (NOP NOP NOP EOL) after the fixed header.
	opts := []byte{1, 1, 1, 0}
	pkt := append(append(append([]byte(nil), plain[:20]...), opts...), plain[20:]...)
	ip := header.IPv4(pkt)
	ip.SetHeaderLength(24)
	ip.SetTotalLength(uint16(len(pkt)))
	ip.SetTOS(0x28, 0)
	ip.SetTTL(9)
	ip.SetChecksum(0)
	ip.SetChecksum(^ip.CalculateChecksum())
	inject(ch, pkt)
	d := r.next(t)
	if !bytes.Equal(d.IPOptions, opts) || d.TTL != 9 || d.TOS != 0x28 || d.IfIndex != idx || string(d.Payload) != "opt" {
		t.Errorf("datagram %+v", d)
	}
}

func TestUDPBroadcastReachesWildcard(t *testing.T) {
	a, b := pair(t)
	wild, spec := newRecorder(), newRecorder()
	bind(t, b, wild, "0.0.0.0:6000", stack.UDPBindFlags{ReuseAddr: true})
	bind(t, b, spec, "10.0.0.2:6000", stack.UDPBindFlags{ReuseAddr: true})

	for _, m := range []stack.UDPSend{
		{Src: ap("10.0.0.1:6001"), Dst: ap("10.0.0.255:6000"), Payload: []byte("directed")},
		{Src: ap("10.0.0.1:6001"), Dst: ap("255.255.255.255:6000"), IfIndex: 2, Payload: []byte("limited")},
	} {
		if err := a.SendUDP(&m); err != nil {
			t.Fatalf("send to %s: %v", m.Dst, err)
		}
		d := wild.next(t)
		if d.Dst != m.Dst || !bytes.Equal(d.Payload, m.Payload) {
			t.Errorf("wildcard socket got %+v for %s", d, m.Dst)
		}
	}
	// A socket bound to the unicast address gets no broadcasts (Linux
	// matches the bound address against the destination).
	spec.none(t)
}

func TestUDPConnectFilters(t *testing.T) {
	a, b := pair(t)
	rb := newRecorder()
	bb := bind(t, b, rb, "0.0.0.0:5000", stack.UDPBindFlags{})
	if err := bb.Connect(ap("10.0.0.1:5001")); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	// Like Linux, connect fixes the wildcard local address to the route's
	// source.
	if got := bb.Local(); got != ap("10.0.0.2:5000") {
		t.Errorf("Local after connect = %s, want 10.0.0.2:5000", got)
	}
	send := func(src string) {
		t.Helper()
		if err := a.SendUDP(&stack.UDPSend{Src: ap(src), Dst: ap("10.0.0.2:5000"), Payload: []byte(src)}); err != nil {
			t.Fatal(err)
		}
	}
	send("10.0.0.1:5002") // not the peer: dropped (and answered with port unreachable)
	send("10.0.0.1:5001")
	if d := rb.next(t); d.Src != ap("10.0.0.1:5001") {
		t.Errorf("connected socket got datagram from %s", d.Src)
	}
	rb.none(t)

	// Disconnect: the explicitly bound wildcard address and port come back.
	if err := bb.Connect(netip.AddrPort{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	if got := bb.Local(); got != ap("0.0.0.0:5000") {
		t.Errorf("Local after disconnect = %s", got)
	}
	send("10.0.0.1:5002")
	if d := rb.next(t); d.Src != ap("10.0.0.1:5002") {
		t.Errorf("after disconnect got datagram from %s", d.Src)
	}

	// A binding with a kernel-chosen port is released by disconnect, as
	// Linux unhashes a socket whose port bind did not set.
	eb := bind(t, b, newRecorder(), "0.0.0.0:0", stack.UDPBindFlags{})
	port := eb.Local().Port()
	if err := eb.Connect(ap("10.0.0.1:5001")); err != nil {
		t.Fatal(err)
	}
	if err := eb.Connect(netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if eb.Local().IsValid() {
		t.Errorf("Local after disconnect of autobound = %s, want zero", eb.Local())
	}
	// Its port is free again.
	again := bind(t, b, newRecorder(), netip.AddrPortFrom(netip.IPv4Unspecified(), port).String(), stack.UDPBindFlags{})
	if again.Local().Port() != port {
		t.Errorf("rebind got port %d", again.Local().Port())
	}
}

func TestUDPConnectErrors(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	lo := bind(t, s, newRecorder(), "127.0.0.5:0", stack.UDPBindFlags{})
	if err := lo.Connect(ap("10.0.0.2:9")); !errors.Is(err, unix.EINVAL) {
		t.Errorf("connect from 127.0.0.5 to 10.0.0.2: %v, want EINVAL", err)
	}
	if err := lo.Connect(ap("10.0.0.1:9")); err != nil {
		t.Errorf("connect from 127.0.0.5 to own 10.0.0.1: %v", err)
	}
	spec := bind(t, s, newRecorder(), "10.0.0.1:0", stack.UDPBindFlags{})
	if err := spec.Connect(ap("192.0.2.1:9")); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("connect without route: %v, want ENETUNREACH", err)
	}
	if got := spec.Local().Addr().String(); got != "10.0.0.1" {
		t.Errorf("Local after failed connect = %s", spec.Local())
	}
}

func TestUDPRouteSource(t *testing.T) {
	s := newStack(t, stack.Config{})
	_, idx := attach(t, s, "10.0.0.1/24")
	if err := s.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.0.254"), idx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dst     string
		src     string
		ifindex int
	}{
		{"127.0.0.1", "127.0.0.1", 1},
		{"10.0.0.7", "10.0.0.1", idx},
		{"192.0.2.1", "10.0.0.1", idx},
	} {
		src, i, err := s.RouteSource(netip.MustParseAddr(c.dst), 0)
		if err != nil || src.String() != c.src || i != c.ifindex {
			t.Errorf("RouteSource(%s) = %s, %d, %v; want %s, %d", c.dst, src, i, err, c.src, c.ifindex)
		}
	}
}
