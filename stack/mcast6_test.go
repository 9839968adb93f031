package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

var (
	mc6Group = netip.MustParseAddr("ff0e::61:99")
	mc6Src1  = netip.MustParseAddr("fd00::7")
	mc6Src2  = netip.MustParseAddr("fd00::8")
	mc6Src3  = netip.MustParseAddr("fd00::9")
)

// udp6ToGroup is an IPv6 UDP datagram from src to mc6Group:5000.
func udp6ToGroup(src netip.Addr, payload string) []byte {
	ulen := header.UDPMinimumSize + len(payload)
	b := make([]byte, header.IPv6MinimumSize+ulen)
	s, d := tcpip.AddrFrom16(src.As16()), tcpip.AddrFrom16(mc6Group.As16())
	header.IPv6(b).Encode(&header.IPv6Fields{
		PayloadLength: uint16(ulen), TransportProtocol: header.UDPProtocolNumber, HopLimit: 1, SrcAddr: s, DstAddr: d,
	})
	u := header.UDP(b[header.IPv6MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: 4000, DstPort: 5000, Length: uint16(ulen)})
	copy(u[header.UDPMinimumSize:], payload)
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, s, d, uint16(ulen))
	u.SetChecksum(^checksum.Checksum(u, xsum))
	return b
}

func inject6(ch interface {
	InjectInbound(tcpip.NetworkProtocolNumber, *gstack.PacketBuffer)
}, b []byte) {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	ch.InjectInbound(header.IPv6ProtocolNumber, pkt)
	pkt.DecRef()
}

// TestMulticastDeliveryFilters6: an IPv6 group's interface state is the
// same merged filter as IPv4's, gates delivery before the socket's own,
// and sends no IGMP.
func TestMulticastDeliveryFilters6(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	plain := newRecorder()
	bind(t, s, plain, "[::]:5000", stack.UDPBindFlags{ReuseAddr: true})
	picky := filterRecorder{newRecorder(), mc6Src2}
	bind(t, s, picky, "[::]:5000", stack.UDPBindFlags{ReuseAddr: true})

	inject6(ch, udp6ToGroup(mc6Src1, "early"))
	plain.none(t)

	if err := s.McastIncGroup(idx, mc6Group, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	s.McastAddSources(idx, mc6Group, stack.McastExclude, []netip.Addr{mc6Src1}, true)
	if st := s.McastGroups(idx)[mc6Group]; st.Mode != stack.McastExclude || len(st.Sources) != 1 || st.Sources[0] != mc6Src1 {
		t.Fatalf("interface state %+v", st)
	}
	inject6(ch, udp6ToGroup(mc6Src1, "blocked"))
	plain.none(t)
	picky.none(t)
	inject6(ch, udp6ToGroup(mc6Src2, "two"))
	if d := plain.next(t); string(d.Payload) != "two" || d.Src.Addr() != mc6Src2 {
		t.Errorf("plain got %+v", d)
	}
	if d := picky.next(t); string(d.Payload) != "two" {
		t.Errorf("picky got %+v", d)
	}
	inject6(ch, udp6ToGroup(mc6Src3, "three"))
	if d := plain.next(t); string(d.Payload) != "three" {
		t.Errorf("plain got %+v", d)
	}
	picky.none(t)
	noIGMP(t, ch, 200*time.Millisecond)

	s.McastDelSources(idx, mc6Group, stack.McastExclude, []netip.Addr{mc6Src1}, true)
	s.McastDecGroup(idx, mc6Group)
	if gs := s.McastGroups(idx); len(gs) != 0 {
		t.Fatalf("groups after leaving: %v", gs)
	}
	inject6(ch, udp6ToGroup(mc6Src2, "after"))
	plain.none(t)
}
