package load

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/link/channel"
	"netsandbox/stack"
)

// The Ethernet link of the network-side floods: the stack is 198.18.0.2.
var (
	localAddr = netip.MustParseAddr("198.18.0.2")
	localMAC  = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x02")
	peerMAC   = tcpip.LinkAddress("\x02\x00\x00\x00\x00\x01")
)

// attachEthernet adds eth0 (198.18.0.2/24) on a channel link to s.
func attachEthernet(t *testing.T, s *stack.Stack) (*channel.Endpoint, int) {
	t.Helper()
	ch := channel.NewWithOptions(channel.Options{MTU: 1500, Ethernet: true, MAC: localMAC})
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.PrefixFrom(localAddr, 24)
	if err := s.AddAddress(idx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(p.Masked(), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	return ch, idx
}

func tcpipAddr(a netip.Addr) tcpip.Address { return tcpip.AddrFrom4(a.As4()) }

// ipPacket builds an IPv4 packet with a correct header checksum.
func ipPacket(src, dst netip.Addr, proto tcpip.TransportProtocolNumber, ttl uint8, payload []byte) []byte {
	b := make([]byte, header.IPv4MinimumSize+len(payload))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(len(b)),
		TTL:         ttl,
		Protocol:    uint8(proto),
		SrcAddr:     tcpipAddr(src),
		DstAddr:     tcpipAddr(dst),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(b[header.IPv4MinimumSize:], payload)
	return b
}

// udpSegment builds a UDP header and payload with a correct checksum.
func udpSegment(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, header.UDPMinimumSize+len(payload))
	u := header.UDP(b)
	u.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: uint16(len(b))})
	copy(b[header.UDPMinimumSize:], payload)
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, tcpipAddr(src.Addr()), tcpipAddr(dst.Addr()), uint16(len(b)))
	u.SetChecksum(^u.CalculateChecksum(checksum.Checksum(payload, sum)))
	return b
}

// udpFrame is an Ethernet frame carrying a UDP datagram src -> dst; the
// destination MAC is the group's for multicast, the stack's otherwise.
func udpFrame(src, dst netip.AddrPort, payload []byte) []byte {
	ip := ipPacket(src.Addr(), dst.Addr(), header.UDPProtocolNumber, 1, udpSegment(src, dst, payload))
	dmac := localMAC
	if dst.Addr().IsMulticast() {
		a := dst.Addr().As4()
		dmac = tcpip.LinkAddress([]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]})
	}
	return ethernetFrame(dmac, ip)
}

// icmpErrorFrame is an Ethernet frame from offender carrying an ICMP error
// of the given type and code that quotes a UDP datagram quotedSrc ->
// quotedDst.
func icmpErrorFrame(offender netip.Addr, typ header.ICMPv4Type, code header.ICMPv4Code, quotedSrc, quotedDst netip.AddrPort) []byte {
	quoted := ipPacket(quotedSrc.Addr(), quotedDst.Addr(), header.UDPProtocolNumber, 64, udpSegment(quotedSrc, quotedDst, []byte("payload")))
	msg := make([]byte, header.ICMPv4MinimumSize+len(quoted))
	h := header.ICMPv4(msg)
	h.SetType(typ)
	h.SetCode(code)
	copy(msg[header.ICMPv4MinimumSize:], quoted)
	h.SetChecksum(^checksum.Checksum(msg, 0))
	return ethernetFrame(localMAC, ipPacket(offender, localAddr, header.ICMPv4ProtocolNumber, 64, msg))
}

func ethernetFrame(dst tcpip.LinkAddress, ip []byte) []byte {
	f := make([]byte, header.EthernetMinimumSize+len(ip))
	header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: peerMAC, DstAddr: dst, Type: header.IPv4ProtocolNumber})
	copy(f[header.EthernetMinimumSize:], ip)
	return f
}
