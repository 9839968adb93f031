package gateway

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// sendICMP writes the ICMP message msg (header first, checksum filled here)
// to the sandbox from src, which may be any address (the NIC spoofs).
func (gw *Gateway) sendICMP(src, dst netip.Addr, ttl, tos uint8, msg []byte) {
	if len(msg) < header.ICMPv4MinimumSize {
		return
	}
	binary.BigEndian.PutUint16(msg[2:], 0)
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, 0))
	r, e := gw.g.FindRoute(gw.nic, gAddr(src), gAddr(dst), ipv4.ProtocolNumber, false)
	if e != nil {
		return
	}
	defer r.Release()
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + header.ICMPv4MinimumSize,
		Payload:            buffer.MakeWithData(msg[header.ICMPv4MinimumSize:]),
	})
	defer pkt.DecRef()
	copy(pkt.TransportHeader().Push(header.ICMPv4MinimumSize), msg)
	pkt.TransportProtocolNumber = header.ICMPv4ProtocolNumber
	if ttl == 0 {
		ttl = r.DefaultTTL()
	}
	r.WritePacket(gstack.NetworkHeaderParams{Protocol: header.ICMPv4ProtocolNumber, TTL: ttl, TOS: tos}, pkt)
}

// sendICMPError sends type/code from offender to the sandbox, quoting the
// sandbox's packet ip: its IP header and the 8 bytes that follow (RFC 792),
// which is all any host matches an error on.
func (gw *Gateway) sendICMPError(offender netip.Addr, typ, code uint8, info uint32, ip []byte) {
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
	gw.sendICMP(offender, addrOf(h.SourceAddress()), 0, 0, msg)
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
