package endpoint

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// udp6Frame is an IPv6 UDP datagram from src to dst with a good checksum.
func udp6Frame(src, dst netip.AddrPort, payload string) []byte {
	b := make([]byte, header.IPv6MinimumSize+header.UDPMinimumSize+len(payload))
	ip := header.IPv6(b)
	ip.Encode(&header.IPv6Fields{
		PayloadLength:     uint16(header.UDPMinimumSize + len(payload)),
		TransportProtocol: header.UDPProtocolNumber,
		HopLimit:          1,
		SrcAddr:           tcpip.AddrFrom16(src.Addr().As16()),
		DstAddr:           tcpip.AddrFrom16(dst.Addr().As16()),
	})
	u := header.UDP(b[header.IPv6MinimumSize:])
	u.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(u.Payload(), payload)
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(len(u)))
	u.SetChecksum(^checksum.Checksum(u, sum))
	return b
}

// TestUDP6MulticastMembership: IPV6_JOIN_GROUP makes the interface a
// listener (the stack sends an MLD report) and the socket gets the group's
// datagrams with IPV6_PKTINFO naming the group and the interface; after
// IPV6_LEAVE_GROUP, and after the last member closes, they are dropped.
func TestUDP6MulticastMembership(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	ch := channel.New(16, 1500, "02:00:00:00:00:01")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress6(idx, netip.MustParsePrefix("fd00::1/64")); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("ff02::1:5")
	k, err := New(s, unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.Bind(sa6("[::]:5000")); err != nil {
		t.Fatal(err)
	}
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	mreq := append(group.AsSlice(), binary.NativeEndian.AppendUint32(nil, uint32(idx))...)
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq); err != nil {
		t.Fatal(err)
	}
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq); err != unix.EADDRINUSE {
		t.Fatalf("second join: %v", err)
	}
	if !sawMLDReport(ch) {
		t.Error("no MLD report left eth0 after the join")
	}
	inject := func(p string) {
		pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(udp6Frame(netip.MustParseAddrPort("[fe80::2]:4000"), netip.AddrPortFrom(group, 5000), p))})
		ch.InjectInbound(header.IPv6ProtocolNumber, pkt)
		pkt.DecRef()
	}
	recv := func() (string, []byte, error) {
		buf, oob := make([]byte, 64), make([]byte, 64)
		deadline := time.Now().Add(time.Second)
		for {
			n, oobn, _, _, err := k.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
			if err != unix.EAGAIN || time.Now().After(deadline) {
				return string(buf[:max(n, 0)]), oob[:max(oobn, 0)], err
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	inject("to the group")
	got, oob, err := recv()
	if err != nil || got != "to the group" {
		t.Fatalf("group datagram: %q %v", got, err)
	}
	want := cmsgBytes(unix.SOL_IPV6, unix.IPV6_PKTINFO, append(group.AsSlice(), binary.NativeEndian.AppendUint32(nil, uint32(idx))...))
	if string(oob) != string(want) {
		t.Errorf("IPV6_PKTINFO %x, want %x", oob, want)
	}
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_LEAVE_GROUP, mreq); err != nil {
		t.Fatal(err)
	}
	if err := k.SetSockOpt(unix.SOL_IPV6, unix.IPV6_LEAVE_GROUP, mreq); err != unix.EADDRNOTAVAIL {
		t.Fatalf("second leave: %v", err)
	}
	inject("after the leave")
	if got, _, err := recv(); err != unix.EAGAIN {
		t.Fatalf("after the leave: %q %v", got, err)
	}
}

// sawMLDReport drains ch until an MLD report has left it, for up to a
// second, and tells whether one did.
func sawMLDReport(ch *channel.Endpoint) bool {
	seen := false
	// The stack's MLD sends a state change a few milliseconds after it.
	for deadline := time.Now().Add(time.Second); !seen && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		seen = readMLDReports(ch)
	}
	return seen
}

// readMLDReports drains the NIC's output and tells whether it held an
// MLD report.
func readMLDReports(ch *channel.Endpoint) bool {
	seen := false
	for p := ch.Read(); p != nil; p = ch.Read() {
		v := p.ToView()
		b := v.AsSlice()
		if len(b) > header.IPv6MinimumSize {
			ip := header.IPv6(b)
			// MLD follows a hop-by-hop header with the router alert.
			if ip.NextHeader() == 0 && len(b) >= header.IPv6MinimumSize+9 {
				t := b[header.IPv6MinimumSize+8]
				seen = seen || t == byte(header.ICMPv6MulticastListenerReport) || t == byte(header.ICMPv6MulticastListenerV2Report)
			}
		}
		v.Release()
		p.DecRef()
	}
	return seen
}
