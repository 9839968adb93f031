package gateway

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"netsandbox/options"
)

// freePort finds a port of the host's 127.0.0.1 free for network.
func freePort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	var ap netip.AddrPort
	switch network {
	case "tcp4":
		l, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ap = l.Addr().(*net.TCPAddr).AddrPort()
		l.Close()
	default:
		c, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ap = c.LocalAddr().(*net.UDPAddr).AddrPort()
		c.Close()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func TestPublishUDP(t *testing.T) {
	p := newPair(t, Config{})
	s := sandboxUDP(t, p)
	sbPort := netip.AddrPortFrom(testSandbox.Addr(), 5353)
	must(t, s.Bind(options.SockaddrIn(sbPort)))
	host := freePort(t, "udp4")
	must(t, p.gw.PublishUDP(host, sbPort))

	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("to the sandbox")); err != nil {
		t.Fatal(err)
	}
	got, from, err := recvFrom(t, s, 5*time.Second)
	if err != nil || string(got) != "to the sandbox" || from.Addr() != testGateway {
		t.Fatalf("sandbox got %q from %v (%v); want the datagram from the gateway %v", got, from, err, testGateway)
	}
	if _, err := s.SendMsg([]byte("answer"), nil, options.SockaddrIn(from), 0); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "answer" {
		t.Fatalf("host client got %q, %v; want the sandbox's answer", buf[:n], err)
	}
}

func TestPublishTCP(t *testing.T) {
	p := newPair(t, Config{})
	l, err := gonet.ListenTCP(p.sandbox.Gvisor(), tcpip.FullAddress{Addr: tcpip.AddrFrom4(testSandbox.Addr().As4()), Port: 8080}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		c.Write(append([]byte("sandbox saw: "), b...))
	}()
	host := freePort(t, "tcp4")
	must(t, p.gw.PublishTCP(host, netip.AddrPortFrom(testSandbox.Addr(), 8080)))
	c, err := net.DialTCP("tcp4", nil, net.TCPAddrFromAddrPort(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("hello"))
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "sandbox saw: hello" {
		t.Fatalf("published TCP: got %q, %v", got, err)
	}
}
