package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// IPV6_FREEBIND and IPV6_TRANSPARENT, on every AF_INET6 kind. Linux keeps
// them as IPv4's FREEBIND and TRANSPARENT bits, so SOL_IP's names read
// and set the same ones, and either lets bind(2) take an address no
// interface has (ipv6_can_nonlocal_bind). UDP sends from such an address
// (netsandbox writes its header); a TCP connect or a raw or ping send
// from it is missing: gVisor's routes refuse a source no NIC has.

// setNonLocal6 is do_ipv6_setsockopt's IPV6_FREEBIND and IPV6_TRANSPARENT:
// an int (EINVAL), and TRANSPARENT on needs CAP_NET_RAW or CAP_NET_ADMIN
// (EPERM), as IPv4's.
func (b *base) setNonLocal6(name int, val []byte) error {
	v, err := intVal(val)
	if err != nil {
		return err
	}
	var iv [4]byte
	options.PutInt32(iv[:], int32(v))
	return b.setCommon(unix.SOL_IP, v4Twin(name), iv[:])
}

// v4Twin is the IPv4 option whose bit an IPv6 one shares.
func v4Twin(name int) int {
	if name == unix.IPV6_FREEBIND {
		return unix.IP_FREEBIND
	}
	return unix.IP_TRANSPARENT
}

func (b *base) getNonLocal6(name int, buf []byte) int {
	x := b.optsSnapshot().ext
	on := x.transparent
	if name == unix.IPV6_FREEBIND {
		on = x.freebind
	}
	return putInt6(buf, boolInt(on))
}

// bindEndpoint6 is gVisor's Bind of an address the socket's bind(2)
// checks passed, a non-local one only under FREEBIND or TRANSPARENT: a
// non-local IPv6 address is bound with gVisor's local-address check
// lifted (stack.BindNonLocal6), a non-local v4-mapped one names the
// interface its route leaves through, which is all gVisor's IPv4 check
// asks (gvisorBindAddress's rule).
func (k *gsock) bindEndpoint6(fa tcpip.FullAddress) tcpip.Error {
	if fa.Addr.Len() != 16 {
		return k.endpoint().Bind(fa)
	}
	a := netip.AddrFrom16(fa.Addr.As16())
	switch {
	case a.IsMulticast():
	case a.Is4In6():
		u := a.Unmap()
		if fa.NIC == 0 && !u.IsUnspecified() && !u.IsMulticast() && !k.s.IsLocalAddr(u) && !k.s.IsBroadcast(u) {
			fa.NIC = nonLocalBindNIC(k.s, u)
		}
	case !k.s.IsLocalAddr6(a):
		return k.s.BindNonLocal6(a, int(fa.NIC), func(nic tcpip.NICID) tcpip.Error {
			fa.NIC = nic
			return k.endpoint().Bind(fa)
		})
	}
	return k.endpoint().Bind(fa)
}
