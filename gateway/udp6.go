package gateway

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// dontFrag6 is IPV6_DONTFRAG for a sandbox packet of size bytes. An IPv6
// router never fragments: a packet that came whole must meet the host's
// path MTU whole (1: EMSGSIZE, answered with packet too big). One larger
// than the sandbox's link was fragmented by the sandbox itself, which
// reassembly hid from the gateway: the host may fragment it again (0).
func (gw *Gateway) dontFrag6(size int) int {
	if size > int(gw.cfg.Link.MTU()) {
		return 0
	}
	return 1
}

// pathMTU reads the connected socket's path MTU (IP_MTU, IPV6_MTU); 0 if
// unknown.
func (h *hostSock) pathMTU(level, opt int) int {
	mtu := 0
	h.control(func(fd int) error {
		v, err := unix.GetsockoptInt(fd, level, opt)
		if err == nil {
			mtu = v
		}
		return nil
	})
	return mtu
}

var errNoRoute6 = errors.New("gateway: no IPv6 route to the sandbox")

// sendUDP6 sends payload to the sandbox as a UDP datagram from src (any
// address: the NIC spoofs) with hop limit hop (0: the route's default);
// the stack fragments it to the link's MTU.
func (gw *Gateway) sendUDP6(src, dst netip.AddrPort, hop, class uint8, payload []byte) error {
	if len(payload) > 0xffff-header.UDPMinimumSize {
		return unix.EMSGSIZE
	}
	s, d := gAddr(src.Addr()), gAddr(dst.Addr())
	r, e := gw.g.FindRoute(gw.nic, s, d, ipv6.ProtocolNumber, false)
	if e != nil {
		return errNoRoute6
	}
	defer r.Release()
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + header.UDPMinimumSize,
		Payload:            buffer.MakeWithData(payload), // copies it
	})
	defer pkt.DecRef()
	length := uint16(header.UDPMinimumSize + len(payload))
	u := header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize))
	u.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: length})
	xsum := checksum.Combine(header.PseudoHeaderChecksum(header.UDPProtocolNumber, s, d, length), pkt.Data().Checksum())
	sum := ^u.CalculateChecksum(xsum)
	if sum == 0 {
		sum = 0xffff // 0 means "none", which IPv6 forbids (RFC 8200 8.1)
	}
	u.SetChecksum(sum)
	pkt.TransportProtocolNumber = header.UDPProtocolNumber
	if hop == 0 {
		hop = r.DefaultTTL()
	}
	if e := r.WritePacket(gstack.NetworkHeaderParams{Protocol: header.UDPProtocolNumber, TTL: hop, TOS: class}, pkt); e != nil {
		return errNoRoute6
	}
	return nil
}
