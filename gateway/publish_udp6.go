package gateway

import (
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The sandbox's ICMPv6 errors about datagrams of a UDP port published to
// its IPv6 address: the stack gives bindings no ICMPv6 errors, so the
// ICMPv6 tap (icmp_out6.go) finds the session by the quoted datagram,
// which went from the session's binding on Gateway6 to the sandbox.

// pubSession6 is the published session whose binding sent from -> to
// (nil when none, or when ok is false: no UDP quote to the gateway).
func (gw *Gateway) pubSession6(from, to netip.AddrPort, ok bool) *pubUDPSession {
	if !ok || from.Addr() != gw.cfg.Gateway6 {
		return nil
	}
	gw.lifeMu.Lock()
	pubs := gw.pubUDP6
	gw.lifeMu.Unlock()
	for _, p := range pubs {
		if p.sandbox != to {
			continue
		}
		p.mu.Lock()
		for _, s := range p.sessions {
			if s.b.Local() == from {
				p.mu.Unlock()
				return s
			}
		}
		p.mu.Unlock()
	}
	return nil
}

// relayError6 is DeliverICMPError for an IPv6 session: the client gets
// the error (port unreachable when nothing listens on the published port)
// from the host address it wrote to, quoting its datagram as the host
// received it, so its connected socket reads ECONNREFUSED as from a host
// with no listener. Without a raw ICMPv6 socket the session ends instead.
func (s *pubUDPSession) relayError6(typ, code uint8, rest []byte, udpLen uint16, payload []byte) {
	gw := s.gw
	if gw.closed.Load() {
		return
	}
	s.mu.Lock()
	dst, hop, tclass, plen, psum := s.hostDst, s.ttl, s.tos, s.plen, s.psum
	s.mu.Unlock()
	if !dst.IsValid() || dst.IsMulticast() {
		// Linux sends no error about a datagram to a group.
		gw.stats.ICMPErrDropped.Add(1)
		return
	}
	if !gw.out6.canSend() {
		gw.stats.ICMPErrClosed.Add(1)
		gw.logf("udp %s -> published %s: the sandbox refused it; no raw socket to tell the client, session ended", s.client, s.sandbox)
		go s.pub.endSession(s)
		return
	}
	if !gw.out6.lim.allow(s.client.Addr(), typ, code, time.Now()) {
		gw.stats.ICMPErrLimited.Add(1)
		return
	}
	from, to := s.client, netip.AddrPortFrom(dst, s.pub.port)
	msg := buildUDPError6(typ, code, rest, from, to, hop, tclass, udpLen, payload)
	quoted := len(msg) - header.ICMPv6ErrorHeaderSize - header.IPv6MinimumSize - header.UDPMinimumSize
	if int(udpLen) > header.UDPMinimumSize+quoted && int(udpLen) == header.UDPMinimumSize+plen {
		// A truncated quote: the checksum of the client's whole datagram.
		u := header.UDP(msg[header.ICMPv6ErrorHeaderSize+header.IPv6MinimumSize:])
		sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, gAddr(from.Addr()), gAddr(to.Addr()), udpLen)
		u.SetChecksum(^u.CalculateChecksum(checksum.Combine(sum, psum)))
		if u.Checksum() == 0 {
			u.SetChecksum(0xffff)
		}
	}
	gw.out6.send(dst, s.client.Addr(), tclass, msg)
	gw.stats.ICMPErrRelayed.Add(1)
}
