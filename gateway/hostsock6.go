package gateway

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// famOpts names the socket options that carry the same thing in either
// family: an IPv6 flow sets IPV6_UNICAST_HOPS where an IPv4 flow sets
// IP_TTL, and so on, with the same values. frag says whether the host may
// fragment a packet, each family with its own values (IP_PMTUDISC_DO or
// DONT: dfMode; IPV6_DONTFRAG 1 or 0: dontFrag6); mtu reads a connected
// socket's path MTU.
type famOpts struct {
	level, ttl, tos, frag, mtu, recvErr, recvTTL, recvTOS int
}

var (
	opts4 = famOpts{unix.IPPROTO_IP, unix.IP_TTL, unix.IP_TOS, unix.IP_MTU_DISCOVER, unix.IP_MTU, unix.IP_RECVERR, unix.IP_RECVTTL, unix.IP_RECVTOS}
	opts6 = famOpts{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.IPV6_TCLASS, unix.IPV6_DONTFRAG, unix.IPV6_MTU, unix.IPV6_RECVERR, unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVTCLASS}
)

// hopOpts are the options a relayed flow's host socket takes from the
// sandbox's packets (famOpts' ttl, tos and frag); -1 unknown.
type hopOpts struct{ ttl, tos, frag int }

var unknownHopOpts = hopOpts{-1, -1, -1}

// set carries want onto h (options o), each option only when it differs
// from the one set now (*cur, which it updates).
func (cur *hopOpts) set(h *hostSock, o *famOpts, want hopOpts) {
	if want.ttl != cur.ttl && h.setInt(o.level, o.ttl, want.ttl) == nil {
		cur.ttl = want.ttl
	}
	if want.tos != cur.tos && h.setInt(o.level, o.tos, want.tos) == nil {
		cur.tos = want.tos
	}
	if want.frag != cur.frag && h.setInt(o.level, o.frag, want.frag) == nil {
		cur.frag = want.frag
	}
}

// optsFor is the option set of a host socket towards dst.
func optsFor(dst netip.Addr) *famOpts {
	if dst.Is6() {
		return &opts6
	}
	return &opts4
}

// parse6 reads one SOL_IPV6 control message: the hop limit and traffic
// class of a datagram, or an error-queue entry whose offender is a
// sockaddr_in6.
func (ci *cmsgInfo) parse6(m unix.SocketControlMessage) {
	switch m.Header.Type {
	case unix.IPV6_HOPLIMIT:
		if len(m.Data) >= 4 {
			if v := nativeInt(m.Data); v >= 0 && v <= 255 {
				ci.ttl, ci.hasTTL = uint8(v), true
			}
		}
	case unix.IPV6_TCLASS:
		if len(m.Data) >= 4 {
			ci.tos = uint8(nativeInt(m.Data))
		}
	case unix.IPV6_RECVERR:
		if len(m.Data) >= sizeofSockExtendedErr {
			ee := *(*unix.SockExtendedErr)(unsafePointer(m.Data))
			ci.ee = &ee
			// sockaddr_in6: family, port, flowinfo, then the address.
			if off := m.Data[sizeofSockExtendedErr:]; len(off) >= unix.SizeofSockaddrInet6 && binary.NativeEndian.Uint16(off) == unix.AF_INET6 {
				ci.offender = netip.AddrFrom16([16]byte(off[8:24]))
			}
		}
	}
}

// icmpOrigin tells whether an error-queue entry came from an ICMP or
// ICMPv6 message, which names a real offender.
func icmpOrigin(o uint8) bool { return o == unix.SO_EE_ORIGIN_ICMP || o == unix.SO_EE_ORIGIN_ICMP6 }
