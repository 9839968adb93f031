package gateway

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/endpoint"
	"netsandbox/options"
)

var testDNS6 = netip.MustParseAddr("fd00::3")

// requireRawSocket6: relaying the sandbox's ICMPv6 errors needs CAP_NET_RAW.
func requireRawSocket6(t *testing.T) {
	t.Helper()
	requireRawSocket(t)
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	if err != nil {
		t.Skipf("no raw ICMPv6 socket on this host: %v", err)
	}
	unix.Close(fd)
}

// hostUDP6Answer reads one datagram on c, echoes it to its sender and
// connects c to that sender, as a server answering its client does; it
// returns the sender.
func hostUDP6Answer(t *testing.T, c *net.UDPConn) netip.AddrPort {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("host side got nothing: %v", err)
	}
	if _, err := c.WriteToUDPAddrPort(buf[:n], from); err != nil {
		t.Fatal(err)
	}
	rc, _ := c.SyscallConn()
	rc.Control(func(fd uintptr) {
		err = unix.Connect(int(fd), &unix.SockaddrInet6{Addr: from.Addr().As16(), Port: int(from.Port())})
	})
	must(t, err)
	return from
}

// unreachable6 is an ICMPv6 port unreachable quoting a UDP datagram from
// -> to with payload (the raw socket fills the checksum).
func unreachable6(from, to netip.AddrPort, payload string) []byte {
	msg := make([]byte, header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize+header.UDPMinimumSize+len(payload))
	msg[0], msg[1] = byte(header.ICMPv6DstUnreachable), byte(header.ICMPv6PortUnreachable)
	ip := header.IPv6(msg[header.ICMPv6ErrorHeaderSize:])
	ulen := uint16(header.UDPMinimumSize + len(payload))
	ip.Encode(&header.IPv6Fields{PayloadLength: ulen, TransportProtocol: header.UDPProtocolNumber, HopLimit: 63,
		SrcAddr: gAddr(from.Addr()), DstAddr: gAddr(to.Addr())})
	header.UDP(msg[header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize:]).Encode(&header.UDPFields{SrcPort: from.Port(), DstPort: to.Port(), Length: ulen})
	copy(msg[header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize+header.UDPMinimumSize:], payload)
	return msg
}

// TestSandboxICMPv6ErrorAboutDNSReply: the sandbox's ICMPv6 error about a
// reply from fd00::3 (its socket gone) stays in the gateway: the query
// to the resolver was the gateway's own. The same error about a reply of
// an ordinary flow reaches that flow's remote, whose connected socket
// reads ECONNREFUSED, so the forged errors are well formed.
func TestSandboxICMPv6ErrorAboutDNSReply(t *testing.T) {
	requireRawSocket6(t)
	resolver, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	defer resolver.Close()
	remote, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	p := newPair(t, Config{Gateway6: testGateway6, DNS6: testDNS6, AllowHostLoopback: true,
		Resolver: resolver.LocalAddr().(*net.UDPAddr).AddrPort()})

	// A query to fd00::3 and its answer, from the resolver on ::1.
	dnsSock := sandboxUDP6(t, p)
	dns := netip.AddrPortFrom(testDNS6, 53)
	if _, err := dnsSock.SendMsg([]byte("query"), nil, options.SockaddrIn6Bytes(dns, 0), 0); err != nil {
		t.Fatal(err)
	}
	hostUDP6Answer(t, resolver)
	if got, from, err := recvFrom6(t, dnsSock, 5*time.Second); err != nil || string(got) != "query" || from != dns {
		t.Fatalf("sandbox got %q from %v (%v); want the answer from %v", got, from, err, dns)
	}
	// An ordinary flow to fd00::2 (the host's ::1) and its reply.
	flowSock := sandboxUDP6(t, p)
	hostPort := netip.AddrPortFrom(testGateway6, uint16(remote.LocalAddr().(*net.UDPAddr).Port))
	if _, err := flowSock.SendMsg([]byte("hello"), nil, options.SockaddrIn6Bytes(hostPort, 0), 0); err != nil {
		t.Fatal(err)
	}
	hostUDP6Answer(t, remote)
	if _, _, err := recvFrom6(t, flowSock, 5*time.Second); err != nil {
		t.Fatalf("no reply on the ordinary flow: %v", err)
	}
	local := func(s endpoint.Socket) netip.AddrPort {
		sa, err := s.GetSockName()
		must(t, err)
		sin6, err := options.ParseSockaddrIn6(sa)
		must(t, err)
		return netip.AddrPortFrom(testSandbox6.Addr(), sin6.Port)
	}

	raw, err := endpoint.New(p.sandbox, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	send := func(msg []byte, to netip.Addr) {
		t.Helper()
		if _, err := raw.SendMsg(msg, nil, options.SockaddrIn6Bytes(netip.AddrPortFrom(to, 0), 0), 0); err != nil {
			t.Fatal(err)
		}
	}
	// The DNS error first: the tap takes the sandbox's packets in order,
	// so once the second is relayed the first has been judged.
	send(unreachable6(dns, local(dnsSock), "query"), testDNS6)
	send(unreachable6(hostPort, local(flowSock), "hello"), testGateway6)
	if err := readRefused(remote, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("the ordinary flow's remote read %v, want ECONNREFUSED", err)
	}
	if err := readRefused(resolver, 300*time.Millisecond); errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("the resolver read ECONNREFUSED: the sandbox's error about a DNS reply was relayed")
	}
	s := p.gw.Stats()
	if r, l, d := s.ICMPErrRelayed.Load(), s.ICMPErrLimited.Load(), s.ICMPErrDropped.Load(); r != 1 || l != 0 || d != 0 {
		t.Errorf("relayed %d, limited %d, dropped %d; want 1, 0, 0 (the DNS error neither relayed nor counted)", r, l, d)
	}
}

// TestPublishedUDP6NoListener: a datagram to a port published to the
// sandbox's IPv6 address that nothing listens on gets port unreachable
// back from the address the client wrote to: its connected socket reads
// ECONNREFUSED, as from a host with no listener there.
func TestPublishedUDP6NoListener(t *testing.T) {
	requireRawSocket6(t)
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	host := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	p := newPair(t, Config{Gateway6: testGateway6})
	must(t, p.gw.PublishUDP(host, netip.AddrPortFrom(testSandbox6.Addr(), 5354)))
	c, err = net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("anyone there over IPv6?")); err != nil {
		t.Fatal(err)
	}
	if err := readRefused(c, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read after a datagram to a published IPv6 port without listener: %v, want ECONNREFUSED", err)
	}
	waitFor(t, func() bool { return p.gw.Stats().ICMPErrRelayed.Load() == 1 }, "ICMPErrRelayed 1")
}
