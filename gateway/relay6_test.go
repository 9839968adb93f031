package gateway

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
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
