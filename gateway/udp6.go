package gateway

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// handleUDP6 is handleUDP for an IPv6 datagram (its checksum checked):
// relayed through the flow's AF_INET6 socket with the hop limit minus one
// and the traffic class, refused with "administratively prohibited" by
// policy, ended with "hop limit exceeded" at the gateway as at a router.
func (gw *Gateway) handleUDP6(src, dst netip.AddrPort, pkt *gstack.PacketBuffer) bool {
	to, ok, why := gw.target(ProtoUDP, dst)
	if !ok {
		if gw.isGatewayAddr(dst.Addr()) {
			return false // no service there: the stack answers port unreachable
		}
		gw.stats.Denied.Add(1)
		gw.logf("udp %s -> %s refused: %s", src, dst, why)
		gw.errProhibited(packetHead(pkt))
		return true
	}
	dns := gw.isDNS(dst.Addr())
	hop, class := hopAndClass(pkt)
	if hop <= 1 && !dns {
		gw.errTimeExceeded(packetHead(pkt))
		return true
	}
	if dns && gw.refuseDNSQuery(src, dst, pkt) {
		return true
	}
	f := gw.udpFlow(udpKey{src, dst}, to)
	if f == nil {
		return true
	}
	payload := udpPayload(pkt)
	f.mu.Lock()
	if !dns {
		// A query to the DNS address is the gateway's own, to a resolver
		// of either family, with the host's defaults.
		f.hop.set(f.host, &opts6, hopOpts{int(hop) - 1, int(class), gw.dontFrag6(header.IPv6MinimumSize + header.UDPMinimumSize + len(payload))})
	}
	f.sent.put(pkt.NetworkHeader().Slice(), pkt.TransportHeader().Slice(), payload, 0)
	err := f.host.sendTo(payload, netip.AddrPort{})
	switch err {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EPROTO:
		// An earlier datagram's error was pending (udpError relays it);
		// this one was not sent, but a router forwards every packet.
		f.errTaken.Store(true)
		err = f.host.sendTo(payload, netip.AddrPort{})
	}
	mtu := 0
	if err == unix.EMSGSIZE {
		mtu = f.host.pathMTU(unix.IPPROTO_IPV6, unix.IPV6_MTU)
	}
	f.mu.Unlock()
	if mtu > 0 {
		// The host knows the path is narrower: the gateway is the hop
		// that cannot forward it.
		gw.errTooBig(packetHead(pkt), mtu)
		return true
	}
	f.last.Store(time.Now().UnixNano())
	if err == nil {
		f.up.Add(int64(len(payload)))
		gw.stats.BytesOut.Add(int64(len(payload)))
	}
	return true
}

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
