package gateway

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// sendICMP writes the ICMP message msg, or the ICMPv6 one when dst is
// IPv6 (header first, checksum filled here), to the sandbox from src,
// which may be any address (the NIC spoofs), with TTL or hop limit ttl
// (0: the route's default) and TOS or traffic class tos.
func (gw *Gateway) sendICMP(src, dst netip.Addr, ttl, tos uint8, msg []byte) {
	s, d := gAddr(src), gAddr(dst)
	netProto, proto, size := ipv4.ProtocolNumber, header.ICMPv4ProtocolNumber, header.ICMPv4MinimumSize
	if dst.Is6() {
		netProto, proto, size = ipv6.ProtocolNumber, header.ICMPv6ProtocolNumber, header.ICMPv6MinimumSize
	}
	if len(msg) < size {
		return
	}
	var sum uint16
	if dst.Is6() {
		// ICMPv6's checksum covers a pseudo-header too (RFC 4443 2.3).
		sum = header.PseudoHeaderChecksum(proto, s, d, uint16(len(msg)))
	}
	binary.BigEndian.PutUint16(msg[2:], 0)
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, sum))
	r, e := gw.g.FindRoute(gw.nic, s, d, netProto, false)
	if e != nil {
		return
	}
	defer r.Release()
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + size,
		Payload:            buffer.MakeWithData(msg[size:]),
	})
	defer pkt.DecRef()
	copy(pkt.TransportHeader().Push(size), msg)
	pkt.TransportProtocolNumber = proto
	if ttl == 0 {
		ttl = r.DefaultTTL()
	}
	r.WritePacket(gstack.NetworkHeaderParams{Protocol: proto, TTL: ttl, TOS: tos}, pkt)
}

// sendICMPError sends type/code from the gateway's own offender address to
// the sandbox, quoting the sandbox's packet ip: its IP header and the 8
// bytes that follow (RFC 792), which is all any host matches an error on.
func (gw *Gateway) sendICMPError(offender netip.Addr, typ, code uint8, info uint32, ip []byte) {
	gw.relayICMPError(offender, typ, code, info, ip, 0)
}

// relayICMPError is sendICMPError for an error the host received with TTL
// hostTTL (0: unknown): it reaches the sandbox one hop later, so the
// sandbox counts the real way back (tracepath's "back").
func (gw *Gateway) relayICMPError(offender netip.Addr, typ, code uint8, info uint32, ip []byte, hostTTL uint8) {
	if isV6(ip) {
		gw.relayQuote6(offender, typ, code, info, ip, hostTTL)
		return
	}
	ttl := uint8(0)
	if hostTTL > 1 {
		ttl = hostTTL - 1
	}
	h := header.IPv4(ip)
	// A quote is a truncated packet: its total length says more than it has.
	if len(ip) < header.IPv4MinimumSize || h.HeaderLength() < header.IPv4MinimumSize || int(h.HeaderLength()) > len(ip) {
		return
	}
	quote := ip[:min(len(ip), int(h.HeaderLength())+8)]
	msg := make([]byte, header.ICMPv4MinimumSize+len(quote))
	msg[0], msg[1] = typ, code
	binary.BigEndian.PutUint32(msg[4:], info)
	copy(msg[8:], quote)
	gw.sendICMP(offender, addrOf(h.SourceAddress()), ttl, 0, msg)
}

// packetHead copies a received packet's IP header and the first 8 bytes of
// its transport part, for a later ICMP error quoting it.
func packetHead(pkt *gstack.PacketBuffer) []byte {
	nh := pkt.NetworkHeader().Slice()
	th := pkt.TransportHeader().Slice()
	out := make([]byte, 0, len(nh)+8)
	out = append(out, nh...)
	out = append(out, th[:min(len(th), 8)]...)
	if len(th) < 8 {
		data := pkt.Data().AsRange().ToSlice()
		out = append(out, data[:min(len(data), 8-len(th))]...)
	}
	return out
}

func tosOf(ip header.IPv4) uint8 {
	tos, _ := ip.TOS()
	return tos
}

// hostPathMTU is the host's path MTU to dst (what IP_MTU answers on a
// socket connected there), 0 if unknown.
func hostPathMTU(dst netip.Addr) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	if unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.As4(), Port: 9}) != nil {
		return 0
	}
	mtu, err := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU)
	if err != nil {
		return 0
	}
	return mtu
}

// dfMode is the host socket's IP_MTU_DISCOVER for a sandbox packet: DF set
// means the packet must meet the path MTU unfragmented (DO), else the host
// may fragment it (DONT).
func dfMode(ip header.IPv4) int {
	if ip.Flags()&header.IPv4FlagDontFragment != 0 {
		return unix.IP_PMTUDISC_DO
	}
	return unix.IP_PMTUDISC_DONT
}
