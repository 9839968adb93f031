package gateway

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// pubUDPSession is one host client of a published UDP port: its datagrams go
// to the sandbox from a binding of its own on the gateway address, and the
// sandbox's answers to that binding go back to the client.
type pubUDPSession struct {
	gw      *Gateway
	pub     *pubUDP
	client  netip.AddrPort
	sandbox netip.AddrPort
	b       *stack.UDPBinding
	last    atomic.Int64
	start   time.Time
	in, out atomic.Int64

	// The client's last datagram as the host received it, for an ICMP
	// error quoting it: the host address it was sent to, its TTL and TOS,
	// its payload length and the payload's checksum.
	mu       sync.Mutex
	hostDst  netip.Addr
	ttl, tos uint8
	plen     int
	psum     uint16
}

// pubUDP is one published UDP port: its host socket and its clients.
type pubUDP struct {
	gw       *Gateway
	pc       *net.UDPConn
	port     uint16 // the host port
	sandbox  netip.AddrPort
	from     netip.Addr // the gateway's address the sessions bind: Gateway or Gateway6
	mu       sync.Mutex
	sessions map[netip.AddrPort]*pubUDPSession
}

// DeliverUDP runs on the stack's delivery path: a non-blocking send to the
// client (a full host buffer drops the datagram).
func (p *pubUDPSession) DeliverUDP(d *stack.Datagram) {
	if d.Src != p.sandbox {
		return
	}
	p.last.Store(time.Now().UnixNano())
	if n, err := p.pub.pc.WriteToUDPAddrPort(d.Payload, p.client); err == nil {
		p.out.Add(int64(n))
		p.gw.stats.BytesIn.Add(int64(n))
	}
}

// PublishUDP receives datagrams on host and sends each client's to sandbox
// (the sandbox's address and port) from a gateway port of its own, so the
// sandbox's replies find their way back. Sessions end after UDPIdle.
// An IPv6 sandbox address (on Gateway6's link) is published from an IPv6
// host address, through a binding on Gateway6.
func (gw *Gateway) PublishUDP(host, sandbox netip.AddrPort) error {
	network, from := "udp4", gw.cfg.Gateway
	level, opts := unix.IPPROTO_IP, []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS}
	if is6(sandbox.Addr()) {
		if !gw.cfg.Gateway6.IsValid() {
			return errors.New("gateway: no IPv6 to publish to")
		}
		network, from = "udp6", gw.cfg.Gateway6
		level, opts = unix.IPPROTO_IPV6, []int{unix.IPV6_RECVPKTINFO, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS}
	}
	if !sandbox.Addr().Is4() && !is6(sandbox.Addr()) || is6(host.Addr()) != is6(sandbox.Addr()) {
		return errors.New("gateway: UDP is published from an IPv4 host address to an IPv4 sandbox address, or IPv6 to IPv6")
	}
	pc, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(host))
	if err != nil {
		return err
	}
	// The address each datagram was sent to, its TTL and TOS (hop limit
	// and traffic class): what an ICMP error about it quotes and where it
	// comes from.
	if rc, err := pc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			for _, o := range opts {
				unix.SetsockoptInt(int(fd), level, o, 1)
			}
		})
	}
	if !gw.begin(pc) {
		pc.Close()
		return errClosed
	}
	p := &pubUDP{gw: gw, pc: pc, port: pc.LocalAddr().(*net.UDPAddr).AddrPort().Port(), sandbox: sandbox, from: from,
		sessions: map[netip.AddrPort]*pubUDPSession{}}
	if is6(sandbox.Addr()) {
		gw.lifeMu.Lock()
		gw.pubUDP6 = append(gw.pubUDP6, p)
		gw.lifeMu.Unlock()
	}
	go p.serve()
	return nil
}

func (p *pubUDP) end(s *pubUDPSession) {
	s.b.Release()
	p.gw.logf("udp %s -> published %s in %d B out %d B %.3fs", s.client, p.sandbox, s.in.Load(), s.out.Load(), time.Since(s.start).Seconds())
}

// endSession ends s if it is still open.
func (p *pubUDP) endSession(s *pubUDPSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sessions[s.client] == s {
		delete(p.sessions, s.client)
		p.end(s)
	}
}

