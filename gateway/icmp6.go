package gateway

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// startICMP6 takes every ICMPv6 echo request to an address that is not
// the gateway's, as startICMP does for IPv4: taking it stops gVisor's own
// reply. Requests are relayed over host ICMPv6 ping sockets (SOCK_DGRAM,
// IPPROTO_ICMPV6; net.ipv4.ping_group_range covers both families), or
// where the host refuses those (Linux's default range "1 0" lets no one
// in, root included) over raw ICMPv6 sockets filtered to echo replies.
// Either way the error queue (IPV6_RECVERR) gives each error with its
// real offender.
func (gw *Gateway) startICMP6() {
	gw.g.SetTransportProtocolHandler(header.ICMPv6ProtocolNumber, gw.handleICMP6)
}

func (gw *Gateway) handleICMP6(_ gstack.TransportEndpointID, pkt *gstack.PacketBuffer) bool {
	if pkt.NICID != gw.nic {
		return false
	}
	nh := pkt.NetworkHeader().Slice()
	if len(nh) < header.IPv6MinimumSize {
		return true
	}
	ip := header.IPv6(nh)
	src, dst := addrOf(ip.SourceAddress()), addrOf(ip.DestinationAddress())
	if gw.isGatewayAddr(dst) || dst.IsMulticast() {
		return false // the gateway itself answers, as a real router does
	}
	if gw.closed.Load() {
		return true
	}
	msgView := gstack.PayloadSince(pkt.TransportHeader())
	msg := append([]byte(nil), msgView.AsSlice()...)
	msgView.Release()
	if len(msg) < header.ICMPv6EchoMinimumSize || header.ICMPv6(msg).Type() != header.ICMPv6EchoRequest {
		return true // only echo is relayed
	}
	head := packetHead(pkt)
	if _, ok, why := gw.target(ProtoICMP, netip.AddrPortFrom(dst, 0)); !ok {
		gw.stats.Denied.Add(1)
		gw.logf("icmp6 %s -> %s refused: %s", src, dst, why)
		gw.errProhibited(head)
		return true
	}
	hop, class := hopAndClass(pkt)
	if hop <= 1 {
		gw.errTimeExceeded(head)
		return true
	}
	f := gw.icmpFlow(icmpKey{src, binary.BigEndian.Uint16(msg[4:]), dst})
	if f == nil {
		return true
	}
	f.mu.Lock()
	f.hop.set(f.host, &opts6, hopOpts{int(hop) - 1, int(class), gw.dontFrag6(header.IPv6MinimumSize + len(msg))})
	f.reqs.put(nh, msg[:8], msg[8:], binary.BigEndian.Uint16(msg[6:]))
	// The kernel fills a ping socket's identifier and checksum. An error
	// about an earlier request may be pending (a traceroute's probes
	// leave together); it waits in the queue (pingErrorAfterReply).
	err := f.host.sendPastError(msg, netip.AddrPort{}, &f.errTaken, pingPendingErrs)
	mtu := 0
	if err == unix.EMSGSIZE {
		mtu = f.host.pathMTU(unix.IPPROTO_IPV6, unix.IPV6_MTU)
	}
	f.mu.Unlock()
	if mtu > 0 {
		gw.errTooBig(head, mtu)
		return true
	}
	f.last.Store(time.Now().UnixNano())
	if err == nil {
		f.sent.Add(1)
		gw.stats.BytesOut.Add(int64(len(msg)))
	}
	return true
}

// openICMP6 opens the host socket of an ICMPv6 echo flow (icmpFlow): a
// ping socket bound to the sandbox's identifier, or where the host
// refuses one a raw socket (openRawICMP6), connected to the destination
// with its error queue on; nil (counted as failed) when the host gives
// neither.
func (gw *Gateway) openICMP6(k icmpKey) (h *hostSock, raw bool) {
	h, err := openHostSockFamily(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
	if err != nil {
		raw = true
		h, err = openRawICMP6()
	}
	if err != nil {
		gw.stats.Failed.Add(1)
		gw.logf("icmp6 %s -> %s: no host ICMPv6 ping or raw socket (%v); allow ping sockets with net.ipv4.ping_group_range", k.src, k.dst, err)
		return nil, false
	}
	if !raw {
		// Keep the sandbox's identifier when the host has it free.
		h.bind(netip.AddrPortFrom(netip.IPv6Unspecified(), k.id))
	}
	for _, o := range []int{unix.IPV6_RECVERR, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS} {
		h.setInt(unix.IPPROTO_IPV6, o, 1)
	}
	if err := h.connect(netip.AddrPortFrom(k.dst, 0)); err != nil {
		h.Close()
		gw.stats.Failed.Add(1)
		gw.logf("icmp6 %s -> %s: %v", k.src, k.dst, err)
		return nil, false
	}
	return h, raw
}

// openRawICMP6 opens a raw ICMPv6 socket that receives echo replies only:
// the errors about its own requests still reach its error queue, and the
// kernel fills the checksum of what it sends.
func openRawICMP6() (*hostSock, error) {
	h, err := openHostSockFamily(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	if err != nil {
		return nil, err
	}
	var filter unix.ICMPv6Filter
	for i := range filter.Data {
		filter.Data[i] = ^uint32(0) // a set bit blocks its type
	}
	reply := uint8(header.ICMPv6EchoReply)
	filter.Data[reply>>5] &^= 1 << (reply & 31)
	if err := h.control(func(fd int) error {
		return unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &filter)
	}); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}
