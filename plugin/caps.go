package plugin

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/syserr"
)

// The stack is built with every capability (stack.AllCaps): its checks
// are the sandbox root's. A task's own capabilities are checked here,
// before the endpoint, for the requests whose check Linux makes before
// the endpoint would fail them otherwise. Checks not covered here
// (SO_BINDTODEVICE rebinding, SIOCSIF*, TCP_CONGESTION outside the allowed
// list, IP_OPTIONS' CIPSO, the SO_* extensions) still take the stack's.

// nsCapable is sockopt_ns_capable / ns_capable(net->user_ns, cp).
func nsCapable(t *kernel.Task, cp linux.Capability) bool {
	return t.HasCapabilityIn(cp, t.NetworkNamespace().UserNamespace())
}

// capable is sockopt_capable / capable(cp): the sandbox's root user
// namespace.
func capable(t *kernel.Task, cp linux.Capability) bool {
	return t.HasCapabilityIn(cp, t.Kernel().RootUserNamespace())
}

// bindCapCheck is __inet_bind's port check for TCP, UDP and UDP-Lite
// (raw and ping sockets bind no port): a port below
// net.ipv4.ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE. Linux
// checks the address first (EADDRNOTAVAIL); an unprivileged task binding
// a non-local address to a low port gets EACCES here instead.
func (s *sock) bindCapCheck(t *kernel.Task, sa []byte) *syserr.Error {
	switch s.protocol {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE:
	default:
		return nil
	}
	if s.skType == linux.SOCK_RAW || len(sa) < linux.SockAddrInetSize {
		return nil
	}
	family := binary.NativeEndian.Uint16(sa)
	if s.family == linux.AF_INET6 {
		// inet6_bind reads a sockaddr_in6 (SIN6_LEN_RFC2133 bytes and up).
		if family != linux.AF_INET6 || len(sa) < 24 {
			return nil
		}
	} else if addr := sa[4:8]; family != linux.AF_INET && (family != linux.AF_UNSPEC || addr[0]|addr[1]|addr[2]|addr[3] != 0) {
		return nil
	}
	port := int(binary.BigEndian.Uint16(sa[2:4]))
	st := theStack.ns()
	if port == 0 || st == nil || port >= st.Sysctl().Int("net.ipv4.ip_unprivileged_port_start") {
		return nil
	}
	if !nsCapable(t, linux.CAP_NET_BIND_SERVICE) {
		return syserr.ErrPermissionDenied
	}
	return nil
}

// setSockOptCapCheck is the capability part of sk_setsockopt and
// do_ip_setsockopt (do_ipv6_setsockopt) for the options that need CAP_NET_ADMIN or
// CAP_NET_RAW, in their order: after the length check where Linux makes
// it first (the endpoint makes it again and answers EINVAL).
func setSockOptCapCheck(t *kernel.Task, level, name int, opt []byte) *syserr.Error {
	switch level {
	case linux.SOL_SOCKET:
		if len(opt) < 4 {
			return nil
		}
		v := int32(binary.NativeEndian.Uint32(opt))
		rawOrAdmin := func() bool { return nsCapable(t, linux.CAP_NET_RAW) || nsCapable(t, linux.CAP_NET_ADMIN) }
		switch name {
		case linux.SO_PRIORITY:
			if (v < 0 || v > 6) && !rawOrAdmin() {
				return syserr.ErrNotPermitted
			}
		case linux.SO_MARK:
			if !rawOrAdmin() {
				return syserr.ErrNotPermitted
			}
		case linux.SO_RCVBUFFORCE, linux.SO_SNDBUFFORCE:
			if !capable(t, linux.CAP_NET_ADMIN) {
				return syserr.ErrNotPermitted
			}
		case linux.SO_DEBUG:
			if v != 0 && !capable(t, linux.CAP_NET_ADMIN) {
				return syserr.ErrPermissionDenied
			}
		}
	case linux.SOL_IP:
		if name != linux.IP_TRANSPARENT {
			return nil
		}
		// do_ip_setsockopt reads an int, or a byte under four bytes.
		var v int32
		switch {
		case len(opt) >= 4:
			v = int32(binary.NativeEndian.Uint32(opt))
		case len(opt) >= 1:
			v = int32(opt[0])
		}
		if v != 0 && !nsCapable(t, linux.CAP_NET_RAW) && !nsCapable(t, linux.CAP_NET_ADMIN) {
			return syserr.ErrNotPermitted
		}
	case linux.SOL_IPV6:
		// do_ipv6_setsockopt reads an int, 0 under four bytes.
		if name != linux.IPV6_TRANSPARENT || len(opt) < 4 || binary.NativeEndian.Uint32(opt) == 0 {
			return nil
		}
		if !nsCapable(t, linux.CAP_NET_RAW) && !nsCapable(t, linux.CAP_NET_ADMIN) {
			return syserr.ErrNotPermitted
		}
	}
	return nil
}
