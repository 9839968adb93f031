package gateway

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// icmpKey is one ping flow: the sandbox's address and echo identifier and
// the destination.
type icmpKey struct {
	src netip.Addr
	id  uint16
	dst netip.Addr
}

// icmpFlow relays one ping flow through a host socket: a raw ICMP socket
// when the host allows it (identifiers kept, errors seen directly), else a
// ping socket (the kernel picks the identifier; errors come from its error
// queue).
type icmpFlow struct {
	key   icmpKey
	host  *hostSock
	raw   bool
	last  atomic.Int64
	start time.Time
	sent  atomic.Int64
	recvd atomic.Int64

	// errTaken: a send took an ICMP error's pending errno, so the reply
	// loop drains the error queue.
	errTaken atomic.Bool
	mac      linkMAC // the sandbox's, for replies on the short path

	mu   sync.Mutex
	hop  hopOpts   // options now set on host
	reqs quoteRing // the last requests' IP and echo headers, by sequence
}

// startICMP takes every echo request to an address that is not the
// gateway's. Taking it (the handler returns true) is what stops gVisor from
// answering it itself: the sandbox only sees replies the destination sent.
func (gw *Gateway) startICMP() {
	gw.g.SetTransportProtocolHandler(header.ICMPv4ProtocolNumber, gw.handleICMP)
}

func (gw *Gateway) isGatewayAddr(a netip.Addr) bool {
	return a == gw.cfg.Gateway || gw.isDNS(a) || (gw.cfg.Gateway6.IsValid() && a == gw.cfg.Gateway6)
}

// isDNS tells whether a is one of the gateway's DNS addresses.
func (gw *Gateway) isDNS(a netip.Addr) bool {
	return a.IsValid() && (a == gw.cfg.DNS || a == gw.cfg.DNS6)
}

func (gw *Gateway) handleICMP(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) bool {
	if pkt.NICID != gw.nic {
		return false
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	src, dst := addrOf(ip.SourceAddress()), addrOf(ip.DestinationAddress())
	if gw.isGatewayAddr(dst) {
		return false // the gateway itself answers, as a real router does
	}
	if gw.closed.Load() {
		return true
	}
	msgView := gstack.PayloadSince(pkt.TransportHeader())
	msg := append([]byte(nil), msgView.AsSlice()...)
	msgView.Release()
	if len(msg) < header.ICMPv4MinimumSize || header.ICMPv4(msg).Type() != header.ICMPv4Echo {
		// Only echo is relayed; other ICMP to the world ends here.
		return true
	}
	echoID := binary.BigEndian.Uint16(msg[4:])
	if _, ok, why := gw.target(ProtoICMP, netip.AddrPortFrom(dst, 0)); !ok {
		gw.stats.Denied.Add(1)
		gw.logf("icmp %s -> %s refused: %s", src, dst, why)
		gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4AdminProhibited), 0, packetHead(pkt))
		return true
	}
	if ip.TTL() <= 1 {
		gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4TimeExceeded), uint8(header.ICMPv4TTLExceeded), 0, packetHead(pkt))
		return true
	}
	f := gw.icmpFlow(icmpKey{src, echoID, dst})
	if f == nil {
		return true
	}
	if gw.relayEcho(f, ip, msg, dst, pkt.LinkHeader().Slice()) {
		gw.echoTooBig(dst, packetHead(pkt))
	}
	return true
}

// relayEcho sends the sandbox's echo request msg (ip its IP header, eth
// its Ethernet header) through flow f to dst, on the full path
// (handleICMP) or the short one (fastEcho). true: the request was too
// big for the host's path (echoTooBig).
func (gw *Gateway) relayEcho(f *icmpFlow, ip header.IPv4, msg []byte, dst netip.Addr, eth []byte) (tooBig bool) {
	f.mac.note(eth)
	f.mu.Lock()
	f.hop.set(f.host, &opts4, hopOpts{int(ip.TTL()) - 1, int(tosOf(ip)), dfMode(ip)})
	f.reqs.put(ip, msg[:8], msg[8:], binary.BigEndian.Uint16(msg[6:]))
	// The kernel fills a ping socket's identifier and checksum; a raw
	// socket sends the sandbox's message as it is.
	err := f.host.sendPastError(msg, netip.AddrPortFrom(dst, 0), &f.errTaken, pingPendingErrs)
	f.mu.Unlock()
	if err == unix.EMSGSIZE {
		return true
	}
	f.last.Store(time.Now().UnixNano())
	if err == nil {
		f.sent.Add(1)
		gw.stats.BytesOut.Add(int64(len(msg)))
	}
	return false
}

