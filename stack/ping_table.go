package stack

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/ports"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// PingSocket is a ping (ICMP datagram) socket in the stack's identifier
// table, Linux's ping_table (net/ipv4/ping.c).
//
// gVisor's ICMP endpoints register their identifier in the transport
// demuxer without sharing, so a second socket could never bind an
// identifier, a socket connected again after connect(AF_UNSPEC) met its own
// stale registration, and the demuxer picks the most specific binding where
// Linux takes the newest. The socket layer therefore removes every
// registration gVisor makes for a ping endpoint (PingUnregister) and the
// table decides: which identifier a socket gets (ping_get_port) and which
// socket an echo reply or ICMP error is for (ping_lookup).
type PingSocket interface {
	// PingFilter is what ping_lookup compares: inet_rcv_saddr (invalid
	// or unspecified for any) and sk_bound_dev_if (0 for any).
	PingFilter() (addr netip.Addr, ifIndex int)
	// PingReuse is sk_reuse: SO_REUSEADDR, on by default for ping
	// sockets (INET_PROTOSW_REUSE).
	PingReuse() bool
	// PingDeliver queues an echo reply for the socket; it runs on the
	// delivery path and must not block.
	PingDeliver(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer)
}

// pingTable holds the hashed ping sockets by identifier, newest first in
// each list: ping_get_port adds a socket at the head of its hash chain
// (sk_add_node_rcu) and ping_lookup takes the first that matches.
type pingTable struct {
	mu    sync.RWMutex
	rover uint16 // ping_port_rover: the last identifier handed out
	socks map[uint16][]PingSocket
}

// PingGetPort is ping_get_port. Identifier 0 picks the first one after
// the last picked that no socket holds (any address, any reuse); another
// is refused with EADDRINUSE when a socket already holds it unless both
// have SO_REUSEADDR (bound addresses and devices do not matter). apply
// binds the socket's endpoint to the identifier; it runs with the table
// locked, and its error leaves the table unchanged. On success the socket
// is added at the head of the identifier's list.
func (s *Stack) PingGetPort(so PingSocket, ident uint16, apply func(ident uint16) error) (uint16, error) {
	t := &s.pings
	t.mu.Lock()
	defer t.mu.Unlock()
	rover := t.rover
	if ident == 0 {
		r := t.rover + 1
		found := false
		for i := 0; i < 1<<16; i++ {
			if r == 0 {
				r++
			}
			if len(t.socks[r]) == 0 {
				found = true
				break
			}
			r++
		}
		if !found {
			return 0, unix.EADDRINUSE
		}
		ident, rover = r, r
	} else {
		for _, o := range t.socks[ident] {
			if o != so && (!o.PingReuse() || !so.PingReuse()) {
				return 0, unix.EADDRINUSE
			}
		}
	}
	if err := apply(ident); err != nil {
		return 0, err
	}
	t.rover = rover
	if t.socks == nil {
		t.socks = make(map[uint16][]PingSocket)
	}
	l := t.socks[ident]
	for _, o := range l {
		if o == so {
			return ident, nil // already hashed
		}
	}
	nl := make([]PingSocket, 0, len(l)+1)
	t.socks[ident] = append(append(nl, so), l...)
	return ident, nil
}

// PingLocked runs fn with the identifier table locked, for a change of a
// hashed socket's gVisor endpoint (connect) that gVisor registers and the
// socket layer then unregisters.
func (s *Stack) PingLocked(fn func()) {
	s.pings.mu.Lock()
	defer s.pings.mu.Unlock()
	fn()
}

// PingUnhash is ping_unhash: the socket gives up its identifier.
func (s *Stack) PingUnhash(so PingSocket, ident uint16) {
	t := &s.pings
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.socks[ident]
	for i, o := range l {
		if o == so {
			nl := append(append(make([]PingSocket, 0, len(l)-1), l[:i]...), l[i+1:]...)
			if len(nl) == 0 {
				delete(t.socks, ident)
			} else {
				t.socks[ident] = nl
			}
			return
		}
	}
}

// PingLookup is ping_lookup: the newest socket holding ident whose bound
// address is dst or any and whose bound device is ifIndex or none.
func (s *Stack) PingLookup(ident uint16, dst netip.Addr, ifIndex int) PingSocket {
	t := &s.pings
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, so := range t.socks[ident] {
		a, dev := so.PingFilter()
		if a.IsValid() && !a.IsUnspecified() && a != dst {
			continue
		}
		if dev != 0 && dev != ifIndex {
			continue
		}
		return so
	}
	return nil
}

// PingUnregister removes the demuxer registration gVisor's ICMP endpoint
// ep made for ident on bind or connect (the ID its Close would remove),
// so that the identifier table alone routes echo replies. Call it with
// the table locked (inside PingGetPort's apply or PingLocked).
func (s *Stack) PingUnregister(ep tcpip.Endpoint, ident uint16) {
	te, ok := ep.(gstack.TransportEndpoint)
	if !ok {
		return
	}
	info, ok := ep.Info().(*gstack.TransportEndpointInfo)
	if !ok {
		return
	}
	id := info.ID
	id.LocalPort = ident
	s.g.UnregisterTransportEndpoint([]tcpip.NetworkProtocolNumber{header.IPv4ProtocolNumber}, header.ICMPv4ProtocolNumber, id, te, ports.Flags{}, tcpip.NICID(ep.SocketOptions().GetBindToDevice()))
}

// deliverEchoReply hands an echo reply to the ping socket ping_lookup
// finds; false when there is none.
func (s *Stack) deliverEchoReply(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) bool {
	if id.LocalAddress.Len() != 4 {
		return false
	}
	so := s.PingLookup(id.LocalPort, netip.AddrFrom4(id.LocalAddress.As4()), int(pkt.NICID))
	if so == nil {
		return false
	}
	so.PingDeliver(id, pkt)
	return true
}
