package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// nobody is an address no host has: the gateway never hears from it.
var nobody = netip.MustParseAddr("198.19.77.77")

// icmpSeen is one ICMP message the sandbox received.
type icmpSeen struct {
	typ, code uint8
	from      netip.Addr
}

func (s icmpSeen) String() string { return fmt.Sprintf("%d/%d from %v", s.typ, s.code, s.from) }

// icmpCatcher is a raw ICMP socket of the sandbox: it sees every ICMP
// message the gateway sends it.
func icmpCatcher(t *testing.T, p *pair) endpoint.Socket {
	t.Helper()
	raw, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// caught reads what raw receives during wait (echo requests and replies
// aside).
func caught(raw endpoint.Socket, wait time.Duration) []icmpSeen {
	var got []icmpSeen
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) {
		if ev, _ := raw.Wait(unix.EPOLLIN, deadline); ev == 0 {
			break
		}
		n, _, _, sa, err := raw.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 22 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+2 || buf[ihl] == 0 || buf[ihl] == 8 {
			continue
		}
		ap, _, _ := options.ParseSockaddrIn(sa)
		got = append(got, icmpSeen{buf[ihl], buf[ihl+1], ap.Addr()})
	}
	return got
}

// sendIP sends a whole IPv4 packet (IP_HDRINCL) from the sandbox.
func sendIP(t *testing.T, p *pair, pkt []byte) {
	t.Helper()
	s, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	if _, err := s.SendMsg(pkt, nil, options.SockaddrIn(netip.AddrPortFrom(dst, 0)), 0); err != nil {
		t.Fatalf("send % x: %v", pkt, err)
	}
}

// ipPacket is an IPv4 packet of protocol proto from the sandbox to dst
// whose header carries opts (a multiple of 4 bytes).
func ipPacket(proto uint8, dst netip.Addr, opts, payload []byte) []byte {
	ihl := header.IPv4MinimumSize + len(opts)
	pkt := make([]byte, ihl+len(payload))
	ip := header.IPv4(pkt)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(pkt)), TTL: 64, Protocol: proto,
		SrcAddr: tcpip.AddrFrom4(testSandbox.Addr().As4()), DstAddr: tcpip.AddrFrom4(dst.As4())})
	copy(pkt[header.IPv4MinimumSize:], opts)
	copy(pkt[ihl:], payload)
	ip.SetHeaderLength(uint8(ihl))
	ip.SetChecksum(0)
	ip.SetChecksum(^ip.CalculateChecksum())
	return pkt
}

// udpWithOptions is a UDP datagram from the sandbox to dst whose IP header
// carries opts.
func udpWithOptions(dst netip.AddrPort, opts []byte) []byte {
	u := header.UDP(make([]byte, header.UDPMinimumSize+4))
	u.Encode(&header.UDPFields{SrcPort: 40000, DstPort: dst.Port(), Length: uint16(len(u))})
	copy(u.Payload(), "ping")
	return ipPacket(uint8(header.UDPProtocolNumber), dst.Addr(), opts, u)
}

