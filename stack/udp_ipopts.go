package stack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// routeDst is where a datagram is routed: the first hop of a source route
// (udp_sendmsg routes to opt.faddr), else its destination.
func (m *UDPSend) routeDst() netip.Addr {
	if m.IPOptions != nil && m.IPOptions.FirstHop.IsValid() {
		return m.IPOptions.FirstHop
	}
	return m.Dst.Addr()
}

// writeWithOptions sends a datagram whose IPv4 header carries the socket's
// IP options, filled in as ip_options_build does (final destination in the
// source route, this host's address in record route and timestamp). The
// header goes to the route's next hop, which for a source route is the
// first hop; as in Linux the UDP checksum is computed against it too.
// gVisor fills in the header checksum and fragments at the interface MTU,
// copying the options into every fragment.
func (s *Stack) writeWithOptions(r *gstack.Route, src netip.Addr, m *UDPSend, ttl uint8, df bool, id uint16) error {
	optLen := m.IPOptions.Len()
	ipLen := header.IPv4MinimumSize + optLen
	hdrLen := ipLen + header.UDPMinimumSize
	hdr := buffer.NewViewSize(hdrLen)
	b := hdr.AsSlice()
	var flags uint16
	if df {
		flags = uint16(header.IPv4FlagDontFragment) << 13
	}
	b[0] = 0x40 | byte(ipLen/4)
	b[1] = m.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(hdrLen+len(m.Payload)))
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], flags)
	b[8] = ttl
	b[9] = uint8(header.UDPProtocolNumber)
	s4 := src.As4()
	copy(b[12:16], s4[:])
	d4 := r.RemoteAddress().As4()
	copy(b[16:20], d4[:])
	m.IPOptions.Build(b[header.IPv4MinimumSize:ipLen], m.Dst.Addr(), src, time.Now())
	putUDPHeader(header.UDP(b[ipLen:]), gAddr(src), r.RemoteAddress(), m)
	payload := buffer.MakeWithView(hdr)
	if err := payload.Append(buffer.NewViewWithData(m.Payload)); err != nil {
		payload.Release()
		return unix.ENOBUFS
	}
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            payload,
	})
	defer pkt.DecRef()
	if e := r.WriteHeaderIncludedPacket(pkt); e != nil {
		return errnoOf(e)
	}
	return nil
}
