package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// IPv6 of the sandbox's namespace (issue 14): PreInit takes each Ethernet
// interface's IPv6 addresses (link-local ones included) and the IPv6
// routes through it, then turns the kernel's IPv6 off on that interface
// (net.ipv6.conf.<if>.disable_ipv6 = 1, which drops its addresses and
// routes) so that only the netsandbox stack answers neighbour
// solicitations and packets for them, as the IPv4 addresses are removed.

// ipv6Addr returns the prefix of an interface address that is IPv6 (not
// v4-mapped), and false for any other.
func ipv6Addr(a net.Addr) (netip.Prefix, bool) {
	ipn, ok := a.(*net.IPNet)
	if !ok || ipn.IP.To4() != nil || len(ipn.IP) != net.IPv6len {
		return netip.Prefix{}, false
	}
	ip, _ := netip.AddrFromSlice(ipn.IP)
	bits, _ := ipn.Mask.Size()
	return netip.PrefixFrom(ip, bits), true
}

// takeIPv6 adds the IPv6 routes of cfg's links to cfg and turns the
// kernel's IPv6 off on every link that had an IPv6 address.
func takeIPv6(cfg *initConfig) error {
	routes, err := readRoutes(unix.AF_INET6)
	if err != nil {
		return err
	}
	for _, r := range routes {
		for _, l := range cfg.Links {
			if l.Index == r.Index && len(l.Addrs6) > 0 {
				cfg.Routes6 = append(cfg.Routes6, r)
				break
			}
		}
	}
	for _, l := range cfg.Links {
		if len(l.Addrs6) == 0 {
			continue
		}
		err := os.WriteFile("/proc/sys/net/ipv6/conf/"+l.Name+"/disable_ipv6", []byte("1"), 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("netsandbox plugin: turning the kernel's IPv6 off on %q: %w", l.Name, err)
		}
	}
	return nil
}