// echoTooBig answers a DF request over the host's path MTU to dst (head
// its IP header and first 8 bytes): the gateway is the hop that cannot
// forward it.
func (gw *Gateway) echoTooBig(dst netip.Addr, head []byte) {
	if mtu := hostPathMTU(dst); mtu > 0 {
		gw.sendICMPError(gw.cfg.Gateway, uint8(header.ICMPv4DstUnreachable), uint8(header.ICMPv4FragmentationNeeded), uint32(mtu), head)
	}
}

// icmpFlow finds or opens the host socket of a ping flow of either family
// (nil when the table is full or the host gives no socket).
func (gw *Gateway) icmpFlow(k icmpKey) *icmpFlow {
	t := &gw.icmp
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.flows[k]; ok {
		return f
	}
	if gw.flowCount() >= gw.cfg.MaxFlows || gw.closed.Load() {
		gw.stats.Failed.Add(1)
		return nil
	}
	open := gw.openICMP
	if k.dst.Is6() {
		open = gw.openICMP6 // icmp6.go
	}
	h, raw := open(k)
	if h == nil {
		return nil
	}
	if !gw.begin(nil) {
		h.Close()
		return nil
	}
	f := &icmpFlow{key: k, host: h, raw: raw, start: time.Now(), hop: unknownHopOpts}
	f.last.Store(time.Now().UnixNano())
	t.putLocked(k, f)
	gw.stats.ICMPFlows.Add(1)
	go gw.icmpReplies(f)
	return f
}

