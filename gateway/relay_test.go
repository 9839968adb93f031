package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// hostTCPEcho listens on the host's 127.0.0.1 and echoes each connection
// until its peer half-closes, then half-closes too.
func hostTCPEcho(t *testing.T) *net.TCPListener {
	t.Helper()
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return serveTCPEcho(t, l)
}

// serveTCPEcho echoes each connection l accepts until its peer
// half-closes, then half-closes too; l closes when the test ends.
func serveTCPEcho(t *testing.T, l *net.TCPListener) *net.TCPListener {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptTCP()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(c, c)
				c.CloseWrite()
			}()
		}
	}()
	return l
}

// dialSandboxTCP connects from the sandbox's stack to dst (IPv4 or IPv6).
func dialSandboxTCP(p *pair, dst netip.AddrPort) (*gonet.TCPConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	proto := ipv4.ProtocolNumber
	if dst.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	return gonet.DialContextTCP(ctx, p.sandbox.Gvisor(), tcpip.FullAddress{Addr: gAddr(dst.Addr()), Port: dst.Port()}, proto)
}

// echoWithHalfClose sends msg on c, half-closes, and wants msg back
// and EOF: the host's echo half-closed in turn.
func echoWithHalfClose(t *testing.T, c *gonet.TCPConn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go func() {
		c.Write([]byte(msg))
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != msg {
		t.Fatalf("echo: %d bytes, %v; want %d bytes back and EOF (half-close passed both ways)", len(got), err, len(msg))
	}
}

func TestTCPToHostLoopbackWithHalfClose(t *testing.T) {
	l := hostTCPEcho(t)
	p := newPair(t, Config{AllowHostLoopback: true})
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	c, err := dialSandboxTCP(p, netip.AddrPortFrom(testGateway, port))
	if err != nil {
		t.Fatalf("connect through the gateway: %v", err)
	}
	defer c.Close()
	echoWithHalfClose(t, c, strings.Repeat("relayed through the gateway ", 5000)) // > one window
	if n := p.gw.Stats().TCPFlows.Load(); n != 1 {
		t.Errorf("TCPFlows = %d, want 1", n)
	}
}

func TestTCPRefusals(t *testing.T) {
	l := hostTCPEcho(t)
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name string
		cfg  Config
		dst  netip.AddrPort
	}{
		{"host loopback not allowed", Config{}, netip.AddrPortFrom(testGateway, port)},
		{"closed host port", Config{AllowHostLoopback: true}, netip.AddrPortFrom(testGateway, 1)},
		{"denied by policy", Config{Policy: &Policy{DenyAll: true}}, netip.MustParseAddrPort("203.0.113.7:80")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, tc.cfg)
			c, err := dialSandboxTCP(p, tc.dst)
			if err == nil {
				c.Close()
				t.Fatal("connect succeeded, want connection refused (RST)")
			}
			if !strings.Contains(err.Error(), "refused") {
				t.Fatalf("connect: %v, want connection refused", err)
			}
		})
	}
}

// sandboxUDP is a UDP socket of the sandbox stack.
func sandboxUDP(t *testing.T, p *pair) endpoint.Socket {
	t.Helper()
	s, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func recvFrom(t *testing.T, s endpoint.Socket, wait time.Duration) ([]byte, netip.AddrPort, error) {
	t.Helper()
	if ev, _ := s.Wait(unix.EPOLLIN, time.Now().Add(wait)); ev == 0 {
		return nil, netip.AddrPort{}, errors.New("nothing received")
	}
	buf := make([]byte, 65536)
	n, _, _, sa, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	ap, _, _ := options.ParseSockaddrIn(sa)
	return buf[:n], ap, nil
}

func hostUDPEcho(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for i := 0; i < 100; i++ {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			c.WriteToUDP(buf[:n], from)
		}
	}()
	return c
}

func TestUDPRelayAndDNS(t *testing.T) {
	echo := hostUDPEcho(t)
	port := uint16(echo.LocalAddr().(*net.UDPAddr).Port)
	p := newPair(t, Config{AllowHostLoopback: true, Resolver: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)})
	s := sandboxUDP(t, p)
	for _, dst := range []netip.AddrPort{netip.AddrPortFrom(testGateway, port), netip.AddrPortFrom(testDNS, 53)} {
		msg := []byte("datagram to " + dst.String())
		if _, err := s.SendMsg(msg, nil, options.SockaddrIn(dst), 0); err != nil {
			t.Fatal(err)
		}
		got, from, err := recvFrom(t, s, 5*time.Second)
		if err != nil || string(got) != string(msg) || from != dst {
			t.Errorf("to %v: got %q from %v (%v); want the echo from %v", dst, got, from, err, dst)
		}
	}
	if n := p.gw.Stats().UDPFlows.Load(); n != 2 {
		t.Errorf("UDPFlows = %d, want 2", n)
	}
}