func (p *pubUDP) serve() {
	gw := p.gw
	defer gw.wg.Done()
	defer func() {
		p.mu.Lock()
		for k, s := range p.sessions {
			delete(p.sessions, k)
			p.end(s)
		}
		p.mu.Unlock()
	}()
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	lastSweep := time.Now()
	for {
		p.pc.SetReadDeadline(time.Now().Add(time.Second))
		n, oobn, _, client, err := p.pc.ReadMsgUDPAddrPort(buf, oob)
		if time.Since(lastSweep) > time.Second {
			lastSweep = time.Now()
			p.mu.Lock()
			for k, s := range p.sessions {
				if time.Since(time.Unix(0, s.last.Load())) > gw.cfg.UDPIdle {
					delete(p.sessions, k)
					p.end(s)
				}
			}
			p.mu.Unlock()
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
		p.mu.Lock()
		s := p.sessions[client]
		if s == nil && len(p.sessions) < gw.cfg.MaxFlows {
			s = &pubUDPSession{gw: gw, pub: p, client: client, sandbox: p.sandbox, start: time.Now()}
			b, err := gw.cfg.Stack.UDPBind(s, netip.AddrPortFrom(p.from, 0), stack.UDPBindFlags{})
			if err == nil {
				err = b.Connect(p.sandbox)
				if err != nil {
					b.Release()
				}
			}
			if err != nil {
				gw.stats.Failed.Add(1)
				s = nil
			} else {
				s.b = b
				p.sessions[client] = s
				gw.stats.UDPFlows.Add(1)
			}
		}
		p.mu.Unlock()
		if s == nil {
			continue
		}
		s.last.Store(time.Now().UnixNano())
		ttl, tos, dst := pubCmsgs(oob[:oobn])
		s.mu.Lock()
		s.hostDst, s.ttl, s.tos = dst, ttl, tos
		s.plen, s.psum = n, checksum.Checksum(buf[:n], 0)
		s.mu.Unlock()
		payload := append([]byte(nil), buf[:n]...)
		if gw.cfg.Stack.SendUDP(&stack.UDPSend{Src: s.b.Local(), Dst: p.sandbox, IfIndex: gw.cfg.NIC, Payload: payload}) == nil {
			s.in.Add(int64(n))
			gw.stats.BytesOut.Add(int64(n))
		}
	}
}

// pubCmsgs reads a received datagram's TTL, TOS and header destination
// (over IPv6 its hop limit and traffic class).
func pubCmsgs(oob []byte) (ttl, tos uint8, dst netip.Addr) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_IPV6 {
			switch m.Header.Type {
			case unix.IPV6_HOPLIMIT:
				if len(m.Data) >= 4 {
					ttl = uint8(nativeInt(m.Data))
				}
			case unix.IPV6_TCLASS:
				if len(m.Data) >= 4 {
					tos = uint8(nativeInt(m.Data))
				}
			case unix.IPV6_PKTINFO:
				// struct in6_pktinfo: the header's destination, ifindex.
				if len(m.Data) >= 16 {
					dst = netip.AddrFrom16([16]byte(m.Data[:16]))
				}
			}
			continue
		}
		if m.Header.Level != unix.SOL_IP {
			continue
		}
		switch m.Header.Type {
		case unix.IP_TTL:
			if len(m.Data) >= 4 {
				ttl = uint8(nativeInt(m.Data))
			}
		case unix.IP_TOS:
			if len(m.Data) >= 1 {
				tos = m.Data[0]
			}
		case unix.IP_PKTINFO:
			// struct in_pktinfo: ifindex, spec_dst, addr (the header's
			// destination).
			if len(m.Data) >= 12 {
				dst = netip.AddrFrom4([4]byte(m.Data[8:12]))
			}
		}
	}
	return
}

// DeliverICMPError runs on the stack's delivery path for an error the
// sandbox sent about a datagram of this client (its port unreachable when
// nothing listens on the published port): the client gets it as from the
// host, the address it wrote to, quoting its datagram as the host received
// it, so its connected socket sees ECONNREFUSED as with a host that has no
// listener. Without a raw socket the session ends instead (counted).
func (s *pubUDPSession) DeliverICMPError(e *stack.ICMPError) {
	gw := s.gw
	if e.Dst != s.sandbox || gw.closed.Load() {
		return
	}
	s.mu.Lock()
	dst, ttl, tos, plen, psum := s.hostDst, s.ttl, s.tos, s.plen, s.psum
	s.mu.Unlock()
	if !dst.IsValid() || dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		// Linux sends no error about a datagram to a group or broadcast.
		gw.stats.ICMPErrDropped.Add(1)
		return
	}
	if !gw.out.canSend() {
		gw.stats.ICMPErrClosed.Add(1)
		gw.logf("udp %s -> published %s: the sandbox refused it; no raw socket to tell the client, session ended", s.client, s.sandbox)
		go s.pub.endSession(s)
		return
	}
	if !gw.out.lim.allow(s.client.Addr(), e.Type, e.Code, time.Now()) {
		gw.stats.ICMPErrLimited.Add(1)
		return
	}
	from, to := s.client, netip.AddrPortFrom(dst, s.pub.port)
	room := icmpQuoteRoom - header.IPv4MinimumSize - header.UDPMinimumSize
	var msg []byte
	if len(e.Payload) < room {
		// The sandbox quoted the whole datagram.
		msg = buildUDPError(e.Type, e.Code, icmpErrorRest(e), from, to, ttl, tos, uint16(header.UDPMinimumSize+len(e.Payload)), e.Payload, true)
	} else {
		// A truncated quote: the client's last datagram's length and
		// checksum.
		udpLen := uint16(header.UDPMinimumSize + max(plen, len(e.Payload)))
		msg = buildUDPError(e.Type, e.Code, icmpErrorRest(e), from, to, ttl, tos, udpLen, e.Payload, false)
		if plen >= len(e.Payload) {
			u := header.UDP(msg[header.ICMPv4MinimumSize+header.IPv4MinimumSize:])
			sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, gAddr(from.Addr()), gAddr(to.Addr()), udpLen)
			u.SetChecksum(^u.CalculateChecksum(checksum.Combine(sum, psum)))
			if u.Checksum() == 0 {
				u.SetChecksum(0xffff)
			}
		}
	}
	gw.out.send(dst, s.client.Addr(), errorTOS(tos), msg)
	gw.stats.ICMPErrRelayed.Add(1)
}

// is6 tells whether a is a real IPv6 address (not IPv4-mapped).
func is6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
