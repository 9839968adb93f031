package gateway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// hostTCPEcho6 is hostTCPEcho on the host's ::1 (a skip where the host
// has no IPv6 loopback).
func hostTCPEcho6(t *testing.T) *net.TCPListener {
	t.Helper()
	l, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	return serveTCPEcho(t, l)
}

// The sandbox's IPv6 TCP to the gateway's fd00::2 reaches the host's ::1
// with --allow-host-loopback (neighbour discovery between the two stacks,
// the forwarder, an AF_INET6 host socket, the relay with half-close), and
// is refused without it.
func TestTCP6ToHostLoopback(t *testing.T) {
	l := hostTCPEcho6(t)
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	p := newPair(t, Config{AllowHostLoopback: true, Gateway6: testGateway6})
	c, err := dialSandboxTCP(p, netip.AddrPortFrom(testGateway6, port))
	if err != nil {
		t.Fatalf("connect through the gateway over IPv6: %v", err)
	}
	defer c.Close()
	echoWithHalfClose(t, c, strings.Repeat("relayed over IPv6 ", 5000))
	if n := p.gw.Stats().TCPFlows.Load(); n != 1 {
		t.Errorf("TCPFlows = %d, want 1", n)
	}

	q := newPair(t, Config{Gateway6: testGateway6})
	if c, err := dialSandboxTCP(q, netip.AddrPortFrom(testGateway6, port)); err == nil {
		c.Close()
		t.Error("fd00::2 without --allow-host-loopback: connected")
	}
	if q.gw.Stats().Denied.Load() != 1 {
		t.Errorf("Denied = %d, want 1", q.gw.Stats().Denied.Load())
	}
}

// Without Gateway6 the sandbox's IPv6 goes nowhere: its neighbour
// discovery for the gateway gets no answer.
func TestNoGateway6(t *testing.T) {
	p := newPair(t, Config{})
	must(t, p.sandbox.AddAddress6(2, testSandbox6))
	must(t, p.sandbox.AddRoute6(netip.MustParsePrefix("::/0"), testGateway6, 2))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := gonet.DialContextTCP(ctx, p.sandbox.Gvisor(),
		tcpip.FullAddress{Addr: tcpip.AddrFrom16(netip.MustParseAddr("2001:db8::1").As16()), Port: 80}, ipv6.ProtocolNumber)
	if err == nil {
		c.Close()
		t.Fatal("IPv6 connected through a gateway without IPv6")
	}
}

// sandboxUDP6 is an AF_INET6 datagram socket of the sandbox.
func sandboxUDP6(t *testing.T, p *pair) endpoint.Socket {
	t.Helper()
	s, err := endpoint.New(p.sandbox, unix.AF_INET6, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recvFrom6 is recvFrom for an AF_INET6 socket.
func recvFrom6(t *testing.T, s endpoint.Socket, wait time.Duration) ([]byte, netip.AddrPort, error) {
	t.Helper()
	if ev, _ := s.Wait(unix.EPOLLIN, time.Now().Add(wait)); ev == 0 {
		return nil, netip.AddrPort{}, errors.New("nothing received")
	}
	buf := make([]byte, 65536)
	n, _, _, sa, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	sin6, err := options.ParseSockaddrIn6(sa)
	return buf[:n], sin6.AddrPort(), err
}

// A UDP port published on the host's ::1 reaches the sandbox's fd00::100
// from the gateway's fd00::2, and the sandbox's answer reaches the client;
// the families must match.
func TestPublishUDP6(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	host := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	p := newPair(t, Config{Gateway6: testGateway6})
	s := sandboxUDP6(t, p)
	sbPort := netip.AddrPortFrom(testSandbox6.Addr(), 5353)
	must(t, s.Bind(options.SockaddrIn6Bytes(sbPort, 0)))
	if err := p.gw.PublishUDP(netip.MustParseAddrPort("127.0.0.1:0"), sbPort); err == nil {
		t.Error("an IPv4 host address published to the sandbox's IPv6 address")
	}
	must(t, p.gw.PublishUDP(host, sbPort))

	c, err = net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("to the sandbox over IPv6")); err != nil {
		t.Fatal(err)
	}
	got, from, err := recvFrom6(t, s, 5*time.Second)
	if err != nil || string(got) != "to the sandbox over IPv6" || from.Addr() != testGateway6 {
		t.Fatalf("sandbox got %q from %v (%v); want the datagram from the gateway %v", got, from, err, testGateway6)
	}
	if _, err := s.SendMsg([]byte("answer6"), nil, options.SockaddrIn6Bytes(from, 0), 0); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "answer6" {
		t.Fatalf("host client got %q, %v; want the sandbox's answer", buf[:n], err)
	}
	if n := p.gw.Stats().UDPFlows.Load(); n != 1 {
		t.Errorf("UDPFlows = %d, want 1", n)
	}
}
