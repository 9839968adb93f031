package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// HeaderIncluded6 is where an IPV6_HDRINCL packet goes: the route's
// destination (the socket's, not the header's), its source when the
// socket has one, the output interface (0: the route decides), whether a
// group packet loops back, and BeforeWrite, the socket's last say once
// the packet passed the size checks (its pending error).
type HeaderIncluded6 struct {
	Src, Dst      netip.Addr
	IfIndex       int
	MulticastLoop bool
	BeforeWrite   func() error
}

// SendHeaderIncluded6 sends an IPv6 packet whose header the caller built
// (IPV6_HDRINCL) as rawv6_send_hdrinc does: past the device MTU it is
// EMSGSIZE, and mtu carries that MTU for the socket's ipv6_local_error;
// shorter than an IPv6 header EINVAL. The packet leaves as written except
// for its payload length, which gVisor's header-included write sets from
// the packet's size (Linux leaves it), and a :: source, which gVisor
// fills with the route's (Linux leaves it).
func (s *Stack) SendHeaderIncluded6(pkt []byte, h HeaderIncluded6) (mtu int, err error) {
	r, err := s.findRoute6(s.routeSource6(h.Src), h.Dst, h.IfIndex, h.MulticastLoop)
	if err != nil {
		return 0, err
	}
	defer r.Release()
	mtu = s.deviceMTU6(r)
	if len(pkt) > mtu {
		return mtu, unix.EMSGSIZE
	}
	if len(pkt) < header.IPv6MinimumSize {
		return mtu, unix.EINVAL
	}
	if h.BeforeWrite != nil {
		if err := h.BeforeWrite(); err != nil {
			return mtu, err
		}
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