// openICMP opens the host socket of an IPv4 ping flow: a raw ICMP socket
// when the host allows it, else a ping socket bound to the sandbox's
// identifier and connected to the destination; nil (counted as failed)
// when the host gives neither.
func (gw *Gateway) openICMP(k icmpKey) (h *hostSock, raw bool) {
	raw = true
	h, err := openHostSock(unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		raw = false
		h, err = openHostSock(unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	}
	if err != nil {
		gw.stats.Failed.Add(1)
		gw.logf("icmp %s -> %s: no host ping or raw socket (%v); allow ping sockets with net.ipv4.ping_group_range", k.src, k.dst, err)
		return nil, false
	}
	if !raw {
		// Keep the sandbox's identifier when the host has it free.
		h.bind(netip.AddrPortFrom(netip.IPv4Unspecified(), k.id))
		h.setInt(unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		h.setInt(unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
		h.setInt(unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
		if err := h.connect(netip.AddrPortFrom(k.dst, 0)); err != nil {
			h.Close()
			gw.stats.Failed.Add(1)
			return nil, false
		}
	}
	return h, raw
}

// icmpReplies passes the destination's echo replies (TTL or hop limit
// minus one) and the errors about the flow's requests into the sandbox
// until the flow idles out.
func (gw *Gateway) icmpReplies(f *icmpFlow) {
	name := "icmp"
	if f.key.dst.Is6() {
		name = "icmp6"
	}
	defer gw.wg.Done()
	defer func() {
		gw.icmp.remove(f.key)
		f.host.Close()
		gw.logf("%s %s -> %s id %d sent %d received %d %.3fs", name, f.key.src, f.key.dst, f.key.id, f.sent.Load(), f.recvd.Load(), time.Since(f.start).Seconds())
	}()
	buf := make([]byte, 65536)
	oob, errOOB := make([]byte, 256), make([]byte, 256)
	for !gw.closed.Load() {
		deadline := time.Unix(0, f.last.Load()).Add(gw.cfg.UDPIdle)
		if time.Now().After(deadline) {
			return
		}
		n, oobn, from, err := f.host.recv(buf, oob, false, deadline)
		if err != nil {
			if isTimeout(err) {
				continue
			}
			if f.errQueue() && gw.pingError(f, buf, oob) {
				continue
			}
			if err == unix.EAGAIN && !f.key.dst.Is6() {
				continue // an IPv4 raw socket woken for nothing
			}
			return
		}
		if !f.errQueue() {
			gw.rawICMP(f, buf[:n])
			continue
		}
		gw.pingErrorAfterReply(f, buf, errOOB, n)
		gw.pingReply(f, buf[:n], oob[:oobn], from)
	}
}

// pingReply passes a datagram msg of an error-queue socket (errQueue)
// from from, with control messages oob, into the sandbox if it is the
// flow's echo reply.
func (gw *Gateway) pingReply(f *icmpFlow, msg, oob []byte, from netip.AddrPort) {
	if !f.isEchoReply(msg, from.Addr()) {
		return
	}
	ci := parseCmsgs(oob)
	gw.echoReply(f, msg, ci.sandboxTTL(), ci.tos)
}

// errQueue tells whether the flow's host socket reports the ICMP errors
// about its requests in its error queue: a ping socket of either family
// and an IPv6 raw socket do; an IPv4 raw socket receives them as packets,
// IP header included (rawICMP).
func (f *icmpFlow) errQueue() bool { return !f.raw || f.key.dst.Is6() }

// isEchoReply tells whether msg, read from an error-queue socket
// (errQueue), is an echo reply of the flow's destination. A ping socket
// receives its own replies only; an IPv6 raw socket (filtered to echo
// replies) those of every flow to the destination, so the identifier
// picks the flow's.
func (f *icmpFlow) isEchoReply(msg []byte, from netip.Addr) bool {
	if from != f.key.dst {
		return false
	}
	if f.key.dst.Is6() {
		return len(msg) >= header.ICMPv6EchoMinimumSize && header.ICMPv6(msg).Type() == header.ICMPv6EchoReply &&
			(!f.raw || binary.BigEndian.Uint16(msg[4:]) == f.key.id)
	}
	return len(msg) >= header.ICMPv4MinimumSize && header.ICMPv4(msg).Type() == header.ICMPv4EchoReply
}

// echoReply sends a destination's echo reply (ICMP or ICMPv6, by the
// flow's family) into the sandbox with the sandbox's identifier.
func (gw *Gateway) echoReply(f *icmpFlow, msg []byte, ttl, tos uint8) {
	out := append([]byte(nil), msg...)
	binary.BigEndian.PutUint16(out[4:], f.key.id)
	f.last.Store(time.Now().UnixNano())
	f.recvd.Add(1)
	gw.stats.BytesIn.Add(int64(len(out)))
	if f.key.dst.Is4() && len(out) >= header.ICMPv4MinimumSize {
		binary.BigEndian.PutUint16(out[2:], 0)
		binary.BigEndian.PutUint16(out[2:], ^checksum.Checksum(out, 0))
		if gw.fastOut(&f.mac, f.key.dst, f.key.src, ttl, tos, header.ICMPv4ProtocolNumber, out, nil) {
			return
		}
	}
	gw.sendICMP(f.key.dst, f.key.src, ttl, tos, out)
}

// rawICMP handles one packet of a raw ICMP socket (IP header included): an
// echo reply from the destination with the flow's identifier, or an error
// quoting one of the flow's requests.
func (gw *Gateway) rawICMP(f *icmpFlow, pkt []byte) {
	ip := header.IPv4(pkt)
	if len(pkt) < header.IPv4MinimumSize || !ip.IsValid(len(pkt)) {
		return
	}
	hl := int(ip.HeaderLength())
	msg := pkt[hl:min(len(pkt), int(ip.TotalLength()))]
	if len(msg) < header.ICMPv4MinimumSize {
		return
	}
	from := addrOf(ip.SourceAddress())
	ttl := ip.TTL()
	if ttl > 1 {
		ttl--
	}
	switch header.ICMPv4(msg).Type() {
	case header.ICMPv4EchoReply:
		if from == f.key.dst && binary.BigEndian.Uint16(msg[4:]) == f.key.id {
			gw.echoReply(f, msg, ttl, tosOf(ip))
		}
	case header.ICMPv4DstUnreachable, header.ICMPv4TimeExceeded, header.ICMPv4ParamProblem:
		inner := header.IPv4(msg[8:])
		if len(inner) < header.IPv4MinimumSize || int(inner.HeaderLength()) > len(inner) ||
			inner.Protocol() != uint8(header.ICMPv4ProtocolNumber) || addrOf(inner.DestinationAddress()) != f.key.dst {
			return
		}
		echo := msg[8+int(inner.HeaderLength()):]
		if len(echo) < 8 || echo[0] != uint8(header.ICMPv4Echo) || binary.BigEndian.Uint16(echo[4:]) != f.key.id {
			return
		}
		gw.relayEchoError(f, from, msg[0], msg[1], binary.BigEndian.Uint32(msg[4:]), echo, ip.TTL())
	}
}

// pingError drains one error-queue message of a ping socket into the
// sandbox. It reports whether the socket is still usable.
func (gw *Gateway) pingError(f *icmpFlow, buf, oob []byte) bool {
	n, oobn, _, err := f.host.recv(buf, oob, true, time.Now().Add(time.Second))
	if err != nil {
		return err == unix.EAGAIN || isTimeout(err)
	}
	ci := parseCmsgs(oob[:oobn])
	if ci.ee == nil || !icmpOrigin(ci.ee.Origin) || !ci.offender.IsValid() || n < 8 {
		return true
	}
	info := errorInfoWord(ci.ee.Type, ci.ee.Code, ci.ee.Info)
	if ci.ee.Origin == unix.SO_EE_ORIGIN_ICMP6 {
		info = errorInfoWord6(ci.ee.Type, ci.ee.Info)
	}
	gw.relayEchoError(f, ci.offender, ci.ee.Type, ci.ee.Code, info, buf[:n], ci.ttl)
	return true
}

// relayEchoError sends an ICMP error from the real offender quoting the
// sandbox's request it is about: echo is the host's quote of its own
// request from the echo header on (at least 8 bytes), whose sequence
// number and data pick the request (quote_ring.go). info is the header's
// second word.
func (gw *Gateway) relayEchoError(f *icmpFlow, offender netip.Addr, typ, code uint8, info uint32, echo []byte, hostTTL uint8) {
	seq := binary.BigEndian.Uint16(echo[6:])
	f.mu.Lock()
	p, matched, ok := f.reqs.find(echo[8:], true, seq)
	f.mu.Unlock()
	if !ok || p.hlen < header.IPv4MinimumSize+8 {
		return
	}
	data := echo[8:]
	if !matched {
		// Not one of the last requests: the last one's header with the
		// quoted sequence number, as before the ring.
		binary.BigEndian.PutUint16(p.head[p.hlen-2:], seq)
		data = nil
	}
	if !f.key.dst.Is6() && typ == uint8(header.ICMPv4DstUnreachable) && code == uint8(header.ICMPv4FragmentationNeeded) {
		info &= 0xffff
	}
	gw.relayQuote(offender, typ, code, info, p.quote(data), hostTTL)
}

// pingErrorAfterReply drains one error-queue message of a ping socket
// after a reply was read (n bytes of buf) when a send took the pending
// errno of an ICMP error: the error raised the socket's one EPOLLERR
// edge, which the wake for the reply used up, so nothing else would read
// it before the next error. The reply in buf[:n] and its control messages
// are kept: the error goes to buf[n:] and errOOB.
func (gw *Gateway) pingErrorAfterReply(f *icmpFlow, buf, errOOB []byte, n int) {
	if f.errTaken.Swap(false) && n < len(buf) {
		gw.pingError(f, buf[n:], errOOB)
	}
}
