package gateway

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// icmpOut relays the ICMP errors the sandbox's own stack sends about
// datagrams the gateway gave it (a reply to a socket that has closed, a
// datagram to a published port nobody listens on) to the world, as the
// host itself would send them: from the host address the datagram reached,
// quoting it as the host received it. Sending ICMP needs a raw socket
// (CAP_NET_RAW); without one the flow's host socket is closed instead, so
// the host kernel answers the next datagram itself. The gateway has one
// for each family: ICMP errors (gw.out) and ICMPv6 errors (gw.out6,
// icmp_out6.go), which differ in their tap and the messages they build.
type icmpOut struct {
	family int                         // AF_INET or AF_INET6
	tap    gstack.RawTransportEndpoint // icmpOutTap or icmpOutTap6
	lim    *icmpLimiter

	once  sync.Once
	mu    sync.Mutex
	fd    int // raw IPPROTO_ICMP(V6) socket, -1 when the host refused one
	noRaw error
}

// icmpOutTap sees a copy of every ICMP packet the sandbox sends (a raw
// endpoint of the gateway's stack: gVisor hands its ICMP handling only
// destination unreachable, and only to endpoints it has).
type icmpOutTap struct{ gw *Gateway }

// icmpQuoteRoom is how much of the offending datagram an ICMP error
// carries, its IP header included: Linux fills an error up to 576 bytes
// (icmp_send), minus the error's IP and ICMP headers.
const icmpQuoteRoom = 576 - header.IPv4MinimumSize - header.ICMPv4MinimumSize

// icmpFilter is ICMP_FILTER (linux/icmp.h), a raw ICMP socket's receive
// filter.
const icmpFilter = 1

func (gw *Gateway) startICMPOut() error {
	return gw.out.start(gw.g, unix.AF_INET, hostICMPLimits(), &icmpOutTap{gw: gw})
}

func (gw *Gateway) stopICMPOut() { gw.out.stop(gw.g) }

// protocols are the network and transport protocols of the family's ICMP.
func (o *icmpOut) protocols() (tcpip.NetworkProtocolNumber, tcpip.TransportProtocolNumber) {
	if o.family == unix.AF_INET6 {
		return header.IPv6ProtocolNumber, header.ICMPv6ProtocolNumber
	}
	return header.IPv4ProtocolNumber, header.ICMPv4ProtocolNumber
}

// start registers tap for the family's ICMP packets on the gateway's
// stack g; the raw socket opens on first use.
func (o *icmpOut) start(g *gstack.Stack, family int, lim icmpLimits, tap gstack.RawTransportEndpoint) error {
	o.family, o.fd = family, -1
	o.lim = newICMPLimiter(lim)
	o.tap = tap
	netProto, proto := o.protocols()
	if e := g.RegisterRawTransportEndpoint(netProto, proto, tap); e != nil {
		if family == unix.AF_INET6 {
			return fmt.Errorf("gateway: icmpv6 tap: %s", e)
		}
		return fmt.Errorf("gateway: icmp tap: %s", e)
	}
	return nil
}

func (o *icmpOut) stop(g *gstack.Stack) {
	netProto, proto := o.protocols()
	g.UnregisterRawTransportEndpoint(netProto, proto, o.tap)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fd >= 0 {
		unix.Close(o.fd)
		o.fd = -1
	}
	o.noRaw = errClosed
}

// rawFD opens the raw socket on first use; -1 when the host gives none.
func (o *icmpOut) rawFD() int {
	o.once.Do(func() {
		_, proto := o.protocols()
		fd, err := unix.Socket(o.family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
		if err == nil {
			// It only sends: a filter passing no type keeps the host's
			// ICMP traffic out of its receive queue.
			if o.family == unix.AF_INET6 {
				var block unix.ICMPv6Filter
				for i := range block.Data {
					block.Data[i] = ^uint32(0) // a set bit blocks its type
				}
				unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &block)
			} else {
				unix.SetsockoptInt(fd, unix.SOL_RAW, icmpFilter, -1)
			}
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		switch {
		case err != nil:
			o.noRaw = err
		case o.noRaw == nil:
			o.fd = fd
		default:
			unix.Close(fd) // closed meanwhile
		}
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fd
}

// canSend reports whether the host gave a raw socket to send errors with.
func (o *icmpOut) canSend() bool { return o.rawFD() >= 0 }

// send writes one ICMP or ICMPv6 message (header first) from the host
// address src to dst, with tos (the traffic class for IPv6). An ICMP
// message's checksum is filled here; the kernel fills ICMPv6's.
func (o *icmpOut) send(src, dst netip.Addr, tos uint8, msg []byte) {
	fo := &opts4
	var oob []byte
	var to unix.Sockaddr
	if o.family == unix.AF_INET6 {
		fo = &opts6
		oob = unix.PktInfo6(&unix.Inet6Pktinfo{Addr: src.As16()})
		to = &unix.SockaddrInet6{Addr: dst.As16()}
	} else {
		binary.BigEndian.PutUint16(msg[2:], 0)
		binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, 0))
		oob = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: src.As4()})
		to = &unix.SockaddrInet4{Addr: dst.As4()}
	}
	tosMsg := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafePointer(tosMsg))
	h.Level, h.Type = int32(fo.level), int32(fo.tos)
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(tosMsg[unix.CmsgLen(0):], uint32(tos))
	oob = append(oob, tosMsg...)
	// Under mu: Close must not close the socket in the middle. A full
	// send buffer drops the error, as the kernel's own ICMP socket would.
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fd >= 0 {
		unix.SendmsgN(o.fd, msg, oob, to, unix.MSG_DONTWAIT)
	}
}

