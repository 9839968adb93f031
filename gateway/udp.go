package gateway

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// dnsIdle ends a flow to the gateway's DNS address.
const dnsIdle = 10 * time.Second

// udpKey is one sandbox flow: its source and the destination it used.
type udpKey struct{ src, dst netip.AddrPort }

type udpFlow struct {
	key   udpKey
	host  *hostSock
	to    netip.AddrPort // host destination (dst, or the resolver for DNS)
	local netip.AddrPort // the host socket's own address
	last  atomic.Int64   // unix nanos of the last datagram either way
	start time.Time
	up    atomic.Int64
	down  atomic.Int64
	// refused: the sandbox refused a reply and, with no raw socket to
	// tell the remote, the host socket was closed (icmp_out.go).
	refused atomic.Bool
	// errTaken: a send took an ICMP error's pending errno, so the reply
	// loop drains the error queue.
	errTaken atomic.Bool
	mac      linkMAC // the sandbox's, for replies on the short path

	mu   sync.Mutex
	hop  hopOpts   // options now set on host
	sent quoteRing // the last sandbox datagrams' headers, for errors
}

func (gw *Gateway) startUDP() {
	gw.g.SetTransportProtocolHandler(header.UDPProtocolNumber, gw.handleUDP)
}

// handleUDP runs on the stack's delivery path for each datagram no socket
// of the stack wants: it must not block. A datagram of either family is
// relayed through its flow's host socket with the TTL (hop limit) minus
// one and the TOS (traffic class), refused with "administratively
// prohibited" by policy, and ended with "time exceeded" at the gateway as
// at a router.
func (gw *Gateway) handleUDP(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) bool {
	if pkt.NICID != gw.nic || gw.closed.Load() {
		return false
	}
	src := netip.AddrPortFrom(addrOf(id.RemoteAddress), id.RemotePort)
	dst := netip.AddrPortFrom(addrOf(id.LocalAddress), id.LocalPort)
	if !udpChecksumOK(pkt) {
		return true // a corrupt datagram is dropped, as any host would
	}
	to, ok, why := gw.target(ProtoUDP, dst)
	if !ok {
		if gw.isGatewayAddr(dst.Addr()) {
			// The gateway's own address: no service there, so the stack
			// answers port unreachable like a host.
			return false
		}
		gw.stats.Denied.Add(1)
		gw.logf("udp %s -> %s refused: %s", src, dst, why)
		gw.errProhibited(packetHead(pkt))
		return true
	}
	dns := gw.isDNS(dst.Addr())
	ttl, tos := hopAndClass(pkt)
	if ttl <= 1 && !dns {
		// The gateway is a hop: a datagram that would leave with TTL 0 ends
		// here, as in any router (traceroute's first hop).
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
	f.mac.note(pkt.LinkHeader().Slice())
	if mtu := gw.relayUDP(f, dst, ttl, tos, pkt.NetworkHeader().Slice(), pkt.TransportHeader().Slice(), payload, dns); mtu > 0 {
		// The host knows the path is narrower: the gateway is the hop that
		// cannot forward it, as a router answers "fragmentation needed"
		// or "packet too big".
		gw.errTooBig(packetHead(pkt), mtu)
	}
	return true
}

// relayUDP sends the sandbox's datagram (nh and th its network and UDP
// headers) through flow f to dst, on the full path (handleUDP) or the
// short one (fastUDP). A positive result is the host's path MTU the
// datagram was too big for.
func (gw *Gateway) relayUDP(f *udpFlow, dst netip.AddrPort, ttl, tos uint8, nh, th, payload []byte, dns bool) (tooBig int) {
	o := optsFor(dst.Addr()) // the datagram's family
	f.mu.Lock()
	if dst.Addr().Is6() {
		// An IPv6 router never fragments (dontFrag6). A query to the DNS
		// address is the gateway's own, to a resolver of either family,
		// with the host's defaults.
		if !dns {
			f.hop.set(f.host, o, hopOpts{int(ttl) - 1, int(tos), gw.dontFrag6(header.IPv6MinimumSize + header.UDPMinimumSize + len(payload))})
		}
	} else {
		// DF travels too: a DF datagram leaves with DF and meets the path
		// MTU (IP_PMTUDISC_DO), one without may be fragmented
		// (IP_PMTUDISC_DONT).
		want := hopOpts{int(ttl) - 1, int(tos), dfMode(header.IPv4(nh))}
		if dns {
			want.ttl = 64 // the gateway's own query to its resolver
		}
		f.hop.set(f.host, o, want)
	}
	f.sent.put(nh, th, payload, 0)
	// udpError relays an ICMP error about an earlier datagram that this
	// send found pending; which errnos are pending depends on the host
	// socket's family (a DNS query may cross families).
	pending := udpPendingErrs
	if f.to.Addr().Is6() {
		pending = udpPendingErrs6
	}
	err := f.host.sendPastError(payload, netip.AddrPort{}, &f.errTaken, pending)
	mtu := 0
	if err == unix.EMSGSIZE {
		mtu = f.host.pathMTU(o.level, o.mtu)
	}
	f.mu.Unlock()
	if mtu > 0 {
		return mtu
	}
	f.last.Store(time.Now().UnixNano())
	if err == nil {
		f.up.Add(int64(len(payload)))
		gw.stats.BytesOut.Add(int64(len(payload)))
	}
	return 0
}

// udpPayload is the datagram's payload as one slice: the packet's own
// storage when it is contiguous (or can be merged in the packet's pooled
// buffer), so a datagram costs no heap allocation and no copy on the way
// to the host socket. It is valid while the packet is.
func udpPayload(pkt *gstack.PacketBuffer) []byte {
	d := pkt.Data()
	if b, ok := d.PullUp(d.Size()); ok {
		return b
	}
	return d.AsRange().ToSlice()
}

func udpChecksumOK(pkt *gstack.PacketBuffer) bool {
	h := header.UDP(pkt.TransportHeader().Slice())
	if len(h) < header.UDPMinimumSize {
		return false
	}
	n := pkt.Network()
	lengthOK, csumOK := header.UDPValid(h, func() uint16 { return pkt.Data().Checksum() },
		uint16(pkt.Data().Size()), pkt.NetworkProtocolNumber,
		n.SourceAddress(), n.DestinationAddress(), pkt.RXChecksumValidated)
	return lengthOK && csumOK
}

// udpFlow finds or opens the host socket of a flow (nil when full or the
// host refuses a socket).
func (gw *Gateway) udpFlow(k udpKey, to netip.AddrPort) *udpFlow {
	t := &gw.udp
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.flows[k]; ok {
		return f
	}
	if gw.flowCount() >= gw.cfg.MaxFlows || gw.closed.Load() {
		gw.stats.Failed.Add(1)
		return nil
	}
	h, err := openHostSockFor(to.Addr(), unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	if err != nil {
		gw.stats.Failed.Add(1)
		gw.logf("udp %s -> %s: host socket: %v", k.src, k.dst, err)
		return nil
	}
	o := optsFor(to.Addr())
	for _, opt := range []int{o.recvTTL, o.recvTOS, o.recvErr} {
		h.setInt(o.level, opt, 1)
	}
	if err := h.connect(to); err != nil {
		h.Close()
		gw.stats.Failed.Add(1)
		gw.logf("udp %s -> %s: %v", k.src, k.dst, err)
		return nil
	}
	if !gw.begin(nil) {
		h.Close()
		return nil
	}
	f := &udpFlow{key: k, host: h, to: to, local: h.localAddr(), start: time.Now(), hop: unknownHopOpts}
	f.last.Store(time.Now().UnixNano())
	t.putLocked(k, f)
	gw.stats.UDPFlows.Add(1)
	go gw.udpReplies(f)
	return f
}

// udpReplies sends the host socket's datagrams back to the sandbox from the
// address the sandbox wrote to, and its ICMP errors as ICMP errors from the
// real offender; the flow ends after UDPIdle without traffic.
func (gw *Gateway) udpReplies(f *udpFlow) {
	defer gw.wg.Done()
	defer func() {
		gw.udp.remove(f.key)
		f.host.Close()
		gw.logf("udp %s -> %s up %d B down %d B %.3fs", f.key.src, f.key.dst, f.up.Load(), f.down.Load(), time.Since(f.start).Seconds())
	}()
	buf := make([]byte, 65536)
	oob, errOOB := make([]byte, 256), make([]byte, 256)
	idle := gw.cfg.UDPIdle
	if gw.isDNS(f.key.dst.Addr()) {
		// A resolver answers at once; a query per source port must not
		// hold a host socket for a minute.
		idle = min(idle, dnsIdle)
	}
	for !gw.closed.Load() {
		deadline := time.Unix(0, f.last.Load()).Add(idle)
		if time.Now().After(deadline) {
			return
		}
		n, oobn, _, err := f.host.recv(buf, oob, false, deadline)
		if err != nil {
			if isTimeout(err) {
				continue
			}
			if gw.udpError(f, buf, oob) {
				continue
			}
			return
		}
		f.last.Store(time.Now().UnixNano())
		if f.errTaken.Swap(false) && n < len(buf) {
			gw.udpError(f, buf[n:], errOOB)
		}
		if gw.isDNS(f.key.dst.Addr()) {
			gw.snoopDNS(buf[:n])
		}
		ci := parseCmsgs(oob[:oobn])
		ttl := ci.sandboxTTL()
		if f.key.src.Addr().Is6() {
			if gw.sendUDP6(f.key.dst, f.key.src, ttl, ci.tos, buf[:n]) == nil {
				f.down.Add(int64(n))
				gw.stats.BytesIn.Add(int64(n))
			}
			continue
		}
		if gw.fastUDPOut(f, ttl, ci.tos, buf[:n]) {
			f.down.Add(int64(n))
			gw.stats.BytesIn.Add(int64(n))
			continue
		}
		payload := make([]byte, n)
		copy(payload, buf[:n])
		err = gw.cfg.Stack.SendUDP(&stack.UDPSend{
			Src: f.key.dst, Dst: f.key.src, IfIndex: gw.cfg.NIC,
			TTL: ttl, TOS: ci.tos, Payload: payload,
		})
		if err == nil {
			f.down.Add(int64(n))
			gw.stats.BytesIn.Add(int64(n))
		}
	}
}

// udpError drains one error-queue message of the host socket and sends the
// matching ICMP error into the sandbox, quoting the sandbox's datagram it
// is about (quote_ring.go) with as much payload as the host's error quoted.
// It reports whether the socket is still usable.
func (gw *Gateway) udpError(f *udpFlow, buf, oob []byte) bool {
	n, oobn, _, err := f.host.recv(buf, oob, true, time.Now().Add(time.Second))
	if err != nil {
		return err == unix.EAGAIN || isTimeout(err)
	}
	ci := parseCmsgs(oob[:oobn])
	if ci.ee == nil || !icmpOrigin(ci.ee.Origin) || !ci.offender.IsValid() || gw.isDNS(f.key.dst.Addr()) {
		return true
	}
	offender := ci.offender
	info := errorInfoWord(ci.ee.Type, ci.ee.Code, ci.ee.Info)
	if ci.ee.Origin == unix.SO_EE_ORIGIN_ICMP6 {
		info = errorInfoWord6(ci.ee.Type, ci.ee.Info)
	}
	if offender.IsLoopback() {
		// The host's loopback is the gateway's address to the sandbox
		// (--allow-host-loopback); 127/8 would be a martian there.
		offender = f.key.dst.Addr()
	}
	q := buf[:n]
	f.mu.Lock()
	p, matched, ok := f.sent.find(q, false, 0)
	f.mu.Unlock()
	if !ok {
		return true
	}
	if !matched {
		q = nil // an older datagram: its header is gone, quote the last one's alone
	}
	gw.relayQuote(offender, ci.ee.Type, ci.ee.Code, info, p.quote(q), ci.ttl)
	return true
}

// errorInfoWord is the second word of an ICMP error header for the info
// the host's error queue reports (sock_extended_err's ee_info): the MTU of
// "fragmentation needed" in its low half, a parameter problem's pointer in
// its first byte.
func errorInfoWord(typ, code uint8, info uint32) uint32 {
	switch {
	case typ == uint8(header.ICMPv4DstUnreachable) && code == uint8(header.ICMPv4FragmentationNeeded):
		return info & 0xffff
	case typ == uint8(header.ICMPv4ParamProblem):
		return (info & 0xff) << 24
	}
	return 0
}