// TestNoICMPFromAddressesNobodyHas: an IP protocol the gateway does not
// relay is dropped as a network drops it: no protocol unreachable claiming
// to come from the destination, which the gateway never heard from. The
// gateway's own address still answers for itself, and a denied destination
// gets the gateway's "administratively prohibited".
func TestNoICMPFromAddressesNobodyHas(t *testing.T) {
	p := newPair(t, Config{})
	raw := icmpCatcher(t, p)
	for _, proto := range []uint8{47, 132, 253} {
		sendIP(t, p, ipPacket(proto, nobody, nil, make([]byte, 16)))
	}
	if got := caught(raw, time.Second); len(got) != 0 {
		t.Errorf("GRE, SCTP and protocol 253 to %v: the sandbox got ICMP %v; want nothing (the gateway relays none of them)", nobody, got)
	}
	if n := p.gw.Stats().Unrelayed.Load(); n != 3 {
		t.Errorf("Stats().Unrelayed = %d, want 3", n)
	}
	sendIP(t, p, ipPacket(253, testGateway, nil, make([]byte, 16)))
	if got := caught(raw, time.Second); len(got) != 1 || got[0] != (icmpSeen{3, 2, testGateway}) {
		t.Errorf("protocol 253 to the gateway itself: got %v; want 3/2 from %v (it speaks no such protocol)", got, testGateway)
	}

	p = newPair(t, Config{Policy: &Policy{DenyAll: true}})
	raw = icmpCatcher(t, p)
	sendIP(t, p, ipPacket(47, nobody, nil, make([]byte, 16)))
	if got := caught(raw, time.Second); len(got) != 1 || got[0] != (icmpSeen{3, 13, testGateway}) {
		t.Errorf("GRE to a denied %v: got %v; want 3/13 from the gateway %v", nobody, got, testGateway)
	}
	if n := p.gw.Stats().Denied.Load(); n != 1 {
		t.Errorf("Stats().Denied = %d, want 1", n)
	}
}

// TestIPOptionsAnsweredByTheGateway: a source-routed datagram is dropped
// silently (as Linux does with accept_source_route 0), whatever its
// protocol; a malformed option gets parameter problem from the gateway,
// the hop that found it, never from the destination.
func TestIPOptionsAnsweredByTheGateway(t *testing.T) {
	echo := hostUDPEcho(t)
	port := uint16(echo.LocalAddr().(*net.UDPAddr).Port)
	p := newPair(t, Config{AllowHostLoopback: true})
	raw := icmpCatcher(t, p)
	lsrr := []byte{131, 7, 4, 198, 18, 5, 1, 1} // LSRR via 198.18.5.1, NOP
	ssrr := []byte{137, 7, 4, 198, 18, 5, 1, 0} // SSRR, END
	for _, dst := range []netip.AddrPort{netip.AddrPortFrom(nobody, 9), netip.AddrPortFrom(testGateway, port)} {
		sendIP(t, p, udpWithOptions(dst, lsrr))
		sendIP(t, p, udpWithOptions(dst, ssrr))
	}
	if got := caught(raw, time.Second); len(got) != 0 {
		t.Errorf("source-routed datagrams: the sandbox got ICMP %v; want nothing", got)
	}
	if n := p.gw.Stats().SourceRouted.Load(); n != 4 {
		t.Errorf("Stats().SourceRouted = %d, want 4", n)
	}
	if n := p.gw.Stats().UDPFlows.Load(); n != 0 {
		t.Errorf("UDPFlows = %d, want 0: a source-routed datagram is not relayed", n)
	}
	badRR := []byte{7, 2, 0, 0} // record route shorter than its header
	sendIP(t, p, udpWithOptions(netip.AddrPortFrom(nobody, 9), badRR))
	if got := caught(raw, time.Second); len(got) != 1 || got[0] != (icmpSeen{12, 0, testGateway}) {
		t.Errorf("malformed option to %v: got %v; want 12/0 from the gateway %v", nobody, got, testGateway)
	}
	if n := p.gw.Stats().BadOptions.Load(); n != 1 {
		t.Errorf("Stats().BadOptions = %d, want 1", n)
	}
	rr := []byte{7, 7, 4, 0, 0, 0, 0, 0} // record route, room for one address
	sendIP(t, p, udpWithOptions(netip.AddrPortFrom(nobody, 9), rr))
	ra := []byte{148, 4, 0, 0} // router alert
	sendIP(t, p, udpWithOptions(netip.AddrPortFrom(nobody, 10), ra))
	time.Sleep(200 * time.Millisecond)
	if n := p.gw.Stats().UDPFlows.Load(); n != 2 {
		t.Errorf("UDPFlows = %d after datagrams with well-formed record route and router alert options, want 2 (relayed)", n)
	}
}
