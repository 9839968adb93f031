package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// SendHeaderIncluded sends an IPv4 packet whose header the caller built
// (IP_HDRINCL) as raw_send_hdrinc does: up to the output device's MTU,
// EMSGSIZE above it; the stack fills in the total length, a zero source
// and ID, and the header checksum. gVisor's raw endpoint stops 20 bytes
// short of the MTU, so the socket layer sends the packets in between here.
func (s *Stack) SendHeaderIncluded(pkt []byte, ifindex int) error {
	if len(pkt) < header.IPv4MinimumSize {
		return unix.EINVAL
	}
	ip := header.IPv4(pkt)
	ihl := int(ip.HeaderLength())
	if ihl < header.IPv4MinimumSize || ihl > len(pkt) {
		return unix.EINVAL
	}
	dst := nAddr(ip.DestinationAddress())
	src := nAddr(ip.SourceAddress())
	if src.IsUnspecified() {
		src = netip.Addr{}
	}
	r, err := s.findRoute(netip.Addr{}, dst, ifindex, true)
	onLinkLo := false
	if err != nil {
		if !s.loopbackOnLink(err, ifindex, dst) {
			return err
		}
		// Through lo, on link (see SendUDP).
		if r, err = s.onLinkLoopbackRoute(dst); err != nil {
			return err
		}
		onLinkLo = true
	}
	defer r.Release()
	if len(pkt) > int(r.MTU())+header.IPv4MinimumSize {
		return unix.EMSGSIZE
	}
	hdr := buffer.NewViewWithData(append([]byte(nil), pkt[:ihl]...))
	if onLinkLo && !src.IsValid() {
		// A zero source becomes the route's, which for this route is
		// loopbackSource's, not lo's 127.0.0.1 that gVisor would fill in.
		a := s.loopbackSource().As4()
		copy(hdr.AsSlice()[12:16], a[:])
	}
	return writeHeaderIncluded(r, hdr, pkt[ihl:])
}
