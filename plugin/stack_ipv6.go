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

// addIPv6Routes appends the stack's IPv6 routes to out, for netlink's
// RTM_GETROUTE (ip -6 route): as the IPv4 ones, lo's in the local table.
func addIPv6Routes(st *stack.Stack, out []inet.Route) []inet.Route {
	for _, r := range st.Gvisor().GetRouteTable() {
		if r.Destination.ID().Len() != 16 {
			continue
		}
		dst := r.Destination.ID().As16()
		ir := inet.Route{
			Family:          afInet6,
			DstLen:          uint8(r.Destination.Prefix()),
			Table:           rtTableMain,
			Protocol:        rtprotKernel,
			Scope:           rtScopeUniv,
			Type:            rtnUnicast,
			DstAddr:         dst[:],
			OutputInterface: int32(r.NIC),
		}
		if r.Gateway.Len() == 16 {
			gw := r.Gateway.As16()
			ir.GatewayAddr = gw[:]
			ir.Protocol = rtprotBoot
		}
		if r.NIC == loopbackIndex {
			ir.Table, ir.Type, ir.Scope = rtTableLocal, rtnLocal, rtScopeHost
		}
		out = append(out, ir)
	}
	return out
}