// errorTOS is the TOS of an error about a packet with tos: its TOS bits
// with internetwork-control precedence, as icmp_send sets it.
func errorTOS(tos uint8) uint8 { return tos&0x1e | 0xc0 }

// HandlePacket runs on the stack's delivery path: an ICMP error the
// sandbox sent about a datagram of a relayed UDP flow goes to the flow's
// remote; one about no such flow is dropped, counted. Errors to the
// gateway's own addresses about anything else are the stack's (a
// published port's binding gets them, publish_udp.go).
func (t *icmpOutTap) HandlePacket(pkt *gstack.PacketBuffer) {
	gw := t.gw
	if pkt.NICID != gw.nic || gw.closed.Load() {
		return
	}
	outer := header.IPv4(pkt.NetworkHeader().Slice())
	if len(outer) < header.IPv4MinimumSize || int(outer.HeaderLength()) != len(outer) {
		return
	}
	toGateway := gw.isGatewayAddr(addrOf(outer.DestinationAddress()))
	v := pkt.ToView()
	defer v.Release()
	all := v.AsSlice()
	start := len(pkt.LinkHeader().Slice()) + len(outer)
	end := len(pkt.LinkHeader().Slice()) + int(outer.TotalLength())
	if end > len(all) || start+header.ICMPv4MinimumSize > end {
		return
	}
	msg := all[start:end]
	typ, code := msg[0], msg[1]
	switch {
	case typ == uint8(header.ICMPv4DstUnreachable) && code <= 15,
		typ == uint8(header.ICMPv4TimeExceeded), typ == uint8(header.ICMPv4ParamProblem):
	default:
		return // not an error: echo is icmp.go's, the rest ends here
	}
	if checksum.Checksum(msg, 0) != 0xffff {
		gw.stats.ICMPErrDropped.Add(1)
		return
	}
	q := msg[header.ICMPv4MinimumSize:]
	src, dst, udpLen, payload, ok := parseUDPQuote(q)
	f := gw.quotedFlow(src, dst, ok, toGateway)
	if f == nil {
		return
	}
	qip := header.IPv4(q)
	ttl := qip.TTL()
	if ttl < 255 {
		ttl++ // the gateway took one off on the way in
	}
	tos := tosOf(qip)
	gw.relayErrorToWorld(&gw.out, f, typ, code, msg[4:8], ttl, tos, udpLen, payload)
}

// quotedFlow is the relayed UDP flow of a sandbox's error quoting a
// datagram src -> dst (ok: the quote is one). The datagram went from the
// remote (as the sandbox saw it) to the sandbox: the flow the sandbox
// started the other way. nil when there is none, counted as dropped
// unless the error went to the gateway's own address.
func (gw *Gateway) quotedFlow(src, dst netip.AddrPort, ok, toGateway bool) *udpFlow {
	var f *udpFlow
	if ok {
		gw.udp.mu.Lock()
		f = gw.udp.flows[udpKey{src: dst, dst: src}]
		gw.udp.mu.Unlock()
	}
	if f == nil && !toGateway {
		gw.stats.ICMPErrDropped.Add(1)
	}
	return f
}

// relayErrorToWorld sends the sandbox's error about a reply of flow f to
// the flow's remote through o (gw.out or gw.out6, the error's family),
// quoting that reply as the host socket received it.
func (gw *Gateway) relayErrorToWorld(o *icmpOut, f *udpFlow, typ, code uint8, rest []byte, ttl, tos uint8, udpLen uint16, payload []byte) {
	if gw.isDNS(f.key.dst.Addr()) {
		// A DNS flow's query to the resolver is the gateway's own (of
		// either family, to a resolver of either): nothing to relay.
		return
	}
	if !f.local.IsValid() {
		gw.stats.ICMPErrDropped.Add(1)
		return
	}
	if !o.canSend() {
		// No raw socket: closing the host socket makes the host kernel
		// answer the remote's next datagram itself.
		if f.refused.CompareAndSwap(false, true) {
			gw.stats.ICMPErrClosed.Add(1)
			gw.logf("udp %s -> %s: the sandbox refused a reply; no raw socket to tell %s, host socket closed", f.key.src, f.key.dst, f.to)
			f.host.Close()
		}
		return
	}
	if !o.lim.allow(f.to.Addr(), typ, code, time.Now()) {
		gw.stats.ICMPErrLimited.Add(1)
		return
	}
	if o.family == unix.AF_INET6 {
		o.send(f.local.Addr(), f.to.Addr(), tos, buildUDPError6(typ, code, rest, f.to, f.local, ttl, tos, udpLen, payload))
	} else {
		o.send(f.local.Addr(), f.to.Addr(), errorTOS(tos), buildUDPError(typ, code, rest, f.to, f.local, ttl, tos, udpLen, payload, true))
	}
	gw.stats.ICMPErrRelayed.Add(1)
}

