package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// ipExtOpts are SOL_IP options kept in our layer beside sockOpts' common
// ones, guarded by optMu.
type ipExtOpts struct {
	// ipOptions is IP_OPTIONS as compiled for sending (nil = none). Our
	// UDP and raw sockets (through Stack.SendRawIP) put them on the wire,
	// the stack's IPv4 wrapper those of TCP and ping sockets (tcp_ipopts.go).
	ipOptions *options.IPOptions
	// ipOptionsSet: IP_OPTIONS was set (Linux's inet_opt is not NULL),
	// even to nothing.
	ipOptionsSet bool
	// freebind and transparent let bind(2) take a non-local address.
	freebind, transparent bool
	// nodefrag is IP_NODEFRAG (raw only): it only steers netfilter's
	// defragmentation in Linux, which the stack does not have.
	nodefrag bool
	// minTTL is IP_MINTTL. Linux checks it only for TCP (tcp_v4_rcv),
	// and so does netsandbox (tcp_minttl.go, the stack's TCP wrapper); its
	// UDP ignores it, and so does ours.
	minTTL uint8
	// routerAlert is IP_ROUTER_ALERT on a raw socket: Linux hands it the
	// forwarded packets carrying a Router Alert option; the stack does not
	// forward, so, as on a Linux host with forwarding off, none arrive.
	routerAlert bool
	// portRange is IP_LOCAL_PORT_RANGE (lo | hi<<16): our UDP and, by
	// binding explicitly (tcp_bindport.go), TCP take ephemeral ports from
	// it. Raw and ping sockets have no ephemeral ports in Linux either.
	portRange uint32
	// bindNoPort is IP_BIND_ADDRESS_NO_PORT: bind(addr, 0) leaves the
	// port to connect or listen (TCP, tcp_bindport.go) or to the first
	// send (UDP).
	bindNoPort bool
	// ucIndex is IP_UNICAST_IF: the interface unicast and limited
	// broadcast datagrams leave through when nothing else names one. It
	// steers our UDP's sends and connect; Linux's TCP ignores it (measured:
	// connect routes as without it), so TCP only keeps it; raw and ping
	// sends it steers are built by the stack (dgram_sendctl.go).
	ucIndex int
}

