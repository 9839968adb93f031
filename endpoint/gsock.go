package endpoint

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

// gsock is the shared core of the sockets backed by a gVisor endpoint
// (tcpSock, and through dgramSock rawSock and pingSock): the endpoint,
// option values pushed to gVisor, polling. Our layer keeps the option
// values Linux reports and validates arguments in Linux's order; gVisor
// moves the packets.
type gsock struct {
	base

	epMu sync.RWMutex
	ep   tcpip.Endpoint // replaced when a TCP socket resets or a ping socket swaps
	mk   func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)

	// v6 are an AF_INET6 socket's SOL_IPV6 values (guarded by optMu;
	// gsock6_opts.go).
	v6 v6Opts

	// mu guards the kinds' connection state (tcpSock's and dgramSock's
	// fields marked "mu").
	mu sync.Mutex
}

// open makes the socket's gVisor endpoint with mk, which also makes the
// fresh ones that replace it.
func (g *gsock) open(s *stack.Stack, typ, proto int, mk func(*waiter.Queue) (tcpip.Endpoint, tcpip.Error)) error {
	g.init(s, typ, proto)
	ep, e := mk(g.q)
	if e != nil {
		return stack.Errno(e)
	}
	g.ep, g.mk = ep, mk
	return nil
}

func (g *gsock) endpoint() tcpip.Endpoint {
	g.epMu.RLock()
	defer g.epMu.RUnlock()
	return g.ep
}

// localAddr is the bound local address (unspecified when none).
func (g *gsock) localAddr() netip.Addr {
	fa, e := g.endpoint().GetLocalAddress()
	if e != nil {
		return netip.Addr{}
	}
	return addrPortOf(fa).Addr()
}

// gvisorBindAddress is the address handed to gVisor's Bind.
func (g *gsock) gvisorBindAddress(ap netip.AddrPort) tcpip.FullAddress {
	fa := bindAddress(ap)
	if fa.NIC == 0 {
		// gVisor keeps the NIC it finds the address on as the socket's
		// route limit; its own search may find lo's temporary copy of
		// the address (stack.AddrIfIndex), so the NIC is named here.
		fa.NIC = tcpip.NICID(g.s.AddrIfIndex(ap.Addr()))
	}
	if !ap.Addr().IsUnspecified() && !ap.Addr().IsMulticast() && !g.s.IsLocalAddr(ap.Addr()) && !g.s.IsBroadcast(ap.Addr()) && fa.NIC == 0 {
		// A non-local address (IP_FREEBIND, IP_TRANSPARENT,
		// ip_nonlocal_bind): named with the interface its route leaves
		// through, where it would be assigned.
		fa.NIC = nonLocalBindNIC(g.s, ap.Addr())
	}
	return fa
}

// bindableAddr is inet_addr_valid_or_nonlocal: any, a local, multicast or
// broadcast address, or anything under net.ipv4.ip_nonlocal_bind.
func bindableAddr(s *stack.Stack, a netip.Addr) bool {
	return a.IsUnspecified() || a.IsMulticast() || s.IsLocalAddr(a) || s.IsBroadcast(a) ||
		s.Sysctl().Int("net.ipv4.ip_nonlocal_bind") != 0
}

// checkPrivilegedPort is inet_bind's rule for ports below
// net.ipv4.ip_unprivileged_port_start.
func checkPrivilegedPort(s *stack.Stack, port uint16) error {
	if port != 0 && int(port) < s.Sysctl().Int("net.ipv4.ip_unprivileged_port_start") && !s.Caps().Has(stack.CapNetBindService) {
		return unix.EACCES
	}
	return nil
}
