package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
)

// Addressing shared by every topology, so both DUT kinds face identical
// peers. 198.18.0.0/15 is reserved for benchmarking (RFC 2544), never
// routed, and here it only exists inside our namespaces.
var (
	DUTAddr  = netip.MustParseAddr("198.18.0.2")
	PeerAddr = netip.MustParseAddr("198.18.0.1") // also the DUT's router
	// The far subnet lies behind the peer, which forwards to it over a link
	// with a smaller MTU: the place for ICMP "time exceeded" and
	// "fragmentation needed".
	FarNet        = netip.MustParsePrefix("198.19.0.0/24")
	RouterFarAddr = netip.MustParseAddr("198.19.0.1")
	// FarAddrs are all on the far host; scenarios that change path state
	// (a learned PMTU) each use their own.
	FarAddrs = []netip.Addr{
		netip.MustParseAddr("198.19.0.2"), netip.MustParseAddr("198.19.0.3"),
		netip.MustParseAddr("198.19.0.4"), netip.MustParseAddr("198.19.0.5"),
		netip.MustParseAddr("198.19.0.6"), netip.MustParseAddr("198.19.0.7"),
	}
)

// PrefixLen is the length of the DUT's subnet.
const PrefixLen = 24

// FarMTU is the MTU of the peer-to-far link.
const FarMTU = 1280

// Topology is three namespaces in a line: DUT -- Peer -- Far. DUT and Peer
// are joined by a veth pair whose ends are both eth0 (ifindex 2 on each
// side; lo is 1); Peer (eth1, ifindex 3) and Far (eth0) by a second pair
// with MTU FarMTU. The peer forwards between the two.
type Topology struct {
	DUTNS, PeerNS, FarNS string
	created              []string // what Close may delete
}

func (t *Topology) namespaces() []string { return []string{t.DUTNS, t.PeerNS, t.FarNS} }

// NewTopology creates <prefix><tag>-dut, -peer and -far. The DUT end gets
// DUTAddr and a route to FarNet via the peer only if dutAddr is set (the
// netsandbox DUT leaves its kernel end unaddressed and owns the address and
// routes in userspace). On error everything created so far is removed.
func NewTopology(prefix, tag string, dutAddr bool) (t *Topology, err error) {
	t = &Topology{DUTNS: prefix + tag + "-dut", PeerNS: prefix + tag + "-peer", FarNS: prefix + tag + "-far"}
	defer func() {
		if err != nil {
			t.Close()
			t = nil
		}
	}()
	for _, ns := range t.namespaces() {
		if err := AddNetns(ns); err != nil {
			return t, err
		}
		t.created = append(t.created, ns)
		if err := pinLinuxDefaults(ns); err != nil {
			return t, err
		}
	}
	// Created directly inside the namespaces so that each new namespace
	// numbers its interfaces from scratch.
	if _, err := runIP("-n", t.DUTNS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", t.PeerNS); err != nil {
		return t, err
	}
	if _, err := runIP("-n", t.PeerNS, "link", "add", "eth1", "mtu", fmt.Sprint(FarMTU), "type", "veth", "peer", "name", "eth0", "netns", t.FarNS, "mtu", fmt.Sprint(FarMTU)); err != nil {
		return t, err
	}
	for _, ns := range t.namespaces() {
		// No IPv6: keeps router solicitations and the like off the wire.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err := WriteSysctl(ns, k, "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return t, err
			}
		}
		if _, err := runIP("-n", ns, "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	// IPv6 on the DUT's lo only (::1, for the ipv6 scenarios): nothing
	// leaves the namespace, as the netsandbox DUT's stack has ::1 on lo.
	if err := WriteSysctl(t.DUTNS, "net.ipv6.conf.lo.disable_ipv6", "0"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return t, err
	}
	if err := WriteSysctl(t.PeerNS, "net.ipv4.ip_forward", "1"); err != nil {
		return t, err
	}
	// Kernel peers answer every packet with its ICMP error: rate limiting
	// would make scenarios depend on what ran just before.
	for _, ns := range []string{t.PeerNS, t.FarNS} {
		if err := WriteSysctl(ns, "net.ipv4.icmp_ratemask", "0"); err != nil {
			return t, err
		}
	}
	type step struct {
		ns   string
		args []string
	}
	steps := []step{
		{t.PeerNS, []string{"addr", "add", fmt.Sprintf("%s/%d", PeerAddr, PrefixLen), "dev", "eth0"}},
		{t.PeerNS, []string{"addr", "add", fmt.Sprintf("%s/%d", RouterFarAddr, FarNet.Bits()), "dev", "eth1"}},
	}
	for _, a := range FarAddrs {
		steps = append(steps, step{t.FarNS, []string{"addr", "add", fmt.Sprintf("%s/%d", a, FarNet.Bits()), "dev", "eth0"}})
	}
	if dutAddr {
		steps = append(steps, step{t.DUTNS, []string{"addr", "add", fmt.Sprintf("%s/%d", DUTAddr, PrefixLen), "dev", "eth0"}})
	}
	for _, st := range steps {
		if _, err := runIP(append([]string{"-n", st.ns}, st.args...)...); err != nil {
			return t, err
		}
	}
	links := []struct{ ns, dev string }{{t.DUTNS, "eth0"}, {t.PeerNS, "eth0"}, {t.PeerNS, "eth1"}, {t.FarNS, "eth0"}}
	for _, ns := range t.namespaces() {
		if err := pinNeigh(ns, "lo"); err != nil {
			return t, err
		}
	}
	for _, l := range links {
		// Devices copy the host's neigh/default when they are made.
		if err := pinNeigh(l.ns, l.dev); err != nil {
			return t, err
		}
		if err := disableTxChecksum(l.ns, l.dev); err != nil {
			return t, err
		}
		if _, err := runIP("-n", l.ns, "link", "set", l.dev, "up"); err != nil {
			return t, err
		}
	}
	routes := []step{{t.FarNS, []string{"route", "add", "default", "via", RouterFarAddr.String()}}}
	if dutAddr {
		routes = append(routes, step{t.DUTNS, []string{"route", "add", FarNet.String(), "via", PeerAddr.String()}})
	}
	for _, st := range routes {
		if _, err := runIP(append([]string{"-n", st.ns}, st.args...)...); err != nil {
			return t, err
		}
	}
	for ns, want := range map[string]map[string]int{
		t.DUTNS:  {"lo": 1, "eth0": 2},
		t.PeerNS: {"lo": 1, "eth0": 2, "eth1": 3},
		t.FarNS:  {"lo": 1, "eth0": 2},
	} {
		if err := checkIfindexes(ns, want); err != nil {
			return t, err
		}
	}
	return t, nil
}

// checkIfindexes verifies the layout scenarios depend on.
func checkIfindexes(ns string, layout map[string]int) error {
	return InNetns(ns, func() error {
		for name, want := range layout {
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", ns, name, err)
			}
			if ifi.Index != want {
				return fmt.Errorf("%s: %s has ifindex %d, want %d", ns, name, ifi.Index, want)
			}
		}
		return nil
	})
}

// Close deletes the namespaces (and with them the veth pairs). It is safe to
// call on a partly built topology and more than once.
func (t *Topology) Close() error {
	var errs []error
	for _, ns := range t.created {
		if err := DelNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	t.created = nil
	return errors.Join(errs...)
}
