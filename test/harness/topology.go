package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
)

// Addressing shared by every topology, so both DUT kinds face identical
// peers. 198.18.0.0/15 is reserved for benchmarking (RFC 2544) and never
// routed, and it only exists inside our namespaces.
var (
	DUTAddr  = netip.MustParseAddr("198.18.0.2")
	PeerAddr = netip.MustParseAddr("198.18.0.1")
)

// PrefixLen is the length of the shared subnet.
const PrefixLen = 24

// Topology is a pair of namespaces, DUT and Peer, joined by a veth pair whose
// ends are both called eth0 (ifindex 2 in each namespace; lo is 1).
type Topology struct {
	DUTNS, PeerNS string
}

// NewTopology creates <prefix><tag>-dut and <prefix><tag>-peer. The peer end
// always gets PeerAddr; the DUT end gets DUTAddr only if dutAddr is set (the
// netsandbox DUT leaves its kernel end unaddressed and owns the address in
// userspace). On error everything created so far is removed.
func NewTopology(prefix, tag string, dutAddr bool) (t *Topology, err error) {
	t = &Topology{DUTNS: prefix + tag + "-dut", PeerNS: prefix + tag + "-peer"}
	defer func() {
		if err != nil {
			t.Close()
			t = nil
		}
	}()
	for _, ns := range []string{t.DUTNS, t.PeerNS} {
		if err := AddNetns(ns); err != nil {
			return t, err
		}
	}
	// Created directly inside the namespaces so that each namespace sees
	// only lo (1) and eth0 (2).
	if _, err := runIP("-n", t.DUTNS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", t.PeerNS); err != nil {
		return t, err
	}
	for _, ns := range []string{t.DUTNS, t.PeerNS} {
		// No IPv6: keeps router solicitations and the like off the wire.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6", "net.ipv6.conf.eth0.disable_ipv6"} {
			if err := WriteSysctl(ns, k, "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return t, err
			}
		}
		if _, err := runIP("-n", ns, "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	if _, err := runIP("-n", t.PeerNS, "addr", "add", fmt.Sprintf("%s/%d", PeerAddr, PrefixLen), "dev", "eth0"); err != nil {
		return t, err
	}
	if dutAddr {
		if _, err := runIP("-n", t.DUTNS, "addr", "add", fmt.Sprintf("%s/%d", DUTAddr, PrefixLen), "dev", "eth0"); err != nil {
			return t, err
		}
	}
	for _, ns := range []string{t.DUTNS, t.PeerNS} {
		if err := disableTxChecksum(ns, "eth0"); err != nil {
			return t, err
		}
	}
	for _, ns := range []string{t.DUTNS, t.PeerNS} {
		if _, err := runIP("-n", ns, "link", "set", "eth0", "up"); err != nil {
			return t, err
		}
		if err := checkIfindexes(ns); err != nil {
			return t, err
		}
	}
	return t, nil
}

// checkIfindexes verifies the layout scenarios depend on.
func checkIfindexes(ns string) error {
	return InNetns(ns, func() error {
		for name, want := range map[string]int{"lo": 1, "eth0": 2} {
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

// Close deletes both namespaces (and with them the veth pair). It is safe to
// call on a partly built topology and more than once.
func (t *Topology) Close() error {
	var errs []error
	for _, ns := range []string{t.DUTNS, t.PeerNS} {
		live.Lock()
		ours := live.names[ns]
		live.Unlock()
		if ours {
			if err := DelNetns(ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
