package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// getIPMTU is IP_MTU on a gVisor-backed socket: the path MTU towards the
// connected peer, ENOTCONN without one.
func (g *gsock) getIPMTU(buf []byte) (int, error) {
	remote, e := g.endpoint().GetRemoteAddress()
	if e != nil || remote.Addr.Len() != 4 {
		return 0, unix.ENOTCONN
	}
	var local netip.Addr
	if l, e := g.endpoint().GetLocalAddress(); e == nil && l.Addr.Len() == 4 {
		local = netip.AddrFrom4(l.Addr.As4())
	}
	mtu, err := g.s.PathMTU(local, netip.AddrFrom4(remote.Addr.As4()), g.optsSnapshot().bindIf)
	if err != nil || mtu == 0 {
		return 0, unix.ENOTCONN
	}
	return options.PutIPInt(buf, int32(mtu)), nil
}
