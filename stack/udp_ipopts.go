package stack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// routeDst is where a datagram is routed: the first hop of a source route
// (udp_sendmsg routes to opt.faddr), else its destination.
func (m *UDPSend) routeDst() netip.Addr {
	return firstHop(m.IPOptions, m.Dst.Addr())
}

func firstHop(o *options.IPOptions, dst netip.Addr) netip.Addr {
	if o != nil && o.FirstHop.IsValid() {
		return o.FirstHop
	}
	return dst
}

// ipv4Fields are the header values of a packet built here.
type ipv4Fields struct {
	src, final netip.Addr // final: the destination a source route ends at
	proto      uint8
	ttl, tos   uint8
	df         bool
	id         uint16
	opts       *options.IPOptions
}

// putIPv4 writes an IPv4 header with f's options into b (20 + options
// bytes), addressed to the route's next hop, with the options filled in as
// ip_options_build does. total is the whole packet's length.
func putIPv4(b []byte, r *gstack.Route, f *ipv4Fields, total int) {
	ipLen := header.IPv4MinimumSize + f.opts.Len()
	var flags uint16
	if f.df {
		flags = uint16(header.IPv4FlagDontFragment) << 13
	}
	b[0] = 0x40 | byte(ipLen/4)
	b[1] = f.tos
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], f.id)
	binary.BigEndian.PutUint16(b[6:], flags)
	b[8] = f.ttl
	b[9] = f.proto
	clear(b[10:12])
	s4 := f.src.As4()
	copy(b[12:16], s4[:])
	d4 := r.RemoteAddress().As4()
	copy(b[16:20], d4[:])
	if f.opts != nil {
		f.opts.Build(b[header.IPv4MinimumSize:ipLen], f.final, f.src, time.Now())
	}
}

// writeHeaderIncluded sends hdr followed by payload as one IPv4 packet;
// gVisor fills in the header checksum and fragments at the interface MTU
// (with options, ipopts_frag.go does, as Linux).
func writeHeaderIncluded(r *gstack.Route, hdr *buffer.View, payload []byte) error {
	if sent, err := fragmentIfOptions(r, hdr, payload); sent { // ipopts_frag.go
		return err
	}
	pb := buffer.MakeWithView(hdr)
	if err := pb.Append(buffer.NewViewWithData(payload)); err != nil {
		pb.Release()
		return unix.ENOBUFS
	}
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            pb,
	})
	defer pkt.DecRef()
	if e := r.WriteHeaderIncludedPacket(pkt); e != nil {
		return sendErrno(e)
	}
	return nil
}

// writeWithOptions sends a datagram whose IPv4 header carries the socket's
// IP options. The header goes to the route's next hop, which for a source
// route is the first hop; as in Linux the UDP checksum is computed against
// it too.
func (s *Stack) writeWithOptions(r *gstack.Route, src netip.Addr, m *UDPSend, ttl uint8, df bool, id uint16) error {
	ipLen := header.IPv4MinimumSize + m.IPOptions.Len()
	hdrLen := ipLen + header.UDPMinimumSize
	hdr := buffer.NewViewSize(hdrLen)
	b := hdr.AsSlice()
	putIPv4(b, r, &ipv4Fields{
		src: src, final: m.Dst.Addr(), proto: uint8(m.proto()),
		ttl: ttl, tos: m.TOS, df: df, id: id, opts: m.IPOptions,
	}, hdrLen+len(m.Payload))
	putUDPHeader(header.UDP(b[ipLen:]), gAddr(src), r.RemoteAddress(), m)
	return writeHeaderIncluded(r, hdr, m.Payload)
}
