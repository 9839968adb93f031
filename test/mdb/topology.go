// Package mdb proves netsandbox's IGMPv3 host side against two outside
// judges: a Linux bridge doing IGMPv3 snooping (its multicast database, as
// `bridge -d -j mdb show` prints it, must hold the same state for a
// netsandbox port as for a kernel port after the same socket calls) and
// tshark's IGMP decoder (the reports both hosts send must decode to the same
// records, with TTL 1, Router Alert and good checksums).
package mdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/link/fdbased"
	"netsandbox/stack"
	"netsandbox/test/harness"
)

// Addresses inside the test's own namespaces (198.18.0.0/15 is the
// benchmarking range, routed nowhere). The bridge itself has no address: its
// querier then sends queries from 0.0.0.0, as a plain snooping switch does.
var (
	KernelAddr     = netip.MustParseAddr("198.18.0.2")
	NetsandboxAddr = netip.MustParseAddr("198.18.0.3")
)

const prefixLen = 24

// Roles name the two hosts wherever ports or addresses would differ.
const (
	RoleKernel     = "kernel"
	RoleNetsandbox = "netsandbox"
)

// Bridge timers, in centiseconds as ip-link(8) takes them. General queries
// come only when the test asks (querier toggled), not on a timer: the
// periodic and startup intervals are longer than the whole test, so every
// query a host answers has a known cause. The last-member interval is short
// so that a source or group a host stops wanting leaves the database within
// a few hundred milliseconds (2 queries 100 ms apart).
const (
	queryInterval      = 30000 // 300 s
	queryResponseIvl   = 30    // 300 ms: answers to general queries come within it
	lastMemberInterval = 10    // 100 ms
)

// Port is one host's side of the bridge.
type Port struct {
	Role     string
	BridgeIf string     // the bridge port (a veth end in the bridge namespace)
	HostNS   string     // the host's namespace (its end is eth0)
	Addr     netip.Addr // the host's address
}

// Topology is a bridge namespace whose br0 snoops IGMPv3 and is the querier,
// with one port to a kernel host namespace and one to a namespace whose eth0
// carries a netsandbox stack.
type Topology struct {
	BridgeNS   string
	Kernel     Port
	Netsandbox Port
	// Stack is the netsandbox host; KernelHost makes sockets in the kernel
	// host's namespace.
	Stack             *stack.Stack
	NetsandboxIfindex int
	KernelHost        *harness.KernelHost

	created []string
	closers []func()
}

