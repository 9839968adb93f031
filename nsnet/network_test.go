package nsnet_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/nsnet"
)

// Package net's IP network names reach raw conns: "ip4:PROTO" and
// "ip:PROTO" with a protocol number or name, in any case.
func TestNetworkNamesAccepted(t *testing.T) {
	w := newWireWith(t, pingCfg)
	for _, c := range []struct {
		network string
		proto   int
	}{
		{"ip4:icmp", unix.IPPROTO_ICMP},
		{"ip4:1", unix.IPPROTO_ICMP},
		{"ip:ICMP", unix.IPPROTO_ICMP},
		{"ip4:igmp", unix.IPPROTO_IGMP},
		{"ip4:2", unix.IPPROTO_IGMP},
		{"ip:udp", unix.IPPROTO_UDP},
		{"ip4:tcp", unix.IPPROTO_TCP},
	} {
		pc, err := nsnet.ListenPacket(w.a, c.network, "0.0.0.0")
		if err != nil {
			t.Errorf("ListenPacket(%q): %v", c.network, err)
			continue
		}
		ip, ok := pc.(*nsnet.IPConn)
		if !ok {
			t.Errorf("ListenPacket(%q) is %T, want *nsnet.IPConn", c.network, pc)
			pc.Close()
			continue
		}
		var b [4]byte
		n, err := ip.Socket().GetSockOpt(unix.SOL_IP, unix.IP_PROTOCOL, b[:])
		if err != nil || n < 1 || int(b[0]) != c.proto {
			t.Errorf("ListenPacket(%q): IP_PROTOCOL % x, %v; want %d", c.network, b[:n], err, c.proto)
		}
		if la, ok := pc.LocalAddr().(*net.IPAddr); !ok || !la.IP.Equal(net.IPv4zero) {
			t.Errorf("ListenPacket(%q): LocalAddr %v, want 0.0.0.0", c.network, pc.LocalAddr())
		}
		pc.Close()
	}
	// "" is any address too, as in package net.
	pc, err := nsnet.ListenPacket(w.a, "ip4:icmp", "")
	if err != nil {
		t.Fatalf(`ListenPacket("ip4:icmp", ""): %v`, err)
	}
	pc.Close()

	// Dial "ip4:icmp" is DialIP: a connected raw conn, whose echo request
	// B answers.
	c, err := nsnet.Dial(w.a, "ip4:icmp", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*nsnet.IPConn); !ok {
		t.Fatalf(`Dial("ip4:icmp") is %T, want *nsnet.IPConn`, c)
	}
	if ra, ok := c.RemoteAddr().(*net.IPAddr); !ok || !ra.IP.Equal(addrB.AsSlice()) {
		t.Errorf("RemoteAddr = %v, want 10.0.0.2", c.RemoteAddr())
	}
	rawEcho(t, c, 0x7373, "by name", `reply on Dial("ip4:icmp")`)

	// A Dialer's LocalAddr binds the raw conn's address; its port is moot.
	d := nsnet.Dialer{Stack: w.a, LocalAddr: netip.AddrPortFrom(addrA, 9)}
	c2, err := d.Dial("ip:1", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if la, ok := c2.LocalAddr().(*net.IPAddr); !ok || !la.IP.Equal(addrA.AsSlice()) {
		t.Errorf(`Dialer.Dial("ip:1") LocalAddr = %v, want 10.0.0.1`, c2.LocalAddr())
	}

	// The conn's errors carry the network as written, as package net's do.
	if _, err := c2.(*nsnet.IPConn).WriteTo([]byte{8, 0, 0, 0}, &net.UDPAddr{}); err == nil {
		t.Error("WriteTo a *net.UDPAddr on a raw conn: no error")
	} else if oe, ok := err.(*net.OpError); !ok || oe.Net != "ip:1" {
		t.Errorf("WriteTo error %v, want an OpError with Net ip:1", err)
	}

	// The TCP and UDP names still work as before.
	for _, network := range []string{"udp", "udp4"} {
		pc, err := nsnet.ListenPacket(w.b, network, ":0")
		if err != nil {
			t.Errorf("ListenPacket(%q): %v", network, err)
			continue
		}
		if _, ok := pc.(*nsnet.UDPConn); !ok {
			t.Errorf("ListenPacket(%q) is %T", network, pc)
		}
		pc.Close()
	}
	for _, network := range []string{"tcp", "tcp4"} {
		l, err := nsnet.Listen(w.b, network, ":0")
		if err != nil {
			t.Errorf("Listen(%q): %v", network, err)
			continue
		}
		l.Close()
	}
}

// Refused names fail as package net fails them: an *net.OpError of the
// call's Op with the network as given, around a net.UnknownNetworkError for
// an unknown name, an *net.AddrError for an unknown protocol, and (listen
// only) an *net.AddrError "unexpected address type" for a network of the
// wrong kind.
func TestNetworkNamesRefused(t *testing.T) {
	w := newWireWith(t, pingCfg)
	type call struct {
		name string
		do   func(network, address string) error
		op   string
	}
	dial := call{"Dial", func(n, a string) error {
		c, err := nsnet.Dial(w.a, n, a)
		if err == nil {
			c.Close()
		}
		return err
	}, "dial"}
	listen := call{"Listen", func(n, a string) error {
		l, err := nsnet.Listen(w.a, n, a)
		if err == nil {
			l.Close()
		}
		return err
	}, "listen"}
	listenPacket := call{"ListenPacket", func(n, a string) error {
		c, err := nsnet.ListenPacket(w.a, n, a)
		if err == nil {
			c.Close()
		}
		return err
	}, "listen"}

	for _, c := range []struct {
		call             call
		network, address string
		want             error // net.UnknownNetworkError or *net.AddrError's Err
	}{
		// Not package net's names at all.
		{dial, "", "10.0.0.2:1", net.UnknownNetworkError("")},
		{dial, "sctp", "10.0.0.2:1", net.UnknownNetworkError("sctp")},
		{dial, "TCP", "10.0.0.2:1", net.UnknownNetworkError("TCP")},
		{dial, "tcp:6", "10.0.0.2:1", net.UnknownNetworkError("tcp:6")},
		{listen, "bogus", ":0", net.UnknownNetworkError("bogus")},
		{listenPacket, "udp:x", ":0", net.UnknownNetworkError("udp:x")},
		{listenPacket, "IP4:17", "0.0.0.0", net.UnknownNetworkError("IP4:17")}, // only the protocol name ignores case
		// "ip" and "ip4" need a protocol (package net's needsProto).
		{dial, "ip4", "10.0.0.2", net.UnknownNetworkError("ip4")},
		{listenPacket, "ip", "0.0.0.0", net.UnknownNetworkError("ip")},
		// Package net's, but netsandbox is IPv4 only and has no Unix
		// sockets.
		{dial, "tcp6", "10.0.0.2:1", net.UnknownNetworkError("tcp6")},
		{dial, "ip6:icmp", "10.0.0.2", net.UnknownNetworkError("ip6:icmp")},
		{listenPacket, "udp6", ":0", net.UnknownNetworkError("udp6")},
		{listenPacket, "unixgram", "/tmp/x", net.UnknownNetworkError("unixgram")},
		// An unknown protocol name: package net's lookupProtocol error.
		{dial, "ip4:bogus", "10.0.0.2", &net.AddrError{Err: "unknown IP protocol specified", Addr: "bogus"}},
		{listenPacket, "ip4:", "0.0.0.0", &net.AddrError{Err: "unknown IP protocol specified", Addr: ""}},
		{listenPacket, "ip4:-1", "0.0.0.0", &net.AddrError{Err: "unknown IP protocol specified", Addr: "-1"}},
		{listenPacket, "ip4:99999999", "0.0.0.0", &net.AddrError{Err: "unknown IP protocol specified", Addr: "99999999"}},
		// Known networks of the wrong kind for the call.
		{listen, "udp", ":0", &net.AddrError{Err: "unexpected address type", Addr: ":0"}},
		{listen, "ip4:icmp", "0.0.0.0", &net.AddrError{Err: "unexpected address type", Addr: "0.0.0.0"}},
		{listenPacket, "tcp4", ":0", &net.AddrError{Err: "unexpected address type", Addr: ":0"}},
	} {
		what := c.call.name + "(" + c.network + ", " + c.address + ")"
		err := c.call.do(c.network, c.address)
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != c.call.op || oe.Net != c.network {
			t.Errorf("%s = %#v, want an *net.OpError{Op: %q, Net: %q}", what, err, c.call.op, c.network)
			continue
		}
		switch want := c.want.(type) {
		case net.UnknownNetworkError:
			if got, ok := oe.Err.(net.UnknownNetworkError); !ok || got != want {
				t.Errorf("%s: Err = %#v, want %#v", what, oe.Err, want)
			}
			// Package net's words: "dial sctp: unknown network sctp".
			if got, want := err.Error(), c.call.op+" "+c.network+": unknown network "+c.network; c.network != "" && got != want {
				t.Errorf("%s: %q, want %q", what, got, want)
			}
		case *net.AddrError:
			if got, ok := oe.Err.(*net.AddrError); !ok || *got != *want {
				t.Errorf("%s: Err = %#v, want %#v", what, oe.Err, want)
			}
		}
	}

	// An "ip" address has no port, and is a literal.
	for _, a := range []string{"10.0.0.2:1", "example.com"} {
		_, err := nsnet.Dial(w.a, "ip4:icmp", a)
		var ae *net.AddrError
		if !errors.As(err, &ae) {
			t.Errorf("Dial(ip4:icmp, %q) = %v, want an *net.AddrError", a, err)
		}
	}
	// The wrong-kind listen names the resolved address, as package net does.
	_, err := nsnet.Listen(w.a, "udp", "10.0.0.1:53")
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Addr == nil || oe.Addr.String() != "10.0.0.1:53" {
		t.Errorf("Listen(udp, 10.0.0.1:53) = %v, want its OpError to name 10.0.0.1:53", err)
	} else if _, ok := oe.Addr.(*net.UDPAddr); !ok {
		t.Errorf("Listen(udp, ...): OpError.Addr is %T, want *net.UDPAddr", oe.Addr)
	}
	// Without CAP_NET_RAW a raw name is the socket's EPERM, not a name error.
	w2 := newWire(t)
	if _, err := nsnet.ListenPacket(w2.a, "ip4:icmp", "0.0.0.0"); !errors.Is(err, unix.EPERM) {
		t.Errorf("ListenPacket(ip4:icmp) without CAP_NET_RAW = %v, want EPERM", err)
	}
}