// icmpErrorFor sends one datagram and reads the ICMP error the sandbox gets
// for it on a raw socket: type, code and source.
func icmpErrorFor(t *testing.T, p *pair, dst netip.AddrPort, ttl int) (typ, code uint8, from netip.Addr) {
	t.Helper()
	raw, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	s := sandboxUDP(t, p)
	if ttl != 0 {
		must(t, s.SetSockOpt(unix.IPPROTO_IP, unix.IP_TTL, []byte{byte(ttl), 0, 0, 0}))
	}
	if _, err := s.SendMsg([]byte("x"), nil, options.SockaddrIn(dst), 0); err != nil {
		t.Fatal(err)
	}
	pkt, src, err := recvFrom(t, raw, 3*time.Second)
	if err != nil || len(pkt) < 22 {
		t.Fatalf("no ICMP error for a datagram to %v: %v", dst, err)
	}
	return pkt[20], pkt[21], src.Addr()
}

func TestUDPDeniedAndTTLExpired(t *testing.T) {
	p := newPair(t, Config{Policy: &Policy{DenyAll: true}})
	typ, code, from := icmpErrorFor(t, p, netip.MustParseAddrPort("203.0.113.7:9"), 0)
	if typ != 3 || code != 13 || from != testGateway {
		t.Errorf("denied datagram: ICMP %d/%d from %v; want 3/13 (administratively prohibited) from %v", typ, code, from, testGateway)
	}
	p = newPair(t, Config{})
	typ, code, from = icmpErrorFor(t, p, netip.MustParseAddrPort("203.0.113.7:9"), 1)
	if typ != 11 || code != 0 || from != testGateway {
		t.Errorf("TTL 1 datagram: ICMP %d/%d from %v; want 11/0 (time exceeded) from the gateway %v", typ, code, from, testGateway)
	}
	if n := p.gw.Stats().UDPFlows.Load(); n != 0 {
		t.Errorf("UDPFlows = %d, want 0 (nothing left the host)", n)
	}
}

// TestTCPSynTTLExpires: a SYN with TTL 1 ends at the gateway with time
// exceeded (TCP traceroute's first hop); nothing is dialled.
func TestTCPSynTTLExpires(t *testing.T) {
	p := newPair(t, Config{})
	raw, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	s, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t, s.SetSockOpt(unix.IPPROTO_IP, unix.IP_TTL, []byte{1, 0, 0, 0}))
	if err := s.Connect(options.SockaddrIn(netip.MustParseAddrPort("203.0.113.7:80"))); err != unix.EINPROGRESS {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	pkt, from, err := recvFrom(t, raw, 3*time.Second)
	if err != nil || len(pkt) < 22 || pkt[20] != 11 || from.Addr() != testGateway {
		t.Fatalf("got % x from %v (%v); want time exceeded from %v", pkt, from, err, testGateway)
	}
	if n := p.gw.Stats().Failed.Load() + p.gw.Stats().TCPFlows.Load(); n != 0 {
		t.Errorf("the gateway dialled (%d), want nothing", n)
	}
}

// TestCloseEndsLiveFlows: Close ends a TCP relay in progress, UDP flows and
// published ports, and publishing afterwards fails.
func TestCloseEndsLiveFlows(t *testing.T) {
	l := hostTCPEcho(t)
	echo := hostUDPEcho(t)
	p := newPair(t, Config{AllowHostLoopback: true})
	c, err := dialSandboxTCP(p, netip.AddrPortFrom(testGateway, uint16(l.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := sandboxUDP(t, p)
	dst := netip.AddrPortFrom(testGateway, uint16(echo.LocalAddr().(*net.UDPAddr).Port))
	if _, err := s.SendMsg([]byte("x"), nil, options.SockaddrIn(dst), 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := recvFrom(t, s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	must(t, p.gw.PublishTCP(freePort(t, "tcp4"), netip.AddrPortFrom(testSandbox.Addr(), 80)))
	closed := make(chan struct{})
	go func() { p.gw.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s with live flows")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 10)); err == nil {
		t.Error("the sandbox's connection still reads after Close")
	}
	if err := p.gw.PublishUDP(freePort(t, "udp4"), netip.AddrPortFrom(testSandbox.Addr(), 53)); err == nil {
		t.Error("PublishUDP after Close succeeded")
	}
}

// TestTCPRelayLimit: past MaxFlows relayed connections, a new one is
// refused; it is accepted again once one ends.
func TestTCPRelayLimit(t *testing.T) {
	l := hostTCPEcho(t)
	p := newPair(t, Config{AllowHostLoopback: true, MaxFlows: 1})
	dst := netip.AddrPortFrom(testGateway, uint16(l.Addr().(*net.TCPAddr).Port))
	first, err := dialSandboxTCP(p, dst)
	if err != nil {
		t.Fatal(err)
	}
	// The relay starts after the handshake: wait until it counts.
	for i := 0; i < 100 && p.gw.relays.Load() == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if c, err := dialSandboxTCP(p, dst); err == nil {
		c.Close()
		t.Fatal("second connection relayed past MaxFlows 1")
	}
	first.Close()
	for i := 0; i < 200 && p.gw.relays.Load() != 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	c, err := dialSandboxTCP(p, dst)
	if err != nil {
		t.Fatalf("connection after the first ended: %v", err)
	}
	c.Close()
}
