package gateway

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The relay's short path for IPv4 ICMP echo and UDP datagrams of flows
// that already exist. A flow's first packet takes gVisor's whole input
// (validation, routing, the protocol handlers of icmp.go and udp.go),
// which opens the flow. After that a plain packet of the flow (IPv4
// without options, not a fragment, valid checksums, TTL above 1, the
// policy still allowing it) goes from the link straight to the flow's
// host socket (fastIn, on the link's reader, before the stack sees it),
// and the flow's replies go from the host socket straight to the link
// as whole frames (fastOut) instead of through gVisor's route and IPv4
// output. An idle round trip through gVisor's input and output costs
// some 90 µs of cold-cache CPU on top of the system calls; this path is
// a few header checks and a map lookup each way. Anything else, and
// every packet the short path is unsure of, takes the full path; so do
// the packets to the gateway's own addresses (DNS, the host's loopback,
// published ports' sessions), whose bindings in the stack come first.

// fastMaxEcho bounds an echo request the short path takes: it pulls
// the message into one view.
const fastMaxEcho = 2048

// fastIn relays pkt (an IPv4 packet from the sandbox, admitted by the
// filter, its link header consumed) if it belongs to an existing ICMP
// echo or UDP flow; false leaves it to the stack.
func (gw *Gateway) fastIn(pkt *gstack.PacketBuffer) bool {
	if gw.closed.Load() {
		return false
	}
	d := pkt.Data()
	b, ok := d.PullUp(header.IPv4MinimumSize)
	if !ok {
		return false
	}
	ip := header.IPv4(b)
	proto := ip.TransportProtocol()
	if proto != header.ICMPv4ProtocolNumber && proto != header.UDPProtocolNumber {
		return false // TCP has its own relay (tcp.go)
	}
	if ip[0] != 0x45 || int(ip.TotalLength()) != d.Size() || ip.TTL() <= 1 ||
		ip.More() || ip.FragmentOffset() != 0 || !ip.IsChecksumValid() {
		return false // options, padding, fragments, the last hop: the full path
	}
	if proto == header.ICMPv4ProtocolNumber {
		return gw.fastEcho(pkt)
	}
	return gw.fastUDP(pkt)
}

// fastEcho relays an echo request of an existing ping flow.
func (gw *Gateway) fastEcho(pkt *gstack.PacketBuffer) bool {
	d := pkt.Data()
	if d.Size() > fastMaxEcho || d.Size() < header.IPv4MinimumSize+header.ICMPv4MinimumSize {
		return false
	}
	all, ok := d.PullUp(d.Size())
	if !ok {
		return false
	}
	ip := header.IPv4(all[:header.IPv4MinimumSize])
	msg := all[header.IPv4MinimumSize:]
	if msg[0] != uint8(header.ICMPv4Echo) || checksum.Checksum(msg, 0) != 0xffff {
		return false
	}
	src, dst := addrOf(ip.SourceAddress()), addrOf(ip.DestinationAddress())
	if gw.isGatewayAddr(dst) {
		return false // the stack's own
	}
	gw.icmp.mu.Lock()
	f := gw.icmp.flows[icmpKey{src, binary.BigEndian.Uint16(msg[4:]), dst}]
	gw.icmp.mu.Unlock()
	if f == nil {
		return false
	}
	if _, ok, _ := gw.target(ProtoICMP, netip.AddrPortFrom(dst, 0)); !ok {
		return false // refused now: the full path says so
	}
	gw.fastIns.Add(1) // before the send: a test that saw the reply sees the count
	if gw.relayEcho(f, ip, msg, dst, pkt.LinkHeader().Slice()) {
		head := make([]byte, 0, header.IPv4MinimumSize+8)
		gw.echoTooBig(dst, append(append(head, ip...), msg[:8]...))
		return true
	}
	gw.echoInline(f)
	return true
}

