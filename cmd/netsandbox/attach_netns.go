package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// targetNetns is the network namespace attach gives a network to.
type targetNetns struct {
	fd    int
	desc  string // for messages: "network namespace /run/netns/x", "process 42's network namespace"
	path  string // --netns: the path, watched for the namespace's removal
	ino   uint64 // the namespace's identity under path
	dev   uint64
	pidfd int // --pid: the process, watched for its end (-1 without)
}

// openTargetNetns opens the namespace named by path or pid and checks that
// it is one attach may use. Errors say what to do about them.
func openTargetNetns(path string, pid int) (*targetNetns, error) {
	ns := &targetNetns{fd: -1, pidfd: -1}
	if pid != 0 {
		pidfd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("--pid %d: no such process", pid)
		} else if err != nil {
			return nil, fmt.Errorf("--pid %d: %w", pid, err)
		}
		ns.pidfd = pidfd
		ns.desc = fmt.Sprintf("process %d's network namespace", pid)
		path = fmt.Sprintf("/proc/%d/ns/net", pid)
	} else {
		ns.desc = "network namespace " + path
		ns.path = path
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOENT) && pid != 0:
		ns.close()
		return nil, fmt.Errorf("--pid %d: the process ended", pid)
	case errors.Is(err, unix.ENOENT):
		ns.close()
		return nil, fmt.Errorf("--netns %s: no such namespace ('ip netns list' shows the named ones in /run/netns; a process's is /proc/PID/ns/net, or use --pid)", path)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		ns.close()
		return nil, fmt.Errorf("opening %s: %w: run as root, or as the user owning the namespace from inside its user namespace (e.g. podman unshare netsandbox attach ...)", ns.desc, err)
	default:
		ns.close()
		return nil, fmt.Errorf("opening %s: %w", ns.desc, err)
	}
	ns.fd = fd
	if pid != 0 {
		// The pidfd still names a live process, so the /proc entry opened
		// above was that process's and not a successor's with the same PID.
		if err := unix.PidfdSendSignal(ns.pidfd, 0, nil, 0); err != nil {
			ns.close()
			return nil, fmt.Errorf("--pid %d: the process ended", pid)
		}
	}
	var st, self unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		ns.close()
		return nil, err
	}
	ns.dev, ns.ino = st.Dev, st.Ino
	if err := unix.Stat("/proc/self/ns/net", &self); err == nil && self.Dev == st.Dev && self.Ino == st.Ino {
		ns.close()
		return nil, fmt.Errorf("%s is netsandbox's own: the gateway's traffic would loop back into it; run netsandbox attach outside the namespace (e.g. in the host's)", ns.desc)
	}
	// The setns in do tells a network namespace from any other file, but
	// only when it runs; asking now gives the clearer message.
	if t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE); err == nil && t != unix.CLONE_NEWNET {
		ns.close()
		return nil, fmt.Errorf("%s is a namespace, but not a network namespace", path)
	} else if errors.Is(err, unix.ENOTTY) {
		ns.close()
		return nil, fmt.Errorf("%s is not a namespace ('ip netns list' shows the named ones in /run/netns)", path)
	}
	return ns, nil
}

func (ns *targetNetns) close() {
	if ns.fd >= 0 {
		unix.Close(ns.fd)
		ns.fd = -1
	}
	if ns.pidfd >= 0 {
		unix.Close(ns.pidfd)
		ns.pidfd = -1
	}
}

// gone says why the namespace is no longer worth serving ("" while it
// is): its process ended, or its path no longer names it (ip netns del).
// The TAP's fd keeps the namespace itself alive, so this is how attach
// learns that nobody can use it any more.
func (ns *targetNetns) gone() string {
	if ns.pidfd >= 0 {
		fds := []unix.PollFd{{Fd: int32(ns.pidfd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 0); n > 0 {
			return "the process ended"
		}
		return ""
	}
	var st unix.Stat_t
	if err := unix.Stat(ns.path, &st); err != nil || st.Dev != ns.dev || st.Ino != ns.ino {
		return ns.path + " is gone"
	}
	return ""
}

// do runs fn on an OS thread that has joined the namespace, then moves the
// thread back. Sockets and TAPs made inside fn stay in the namespace.
func (ns *targetNetns) do(fn func() error) error {
	errc := make(chan error, 1)
	// A goroutine of its own: if the thread cannot return to our
	// namespace it stays locked, and the runtime ends it with the goroutine.
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- explainPerm(fmt.Errorf("entering %s: %w", ns.desc, err), "entering it needs CAP_SYS_ADMIN over it")
			return
		}
		ferr := fn()
		// From inside the namespace's user namespace there may be no way
		// back (our namespace is not that user namespace's): the thread
		// then stays locked and ends with the goroutine. What fn made
		// keeps its namespace either way.
		if err := unix.Setns(self, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// explainPerm adds what to do to a permission error.
func explainPerm(err error, what string) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: %s: run as root, or from inside the user namespace that owns it (e.g. podman unshare netsandbox attach ..., or nsenter --user --preserve-credentials --target PID netsandbox attach ...)", err, what)
	}
	return err
}

// checkAttachable refuses, in the calling thread's namespace, what attach
// would otherwise break or take over: a link named tap (TUNSETIFF would
// adopt a persistent TAP of that name), an address overlapping the
// sandbox's subnet, and (when attach adds its own) a default route.
func checkAttachable(tap string, wantDefaultRoute bool) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing the namespace's links: %w", err)
	}
	for _, ifc := range ifs {
		if ifc.Name == tap {
			return fmt.Errorf("the namespace already has a link named %s: choose another name with --tap NAME", tap)
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			bits, _ := ipn.Mask.Size()
			if p := netip.PrefixFrom(ip, bits); p.Overlaps(sandboxAddr.Masked()) {
				return fmt.Errorf("the namespace already has %s on %s, which overlaps the sandbox's %s (another netsandbox or slirp4netns attached?)", p, ifc.Name, sandboxAddr.Masked())
			}
		}
	}
	if !wantDefaultRoute {
		return nil
	}
	via, dev, found, err := defaultRoute()
	if err != nil {
		return fmt.Errorf("reading the namespace's routes: %w", err)
	}
	if found {
		desc := "dev " + dev
		if via.IsValid() {
			desc = "via " + via.String() + " " + desc
		}
		return fmt.Errorf("the namespace already has a default route (%s): delete it first (ip route del default), or attach with --no-default-route and add routes via %s yourself", desc, gatewayAddr)
	}
	return nil
}

// defaultRoute finds an IPv4 default route in the main table of the calling
// thread's namespace.
func defaultRoute() (via netip.Addr, dev string, found bool, err error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETROUTE, syscall.AF_INET)
	if err != nil {
		return via, "", false, err
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return via, "", false, err
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWROUTE || len(m.Data) < syscall.SizeofRtMsg {
			continue
		}
		rtm := (*syscall.RtMsg)(unsafe.Pointer(&m.Data[0]))
		if rtm.Dst_len != 0 || rtm.Table != syscall.RT_TABLE_MAIN {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return via, "", false, err
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.RTA_GATEWAY:
				if g, ok := netip.AddrFromSlice(a.Value); ok {
					via = g
				}
			case syscall.RTA_OIF:
				if len(a.Value) == 4 {
					if ifc, err := net.InterfaceByIndex(int(binary.NativeEndian.Uint32(a.Value))); err == nil {
						dev = ifc.Name
					}
				}
			}
		}
		if dev == "" {
			dev = "?"
		}
		return via, dev, true, nil
	}
	return via, "", false, nil
}