// parseUDPQuote reads an ICMP error's quote of a UDP datagram: its
// addresses, its UDP length and the payload bytes quoted.
func parseUDPQuote(q []byte) (src, dst netip.AddrPort, udpLen uint16, payload []byte, ok bool) {
	if len(q) < header.IPv4MinimumSize {
		return
	}
	ip := header.IPv4(q)
	hl := int(ip.HeaderLength())
	if q[0]>>4 != 4 || hl < header.IPv4MinimumSize || len(q) < hl+header.UDPMinimumSize ||
		ip.Protocol() != uint8(header.UDPProtocolNumber) || ip.FragmentOffset() != 0 {
		return
	}
	u := header.UDP(q[hl:])
	src = netip.AddrPortFrom(addrOf(ip.SourceAddress()), u.SourcePort())
	dst = netip.AddrPortFrom(addrOf(ip.DestinationAddress()), u.DestinationPort())
	return src, dst, u.Length(), q[hl+header.UDPMinimumSize:], true
}

// buildUDPError makes an ICMP error quoting a UDP datagram from -> to of
// UDP length udpLen whose payload starts with payload, with the IP header
// the host received it with as far as its socket told (ttl, tos; the IP ID
// and DF are not reported and quoted as 0). rest is the ICMP header's
// second word (the MTU, the pointer). The UDP checksum is the datagram's
// when payload is all of it, else 0 (the receiver does not check a
// quote's).
func buildUDPError(typ, code uint8, rest []byte, from, to netip.AddrPort, ttl, tos uint8, udpLen uint16, payload []byte, withSum bool) []byte {
	room := icmpQuoteRoom - header.IPv4MinimumSize - header.UDPMinimumSize
	if len(payload) > room {
		payload = payload[:room]
	}
	msg := make([]byte, header.ICMPv4MinimumSize+header.IPv4MinimumSize+header.UDPMinimumSize+len(payload))
	msg[0], msg[1] = typ, code
	copy(msg[4:8], rest)
	if typ != uint8(header.ICMPv4DstUnreachable) || code != uint8(header.ICMPv4FragmentationNeeded) {
		msg[5] = 0 // RFC 4884 length: no extension is carried
	}
	ip := header.IPv4(msg[header.ICMPv4MinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TOS:         tos,
		TotalLength: header.IPv4MinimumSize + udpLen,
		TTL:         ttl,
		Protocol:    uint8(header.UDPProtocolNumber),
		SrcAddr:     gAddr(from.Addr()),
		DstAddr:     gAddr(to.Addr()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	putQuotedUDP(msg[header.ICMPv4MinimumSize+header.IPv4MinimumSize:], from, to, udpLen, payload, withSum)
	return msg
}

// putQuotedUDP writes a quoted UDP datagram from -> to of UDP length
// udpLen into u, its header and the start of its payload (the quote of
// buildUDPError and buildUDPError6), with the datagram's checksum when
// withSum and payload is all of it, else 0.
func putQuotedUDP(u header.UDP, from, to netip.AddrPort, udpLen uint16, payload []byte, withSum bool) {
	u.Encode(&header.UDPFields{SrcPort: from.Port(), DstPort: to.Port(), Length: udpLen})
	copy(u[header.UDPMinimumSize:], payload)
	if withSum && int(udpLen) == header.UDPMinimumSize+len(payload) {
		sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, gAddr(from.Addr()), gAddr(to.Addr()), udpLen)
		sum = checksum.Checksum(payload, sum)
		u.SetChecksum(^u.CalculateChecksum(sum))
		if u.Checksum() == 0 {
			u.SetChecksum(0xffff)
		}
	}
}

// icmpErrorRest is the second word of an ICMP error's header for a
// stack.ICMPError: the next-hop MTU of "fragmentation needed", the pointer
// of a parameter problem.
func icmpErrorRest(e *stack.ICMPError) []byte {
	rest := make([]byte, 4)
	switch {
	case e.Type == uint8(header.ICMPv4DstUnreachable) && e.Code == uint8(header.ICMPv4FragmentationNeeded):
		binary.BigEndian.PutUint16(rest[2:], uint16(e.Info))
	case e.Type == uint8(header.ICMPv4ParamProblem):
		rest[0] = uint8(e.Info)
	}
	return rest
}

// localAddr is the socket's own address (getsockname), invalid if unknown.
func (h *hostSock) localAddr() netip.AddrPort {
	var ap netip.AddrPort
	h.control(func(fd int) error {
		sa, err := unix.Getsockname(fd)
		switch sin := sa.(type) {
		case *unix.SockaddrInet4:
			ap = netip.AddrPortFrom(netip.AddrFrom4(sin.Addr), uint16(sin.Port))
		case *unix.SockaddrInet6:
			ap = netip.AddrPortFrom(netip.AddrFrom16(sin.Addr), uint16(sin.Port))
		}
		return err
	})
	return ap
}