// inlineBuf is where the link's reader reads a reply inline
// (echoInline); one reader, so it is rarely contended.
type inlineBuf struct {
	mu  sync.Mutex
	buf [65536]byte
	oob [256]byte
}

// echoInline passes the flow's reply into the sandbox at once if it is
// already there. A destination the host's kernel answers (any host
// address, a namespace over a veth) has answered by the time the send
// returned: reading it here, on the link's reader, spares the hand-off
// to the flow's reply goroutine (parking the reader, the scheduler's
// poll, waking the other goroutine). That goroutine, woken for the
// datagram it no longer finds, reads EAGAIN, looks at the error queue
// and waits again (icmpReplies). Two readers of one socket may pass
// replies on out of order, as a network may. Errors are left to the
// goroutine: nothing is read while a send took an error's errno.
func (gw *Gateway) echoInline(f *icmpFlow) {
	if f.errTaken.Load() {
		return
	}
	b := gw.inline
	if !b.mu.TryLock() {
		return
	}
	defer b.mu.Unlock()
	var n, oobn int
	var from netip.AddrPort
	err := f.host.control(func(fd int) error {
		var err error
		n, oobn, from, err = rawRecvmsg(fd, b.buf[:], b.oob[:], 0)
		return err
	})
	if err != nil {
		return // nothing yet (EAGAIN), or the reply goroutine's to see
	}
	if !f.errQueue() {
		gw.rawICMP(f, b.buf[:n])
		return
	}
	gw.pingReply(f, b.buf[:n], b.oob[:oobn], from)
}

// fastUDP relays a datagram of an existing UDP flow (not DNS).
func (gw *Gateway) fastUDP(pkt *gstack.PacketBuffer) bool {
	d := pkt.Data()
	const hl = header.IPv4MinimumSize + header.UDPMinimumSize
	b, ok := d.PullUp(hl)
	if !ok {
		return false
	}
	ip := header.IPv4(b[:header.IPv4MinimumSize])
	u := header.UDP(b[header.IPv4MinimumSize:hl])
	if int(u.Length()) != d.Size()-header.IPv4MinimumSize {
		return false
	}
	src := netip.AddrPortFrom(addrOf(ip.SourceAddress()), u.SourcePort())
	dst := netip.AddrPortFrom(addrOf(ip.DestinationAddress()), u.DestinationPort())
	if gw.isGatewayAddr(dst.Addr()) {
		// The gateway's own addresses: DNS, the host's loopback, and
		// the stack's own bindings there (published UDP ports'
		// sessions) that a flow's first datagram did not find.
		return false
	}
	gw.udp.mu.Lock()
	f := gw.udp.flows[udpKey{src, dst}]
	gw.udp.mu.Unlock()
	if f == nil {
		return false
	}
	if to, ok, _ := gw.target(ProtoUDP, dst); !ok || to != f.to {
		return false
	}
	// Committed: the packet is the gateway's from here on, so its
	// headers are dropped from the data and the payload pulled into one
	// view (it already is one when the link read it apart).
	var hdr [hl]byte
	copy(hdr[:], b)
	ip, u = header.IPv4(hdr[:header.IPv4MinimumSize]), header.UDP(hdr[header.IPv4MinimumSize:])
	d.TrimFront(hl)
	payload, ok := d.PullUp(d.Size())
	if !ok {
		payload = nil // an empty datagram
	}
	if u.Checksum() != 0 {
		sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), u.Length())
		if checksum.Checksum(payload, checksum.Checksum(u, sum)) != 0xffff {
			return true // corrupt: dropped, as the full path drops it
		}
	}
	tos, _ := ip.TOS()
	f.mac.note(pkt.LinkHeader().Slice())
	gw.fastIns.Add(1)
	if mtu := gw.relayUDP(f, dst, ip.TTL(), tos, ip, u, payload, false); mtu > 0 {
		gw.errTooBig(append(append(make([]byte, 0, hl), ip...), u...), mtu)
	}
	return true
}

