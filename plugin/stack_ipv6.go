package plugin

import (
	"gvisor.dev/gvisor/pkg/sentry/inet"

	"netsandbox/stack"
)

// afInet6 is AF_INET6.
const afInet6 = 10

// addIPv6Addrs appends every interface's IPv6 addresses to out, for
// netlink's RTM_GETADDR and /proc/net/if_inet6.
func addIPv6Addrs(st *stack.Stack, out map[int32][]inet.InterfaceAddr) {
	for idx, ps := range st.Addrs6() {
		for _, p := range ps {
			a := p.Addr().As16()
			out[int32(idx)] = append(out[int32(idx)], inet.InterfaceAddr{
				Family:    afInet6,
				PrefixLen: uint8(p.Bits()),
				Flags:     ifaPermanent,
				Addr:      a[:],
			})
		}
	}
}
