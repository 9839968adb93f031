package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// SendHeaderIncluded6 sends an IPv6 packet whose header the caller built
// (IPV6_HDRINCL) as rawv6_send_hdrinc does: routed to dst, the
// destination the socket named (not the header's), from src when the
// socket is bound (else the route decides), out of ifindex when not 0.
// Past the device MTU it is EMSGSIZE, and mtu carries that MTU for the
// socket's ipv6_local_error; shorter than an IPv6 header EINVAL. The
// packet leaves as written except for its payload length, which gVisor's
// header-included write sets from the packet's size (Linux leaves it),
// and a :: source, which gVisor fills with the route's (Linux leaves it).
func (s *Stack) SendHeaderIncluded6(pkt []byte, src, dst netip.Addr, ifindex int) (mtu int, err error) {
	r, err := s.findRoute6(s.routeSource6(src), dst, ifindex, true)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	mtu = int(r.MTU()) + header.IPv6MinimumSize
	if ifc, ok := s.InterfaceByIndex(int(r.NICID())); ok && ifc.MTU != 0 {
		mtu = int(ifc.MTU)
	}
	if len(pkt) > mtu {
		return mtu, unix.EMSGSIZE
	}
	if len(pkt) < header.IPv6MinimumSize {
		return mtu, unix.EINVAL
	}
	p := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()),
		Payload:            buffer.MakeWithData(pkt),
	})
	defer p.DecRef()
	if e := r.WriteHeaderIncludedPacket(p); e != nil {
		return mtu, sendErrno(e)
	}
	return mtu, nil
}
