package plugin

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/sentry/socket/plugin"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"

	"netsandbox/stack"
)

// sandboxSysctl are the knobs the sandbox's stack starts with where they
// differ from Linux's defaults. ping_group_range admits every group, as
// container runtimes set it (Docker, containerd), so unprivileged ping
// works as it does in stock gVisor.
var sandboxSysctl = map[string]string{
	"net.ipv4.ping_group_range": "0 2147483647",
}

// Init implements plugin.PluginStack.Init. It runs inside the sentry
// before its seccomp filter is installed, without CAP_NET_RAW: every fd it
// uses came from PreInit. The links read with recvmmsg(2) (gVisor fdbased's
// RecvMMsg mode), the only read the sentry's filter allows on them besides
// read(2).
func (s *Stack) Init(args *plugin.InitStackArgs) error {
	cfg, err := decodeInitConfig(args.InitStr, len(args.FDs))
	if err != nil {
		closeAll(args.FDs)
		return err
	}
	// Capabilities are checked per task by the socket provider (CAP_NET_RAW
	// for SOCK_RAW); the stack itself allows what the sandbox's root may.
	sysctl := make(map[string]string, len(sandboxSysctl)+len(cfg.Sysctl))
	for _, m := range []map[string]string{cfg.Sysctl, sandboxSysctl} {
		for k, v := range m {
			sysctl[k] = v
		}
	}
	st, err := stack.New(stack.Config{Caps: stack.AllCaps, Sysctl: sysctl})
	if err != nil {
		closeAll(args.FDs)
		return fmt.Errorf("netsandbox plugin: creating the stack: %w", err)
	}
	ifindex := make(map[int]int) // host ifindex -> our ifindex
	for i, l := range cfg.Links {
		ep, err := fdbased.New(&fdbased.Options{
			FDs:                []int{args.FDs[i]},
			MTU:                l.MTU,
			EthernetHeader:     true,
			Address:            tcpip.LinkAddress(l.MAC),
			PacketDispatchMode: fdbased.RecvMMsg,
			// The kernel hands a packet socket the frames of a local peer
			// (a veth) with their checksums unfinished; runsc trusts
			// received checksums the same way.
			RXChecksumOffload: true,
			// One goroutine per link keeps a source's frames in order.
			ProcessorsPerChannel: 1,
			// The fd carries virtio-net headers (PreInit) exactly when
			// this is set: gVisor's host GSO.
			GSOMaxSize: l.GSOMaxSize,
		})
		if err != nil {
			st.Close()
			closeAll(args.FDs[i:])
			return fmt.Errorf("netsandbox plugin: link %q: %w", l.Name, err)
		}
		// A transmit queue as runsc's own sandbox network has (its
		// default --qdisc=fifo, one queue per CPU, 1000 packets each):
		// the ACKs of a download leave in batches, not one sendmmsg each.
		idx, err := st.AddInterface(l.Name, ep, stack.WithTxQueue(runtime.GOMAXPROCS(0), 1000))
		if err != nil {
			st.Close()
			closeAll(args.FDs[i+1:])
			return fmt.Errorf("netsandbox plugin: adding %q: %w", l.Name, err)
		}
		ifindex[l.Index] = idx
		for _, p := range l.Addrs {
			if err := st.AddAddress(idx, p); err != nil {
				st.Close()
				closeAll(args.FDs[i+1:])
				return fmt.Errorf("netsandbox plugin: address %v on %q: %w", p, l.Name, err)
			}
		}
		for _, p := range l.Addrs6 {
			if err := st.AddAddress6(idx, p); err != nil {
				st.Close()
				closeAll(args.FDs[i+1:])
				return fmt.Errorf("netsandbox plugin: address %v on %q: %w", p, l.Name, err)
			}
		}
	}
	for _, r := range cfg.Routes {
		idx, ok := ifindex[r.Index]
		if !ok {
			continue
		}
		if err := st.AddRoute(r.Dst, r.Gw, idx); err != nil {
			st.Close()
			return fmt.Errorf("netsandbox plugin: route %v via %v: %w", r.Dst, r.Gw, err)
		}
	}
	for _, r := range cfg.Routes6 {
		idx, ok := ifindex[r.Index]
		if !ok {
			continue
		}
		if err := st.AddRoute6(r.Dst, r.Gw, idx); err != nil && err != unix.EEXIST {
			st.Close()
			return fmt.Errorf("netsandbox plugin: route %v via %v: %w", r.Dst, r.Gw, err)
		}
	}
	s.st.Store(st)
	return nil
}