// setIPExtLocked sets one of the options above with do_ip_setsockopt's
// checks in its order; optMu is held. v is the value read as an IP int.
func (b *base) setIPExtLocked(name int, val []byte, v int) error {
	x := &b.opts.ext
	switch name {
	case unix.IP_FREEBIND:
		if len(val) < 1 {
			return unix.EINVAL
		}
		x.freebind = v != 0
	case unix.IP_TRANSPARENT:
		caps := b.s.Caps()
		if v != 0 && !caps.Has(stack.CapNetRaw) && !caps.Has(stack.CapNetAdmin) {
			return unix.EPERM
		}
		if len(val) < 1 {
			return unix.EINVAL
		}
		x.transparent = v != 0
	case unix.IP_MINTTL:
		if len(val) < 1 || v < 0 || v > 255 {
			return unix.EINVAL
		}
		if b.typ == unix.SOCK_STREAM && !b.s.TCPMinTTLSupported() {
			return unix.ENOPROTOOPT
		}
		x.minTTL = uint8(v)
	case unix.IP_NODEFRAG:
		if b.typ != unix.SOCK_RAW {
			return unix.ENOPROTOOPT
		}
		x.nodefrag = v != 0
	case unix.IP_ROUTER_ALERT:
		// ip_ra_control: only raw sockets of a real protocol; joining twice
		// is EADDRINUSE, leaving when not joined ENOBUFS (measured).
		if b.typ != unix.SOCK_RAW || b.proto == unix.IPPROTO_RAW {
			return unix.EINVAL
		}
		on := v != 0
		if on && x.routerAlert {
			return unix.EADDRINUSE
		}
		if !on && !x.routerAlert {
			return unix.ENOBUFS
		}
		x.routerAlert = on
	case unix.IP_BIND_ADDRESS_NO_PORT:
		x.bindNoPort = v != 0
	case unix.IP_UNICAST_IF:
		if len(val) != 4 {
			return unix.EINVAL
		}
		ifindex := int(int32(binary.BigEndian.Uint32(val)))
		if ifindex == 0 {
			x.ucIndex = 0
			return nil
		}
		if _, ok := b.s.InterfaceByIndex(ifindex); !ok {
			return unix.EADDRNOTAVAIL
		}
		if b.opts.bindIf != 0 {
			return unix.EINVAL
		}
		x.ucIndex = ifindex
	case unix.IP_LOCAL_PORT_RANGE:
		lo, hi := uint16(v), uint16(uint32(v)>>16)
		if len(val) != 4 || lo != 0 && hi != 0 && lo > hi {
			return unix.EINVAL
		}
		x.portRange = uint32(v)
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// setIPOptions is IP_OPTIONS: more than 40 bytes is EINVAL, then the
// options are compiled (which may look up a route, so before optMu).
func (b *base) setIPOptions(val []byte) error {
	if len(val) > 40 {
		return unix.EINVAL
	}
	if b.ipOptionsUnsupported() {
		return unix.ENOPROTOOPT
	}
	opt, err := b.compileIPOptions(val)
	if err != nil {
		return err
	}
	b.optMu.Lock()
	defer b.optMu.Unlock()
	// Linux keeps an options object even for an empty value.
	b.opts.ext.ipOptions, b.opts.ext.ipOptionsSet = opt, true
	return nil
}

// remoteUnicast is inet_addr_type(addr) == RTN_UNICAST for a prespecified
// timestamp: a routable address that is not ours, broadcast or multicast.
func (b *base) remoteUnicast(a netip.Addr) bool {
	if a.IsUnspecified() || a.IsMulticast() || b.s.IsLocalAddr(a) || b.s.IsBroadcast(a) {
		return false
	}
	_, _, err := b.s.RouteSource(a, 0)
	return err == nil
}

// getIPExt reads one of the options above, with do_ip_getsockopt's
// length rules.
func (b *base) getIPExt(name int, o sockOpts, buf []byte) (int, error) {
	x := o.ext
	var v int
	switch name {
	case unix.IP_OPTIONS:
		// The options as the user set them (ip_options_undo), cut to
		// the caller's buffer.
		return copy(buf, x.ipOptions.User()), nil
	case unix.IP_FREEBIND:
		v = boolInt(x.freebind)
	case unix.IP_TRANSPARENT:
		v = boolInt(x.transparent)
	case unix.IP_MINTTL:
		v = int(x.minTTL)
	case unix.IP_NODEFRAG:
		v = boolInt(x.nodefrag)
	case unix.IP_ROUTER_ALERT:
		v = boolInt(x.routerAlert)
	case unix.IP_LOCAL_PORT_RANGE:
		v = int(int32(x.portRange))
	case unix.IP_BIND_ADDRESS_NO_PORT:
		v = boolInt(x.bindNoPort)
	case unix.IP_UNICAST_IF:
		// htonl(uc_index) read back as a native int.
		v = int(int32(binary.NativeEndian.Uint32(binary.BigEndian.AppendUint32(nil, uint32(x.ucIndex)))))
	case unix.IP_MULTICAST_IF:
		if b.typ != unix.SOCK_STREAM {
			return 0, unix.ENOPROTOOPT
		}
		// A stream socket cannot set it (EINVAL), so its mc_addr stays
		// 0.0.0.0, given as an in_addr cut to the caller's length.
		var zero [4]byte
		return copy(buf, zero[:]), nil
	default:
		return 0, unix.ENOPROTOOPT
	}
	return options.PutIPInt(buf, int32(v)), nil
}

// freeBind tells whether bind(2) may take a non-local address.
func (o sockOpts) freeBind() bool { return o.ext.freebind || o.ext.transparent }

// nonLocalBindNIC is the interface gVisor's TCP is told a non-local bound
// address belongs to: the one its route leaves through, else lo.
func nonLocalBindNIC(s *stack.Stack, a netip.Addr) tcpip.NICID {
	if _, ifindex, err := s.RouteSource(a, 0); err == nil && ifindex != 0 {
		return tcpip.NICID(ifindex)
	}
	return loopbackIfIndex
}

// unicastIf applies IP_UNICAST_IF to the output interface of a datagram to
// dst, as udp_sendmsg and ip4_datagram_connect do: it names the interface
// of a unicast destination when nothing (SO_BINDTODEVICE, IP_PKTINFO) did,
// and overrides the bound device for 255.255.255.255.
func unicastIf(oif int, dst netip.Addr, o sockOpts) int {
	uc := o.ext.ucIndex
	switch {
	case dst.IsMulticast() || uc == 0:
	case oif == 0:
		return uc
	case dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return uc
	}
	return oif
}

// compileIPOptions validates IP options from setsockopt or an IP_RETOPTS
// control message (ip_options_get).
func (b *base) compileIPOptions(val []byte) (*options.IPOptions, error) {
	return options.CompileIPOptions(val, b.s.Caps().Has(stack.CapNetRaw), b.remoteUnicast)
}