// linkMAC is the sandbox's link address as its last packet of a flow
// came from (the Ethernet source), for fastOut; 0 until known.
type linkMAC struct{ v atomic.Uint64 }

// note keeps eth's source address (eth is a packet's Ethernet header).
func (m *linkMAC) note(eth []byte) {
	if len(eth) < header.EthernetMinimumSize || eth[6]&1 != 0 {
		return
	}
	var v uint64
	for _, c := range eth[6:12] {
		v = v<<8 | uint64(c)
	}
	m.v.Store(v | 1<<63)
}

// fastOut writes one IPv4 packet from src to dst (protocol proto, its
// transport header th with the checksum filled and payload) to the
// sandbox as a frame of its own, to the link address mac noted for the
// flow. false when it cannot (no address known yet, larger than the
// link's MTU): the caller sends it through the stack.
func (gw *Gateway) fastOut(mac *linkMAC, src, dst netip.Addr, ttl, tos uint8, proto tcpip.TransportProtocolNumber, th, payload []byte) bool {
	m := mac.v.Load()
	link := gw.cfg.Link
	size := header.IPv4MinimumSize + len(th) + len(payload)
	if m == 0 || link == nil || size > int(link.MTU()) || !src.Is4() || !dst.Is4() {
		return false
	}
	if ttl == 0 {
		var def tcpip.DefaultTTLOption
		if gw.g.NetworkProtocolOption(ipv4.ProtocolNumber, &def) != nil {
			return false
		}
		ttl = uint8(def)
	}
	// The headers are pushed as the stack pushes them, so that what looks
	// at them (a --pcap sniffer, which records from the network header)
	// sees the frame as it sees the stack's.
	var data buffer.Buffer
	if len(payload) > 0 {
		data = buffer.MakeWithData(payload)
	}
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{
		ReserveHeaderBytes: header.EthernetMinimumSize + header.IPv4MinimumSize + len(th),
		Payload:            data,
	})
	copy(pkt.TransportHeader().Push(len(th)), th)
	pkt.TransportProtocolNumber = proto
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{
		TOS:         tos,
		TotalLength: uint16(size),
		ID:          uint16(gw.ipID.Add(1)),
		TTL:         ttl,
		Protocol:    uint8(proto),
		SrcAddr:     gAddr(src),
		DstAddr:     gAddr(dst),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	eth := pkt.LinkHeader().Push(header.EthernetMinimumSize)
	for i := range 6 {
		eth[i] = byte(m >> (8 * (5 - i)))
	}
	copy(eth[6:12], link.LinkAddress())
	binary.BigEndian.PutUint16(eth[12:], uint16(header.IPv4ProtocolNumber))
	var l gstack.PacketBufferList
	l.PushBack(pkt)
	gw.fastOuts.Add(1)
	link.WritePackets(l) // a full queue drops it, as a wire would
	pkt.DecRef()
	return true
}

// fastUDPOut sends a reply of IPv4 flow f (payload) to the sandbox on
// the short path; false: the caller sends it through the stack.
func (gw *Gateway) fastUDPOut(f *udpFlow, ttl, tos uint8, payload []byte) bool {
	from, to := f.key.dst, f.key.src
	if !from.Addr().Is4() || !to.Addr().Is4() || len(payload) > 0xffff-header.UDPMinimumSize {
		return false
	}
	var th [header.UDPMinimumSize]byte
	u := header.UDP(th[:])
	n := uint16(header.UDPMinimumSize + len(payload))
	u.Encode(&header.UDPFields{SrcPort: from.Port(), DstPort: to.Port(), Length: n})
	sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, gAddr(from.Addr()), gAddr(to.Addr()), n)
	sum = checksum.Checksum(payload, sum)
	u.SetChecksum(^u.CalculateChecksum(sum))
	if u.Checksum() == 0 {
		u.SetChecksum(0xffff)
	}
	return gw.fastOut(&f.mac, from.Addr(), to.Addr(), ttl, tos, header.UDPProtocolNumber, th[:], payload)
}