// NewTopology builds the bridge, speaking IGMP version igmpVersion (2 or
// 3), and both hosts. tag makes the namespace names distinct within the run
// (the run prefix makes them distinct across runs). On error everything
// made so far is removed.
func NewTopology(tag string, igmpVersion int) (t *Topology, err error) {
	p := harness.RunPrefix() + tag
	t = &Topology{
		BridgeNS:   p + "-br",
		Kernel:     Port{Role: RoleKernel, BridgeIf: "pk", HostNS: p + "-k", Addr: KernelAddr},
		Netsandbox: Port{Role: RoleNetsandbox, BridgeIf: "pn", HostNS: p + "-n", Addr: NetsandboxAddr},
	}
	defer func() {
		if err != nil {
			t.Close()
			t = nil
		}
	}()
	for _, ns := range []string{t.BridgeNS, t.Kernel.HostNS, t.Netsandbox.HostNS} {
		if err := harness.AddNetns(ns); err != nil {
			return t, err
		}
		t.created = append(t.created, ns)
		// No IPv6: no MLD entries in the database, no stray traffic.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err := harness.WriteSysctl(ns, k, "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return t, err
			}
		}
		if err := ip("-n", ns, "link", "set", "lo", "up"); err != nil {
			return t, err
		}
	}
	if err := ip("-n", t.BridgeNS, "link", "add", "br0", "type", "bridge",
		"mcast_snooping", "1", "mcast_querier", "1", "mcast_igmp_version", fmt.Sprint(igmpVersion),
		"mcast_query_interval", fmt.Sprint(queryInterval),
		"mcast_startup_query_interval", fmt.Sprint(queryInterval),
		"mcast_query_response_interval", fmt.Sprint(queryResponseIvl),
		"mcast_last_member_interval", fmt.Sprint(lastMemberInterval)); err != nil {
		return t, err
	}
	for _, port := range []Port{t.Kernel, t.Netsandbox} {
		// Made from the host's side so that its eth0 is ifindex 2 there.
		if err := ip("-n", port.HostNS, "link", "add", "eth0", "type", "veth", "peer", "name", port.BridgeIf, "netns", t.BridgeNS); err != nil {
			return t, err
		}
		if err := ip("-n", t.BridgeNS, "link", "set", port.BridgeIf, "master", "br0"); err != nil {
			return t, err
		}
		// Everything a kernel device sends toward the netsandbox end must
		// carry finished checksums (see fdbased.DisableTxOffload); the
		// kernel host's end too, so both ports see the same kind of frames.
		for _, d := range []struct{ ns, dev string }{{t.BridgeNS, port.BridgeIf}, {port.HostNS, "eth0"}} {
			if err := harness.InNetns(d.ns, func() error { return fdbased.DisableTxOffload(d.dev) }); err != nil {
				return t, err
			}
		}
		if err := ip("-n", t.BridgeNS, "link", "set", port.BridgeIf, "up"); err != nil {
			return t, err
		}
	}
	if err := ip("-n", t.BridgeNS, "link", "set", "br0", "up"); err != nil {
		return t, err
	}
	if err := ip("-n", t.Kernel.HostNS, "addr", "add", fmt.Sprintf("%s/%d", KernelAddr, prefixLen), "dev", "eth0"); err != nil {
		return t, err
	}
	if err := ip("-n", t.Kernel.HostNS, "link", "set", "eth0", "up"); err != nil {
		return t, err
	}
	t.KernelHost = harness.NewKernelHost(RoleKernel, t.Kernel.HostNS)
	if err := t.attachNetsandbox(); err != nil {
		return t, err
	}
	return t, nil
}

// attachNetsandbox gives the netsandbox namespace's eth0 (which keeps no
// address of its own) to a stack with every capability, as root has.
func (t *Topology) attachNetsandbox() error {
	st, err := stack.New(stack.Config{Caps: stack.AllCaps, GID: 0})
	if err != nil {
		return fmt.Errorf("stack.New: %w", err)
	}
	t.closers = append(t.closers, st.Close)
	var ep gstack.LinkEndpoint
	if err := harness.InNetns(t.Netsandbox.HostNS, func() error {
		var aerr error
		ep, _, aerr = fdbased.AttachInterface("eth0", fdbased.Options{})
		return aerr
	}); err != nil {
		return err
	}
	idx, err := st.AddInterface("eth0", ep)
	if err != nil {
		return fmt.Errorf("AddInterface: %w", err)
	}
	pfx := netip.PrefixFrom(NetsandboxAddr, prefixLen)
	if err := st.AddAddress(idx, pfx); err != nil {
		return fmt.Errorf("AddAddress: %w", err)
	}
	// AddAddress may already have made the subnet route.
	if err := st.AddRoute(pfx.Masked(), netip.Addr{}, idx); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("AddRoute: %w", err)
	}
	t.Stack, t.NetsandboxIfindex = st, idx
	return nil
}

// GeneralQuery makes the bridge send a general query now: turning its
// querier off and on restarts it, and a starting querier queries at once.
func (t *Topology) GeneralQuery() error {
	if err := ip("-n", t.BridgeNS, "link", "set", "br0", "type", "bridge", "mcast_querier", "0"); err != nil {
		return err
	}
	return ip("-n", t.BridgeNS, "link", "set", "br0", "type", "bridge", "mcast_querier", "1")
}

// Close stops the stack and deletes the namespaces (with them the bridge
// and the veth pairs). Safe on a partly built topology and more than once.
func (t *Topology) Close() error {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
	var errs []error
	for _, ns := range t.created {
		if err := harness.DelNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	t.created = nil
	return errors.Join(errs...)
}

// toolTimeout bounds every ip(8), bridge(8) and tshark run.
const toolTimeout = 10 * time.Second

// run runs a tool with a deadline and returns its standard output.
func run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func ip(args ...string) error {
	_, err := run("ip", args...)
	return err
}
