package plugin

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/sentry/socket/plugin"

	"netsandbox/link/fdbased"
)

// PreInit implements plugin.PluginStack.PreInit. It runs in the runsc
// process (host root) with the sandbox's pid. In the sandbox's network
// namespace it opens an AF_PACKET socket on every Ethernet interface, reads
// the interface's MTU, MAC, IPv4 addresses and the IPv4 routes through it,
// then removes those addresses from the kernel's interface, as runsc's own
// sandbox network does, so that the kernel neither answers ARP for them nor
// resets connections it does not know: from then on the netsandbox stack
// owns them. It returns the configuration as the init string and the
// packet sockets as the fds, in the same order.
func (s *Stack) PreInit(args *plugin.PreInitStackArgs) (string, []int, error) {
	type result struct {
		cfg *initConfig
		fds []int
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The work runs on a locked thread that joins the sandbox's
		// namespace and then goes back to its own. The thread must not
		// end: `runsc run` starts the sandbox and the gofer with
		// Pdeathsig=SIGKILL, which the kernel sends when the *thread*
		// that forked them exits, and Go may have locked this goroutine
		// to that very thread. Ending it (the usual way out of a setns)
		// killed the sandbox or the gofer in about one start of five
		// ("urpc method Network.InitPluginStack failed: connection reset
		// by peer", "creating root file system: input/output error").
		// If the way back fails the thread is parked for good instead.
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("netsandbox plugin: opening this thread's network namespace: %w", err)}
			return
		}
		cfg, fds, err := preInitInNetns(args.Pid)
		back := unix.Setns(self, unix.CLONE_NEWNET)
		unix.Close(self)
		done <- result{cfg, fds, err}
		if back != nil {
			select {} // never leaves the sandbox's namespace, never exits
		}
		runtime.UnlockOSThread()
	}()
	r := <-done
	if r.err != nil {
		return "", nil, r.err
	}
	r.cfg.Sysctl = readHostGlobals()
	str, err := r.cfg.encode()
	if err != nil {
		closeAll(r.fds)
		return "", nil, err
	}
	return str, r.fds, nil
}

// hostGlobalKnobs are the knobs Linux keeps once for the whole machine
// (net_core_table, registered for init_net only; the socket layer reads
// the global sysctl_rmem_max and friends): a container's sockets are
// capped by the host's values, so the sandbox's stack takes them too.
var hostGlobalKnobs = []string{
	"net.core.rmem_default",
	"net.core.rmem_max",
	"net.core.wmem_default",
	"net.core.wmem_max",
}

// readHostGlobals reads hostGlobalKnobs in runsc's own namespace; a knob
// that cannot be read keeps the stack's default (Linux's compiled one).
func readHostGlobals() map[string]string {
	m := map[string]string{}
	for _, name := range hostGlobalKnobs {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
		if v := strings.TrimSpace(string(b)); err == nil && v != "" {
			m[name] = v
		}
	}
	return m
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// preInitInNetns does PreInit's work on a locked thread that it moves into
// the network namespace of pid.
func preInitInNetns(pid int) (*initConfig, []int, error) {
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)
	nsFD, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("netsandbox plugin: opening %s: %w", nsPath, err)
	}
	err = unix.Setns(nsFD, unix.CLONE_NEWNET)
	unix.Close(nsFD)
	if err != nil {
		return nil, nil, fmt.Errorf("netsandbox plugin: joining %s: %w", nsPath, err)
	}

	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, nil, fmt.Errorf("netsandbox plugin: listing interfaces in %s: %w", nsPath, err)
	}
	gso, err := gsoMaxSizes()
	if err != nil {
		return nil, nil, err
	}
	cfg := &initConfig{}
	var fds []int
	ok := false
	defer func() {
		if !ok {
			closeAll(fds)
		}
	}()
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagLoopback != 0 || len(ifi.HardwareAddr) != 6 {
			continue // only Ethernet devices (veth, NICs) are taken
		}
		l := linkConfig{Name: ifi.Name, Index: ifi.Index, MTU: uint32(ifi.MTU), MAC: ifi.HardwareAddr}
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, nil, fmt.Errorf("netsandbox plugin: addresses of %q: %w", ifi.Name, err)
		}
		for _, a := range addrs {
			if p, ok := ipv6Addr(a); ok {
				l.Addrs6 = append(l.Addrs6, p) // preinit6.go
				continue
			}
			ipn, isNet := a.(*net.IPNet)
			if !isNet || ipn.IP.To4() == nil {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			bits, _ := ipn.Mask.Size()
			l.Addrs = append(l.Addrs, netip.PrefixFrom(ip, bits))
		}
		if err := linkUp(ifi.Name); err != nil {
			return nil, nil, err
		}
		// gVisor's IPv4 cannot build a packet over 64 KiB, whatever the
		// interface allows (BIG TCP raises gso_max_size past it).
		l.GSOMaxSize = min(gso[ifi.Index], maxIPv4GSO)
		// With a virtio-net header on every frame (when the interface
		// has GSO) the stack writes a TCP segment of up to gso_max_size in
		// one syscall; without it, a veth peer's receive path ran inside
		// every per-MSS sendmmsg entry, and TCP from the sandbox ran at a
		// twentieth of stock runsc's rate.
		fd, err := fdbased.OpenPacketSocket(ifi.Index, l.GSOMaxSize != 0)
		if err != nil {
			return nil, nil, fmt.Errorf("netsandbox plugin: packet socket on %q: %w", ifi.Name, err)
		}
		fds = append(fds, fd)
		cfg.Links = append(cfg.Links, l)
	}
	routes, err := readRoutes(unix.AF_INET)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range routes {
		for _, l := range cfg.Links {
			if l.Index == r.Index {
				cfg.Routes = append(cfg.Routes, r)
				break
			}
		}
	}
	if err := takeIPv6(cfg); err != nil { // preinit6.go
		return nil, nil, err
	}
	// Routes are read before the addresses go: the kernel drops the
	// prefix routes of an address with it.
	for _, l := range cfg.Links {
		for _, p := range l.Addrs {
			if err := delAddr(l.Index, p); err != nil {
				return nil, nil, fmt.Errorf("netsandbox plugin: removing %v from %q: %w", p, l.Name, err)
			}
		}
	}
	ok = true
	return cfg, fds, nil
}

// maxIPv4GSO bounds the TCP segments the stack builds for one frame: the
// largest IPv4 packet less the largest IP and TCP headers.
const maxIPv4GSO = 65535 - 60 - 60

// linkUp brings the interface up (binding a packet socket to a down
// interface leaves ENETDOWN pending on it).
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netsandbox plugin: socket for SIOCSIFFLAGS: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netsandbox plugin: SIOCGIFFLAGS %q: %w", name, err)
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netsandbox plugin: bringing %q up: %w", name, err)
	}
	return nil
}
