package harness

import (
	"fmt"
	"net/netip"
)

// IPv6 on the DUT-peer veth, for the scenarios that need IPv6 traffic on
// the wire (the topology keeps IPv6 off every link, ipv6/ scenarios use
// lo). EnableIPv6Link turns it on for one scenario only, and the runner
// undoes it when the scenario ends: the sysctls through Env.SetSysctl,
// the peer's addresses through Env.Defer (and, were that to fail, with
// disable_ipv6 going back to 1, which drops them).

// EnableIPv6Link gives the peer's eth0 IPv6 with the addresses srcs (/64,
// no duplicate address detection, no link-local one: addr_gen_mode 1) and,
// on a kernel DUT, IPv6 on its eth0 without any address. Netsandbox DUTs
// run IPv6 on every interface already. Groups must then be joined on
// ifindex 2 and sent to with IPV6_MULTICAST_IF 2: neither side has an
// IPv6 route of its own.
func EnableIPv6Link(e *Env, srcs ...netip.Addr) error {
	peer, ok := untracked(e.Peer).(*KernelHost)
	if !ok {
		return fmt.Errorf("peer %s is not a kernel namespace", e.Peer.Name())
	}
	hosts := []Host{peer}
	if d, ok := untracked(e.DUT).(*KernelHost); ok {
		hosts = append(hosts, d)
	}
	for _, h := range hosts {
		for _, kv := range [][2]string{
			{"net.ipv6.conf.eth0.addr_gen_mode", "1"},
			{"net.ipv6.conf.eth0.accept_ra", "0"},
			{"net.ipv6.conf.eth0.disable_ipv6", "0"},
		} {
			if err := e.SetSysctl(h, kv[0], kv[1]); err != nil {
				return err
			}
		}
	}
	for _, a := range srcs {
		p := netip.PrefixFrom(a, 64)
		if _, err := runIP("-n", peer.ns, "addr", "add", p.String(), "dev", "eth0", "nodad"); err != nil {
			return err
		}
		e.Defer(func() { _, _ = runIP("-n", peer.ns, "addr", "del", p.String(), "dev", "eth0") })
	}
	return nil
}

// untracked is the host under the runner's socket tracking.
func untracked(h Host) Host {
	if t, ok := h.(trackedHost); ok {
		return t.Host
	}
	return h
}
