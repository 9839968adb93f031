package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/link/sniffer"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/gateway"
	"netsandbox/link/fdbased"
	"netsandbox/stack"
)

// The sandbox's network, as slirp4netns lays it out.
var (
	sandboxAddr = netip.MustParsePrefix("10.0.2.100/24")
	gatewayAddr = netip.MustParseAddr("10.0.2.2")
	dnsAddr     = netip.MustParseAddr("10.0.2.3")
)

const (
	sandboxTAP = "tap0"
	maxTAPMTU  = 65520
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// publish is one -p mapping.
type publish struct {
	host    netip.AddrPort
	sandbox uint16
	udp     bool
}

// gatewayConfig is what run and attach share: the sandbox link's MTU and
// the gateway's flags.
type gatewayConfig struct {
	mtu               int
	publish           []publish
	policy            gateway.Policy
	allowHostLoopback bool
	verbose, stats    bool
	json              bool // --stats as JSON
	pcap              string
	offload           bool           // --offload: TSO and checksum offload on the TAP
	dnsUpstream       netip.AddrPort // --dns-upstream; invalid: the host's resolver
	// ipv6 gives the sandbox IPv6 (run's --ipv6): the gateway takes
	// gatewayAddr6 and relays IPv6 flows; without it IPv6 is dropped.
	ipv6 bool
}

// gatewayFlags registers the gateway's flags on fs; the returned function
// checks them and fills c once fs has parsed.
func (c *gatewayConfig) gatewayFlags(fs *flag.FlagSet) func() error {
	fs.IntVar(&c.mtu, "mtu", 1500, "MTU of the sandbox's interface (68.."+strconv.Itoa(maxTAPMTU)+")")
	var pub multiFlag
	fs.Var(&pub, "p", "publish a sandbox port: `[HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]` (repeatable; an IPv6 HOSTIP in brackets reaches the sandbox's fd00::100)")
	finishPolicy := policyFlags(fs, &c.policy, &c.dnsUpstream)
	fs.BoolVar(&c.allowHostLoopback, "allow-host-loopback", false, "let connections to 10.0.2.2 reach the host's 127.0.0.1 (before the egress policy: --deny-all does not close it)")
	fs.BoolVar(&c.verbose, "v", false, "log one line per flow to stderr, and gVisor's own log lines")
	fs.BoolVar(&c.stats, "stats", false, "print a summary of flows and bytes on exit")
	fs.BoolVar(&c.json, "json", false, "with --stats: the summary as one JSON object on one line (tcp_flows, udp_flows, icmp_flows, denied, failed, bytes_out, bytes_in, ...)")
	fs.StringVar(&c.pcap, "pcap", "", "capture the sandbox's link to this pcap file")
	fs.BoolVar(&c.offload, "offload", true, "pass TCP over the TAP in segments of up to 64 KiB with partial checksums (IFF_VNET_HDR, TSO); false: every frame is MTU-sized and checksummed, as with slirp4netns and pasta")
	return func() error {
		if c.json && !c.stats {
			return usagef("--json formats the --stats summary: add --stats")
		}
		if c.mtu < 68 || c.mtu > maxTAPMTU {
			return usagef("--mtu %d: want 68..%d", c.mtu, maxTAPMTU)
		}
		for _, p := range pub {
			m, err := parsePublish(p)
			if err != nil {
				return err
			}
			c.publish = append(c.publish, m)
		}
		return finishPolicy()
	}
}

type runConfig struct {
	gatewayConfig
	resolvConf bool
	cmd        []string
}

func parseRun(args []string, stderr io.Writer) (runConfig, error) {
	c := runConfig{}
	fs := newFlagSet("run", stderr)
	finish := c.gatewayFlags(fs)
	fs.BoolVar(&c.resolvConf, "resolv-conf", true, "show CMD an /etc/resolv.conf naming 10.0.2.3, then fd00::3 with --ipv6 (private mount namespace)")
	fs.BoolVar(&c.ipv6, "ipv6", true, "give the sandbox IPv6 too: fd00::100/64, default route via fd00::2, DNS also at fd00::3; TCP, UDP and ping relayed over the host's IPv6 sockets")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox run [FLAGS] -- CMD [ARGS...]")
		fmt.Fprintln(stderr, "\nRuns CMD in a new network namespace whose only link is a TAP to a netsandbox")
		fmt.Fprintln(stderr, "stack acting as its gateway: sandbox 10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3;")
		fmt.Fprintln(stderr, "IPv6 sandbox fd00::100/64, gateway fd00::2, DNS fd00::3.")
		fmt.Fprintln(stderr, "TCP, UDP and ping go out through the host's sockets; netsandbox exits with CMD's status.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errFlagHelp
		}
		return c, usageError{err.Error()}
	}
	c.cmd = fs.Args()
	if len(c.cmd) == 0 {
		return c, usagef("no command: write netsandbox run [FLAGS] -- CMD [ARGS...]")
	}
	return c, finish()
}

// parsePublish reads [HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp].
func parsePublish(s string) (publish, error) {
	var p publish
	spec, proto, _ := strings.Cut(s, "/")
	switch proto {
	case "", "tcp":
	case "udp":
		p.udp = true
	default:
		return p, usagef("-p %q: protocol %q: want tcp or udp", s, proto)
	}
	host := netip.IPv4Unspecified()
	if rest, ok := strings.CutPrefix(spec, "["); ok {
		// [IPv6]:HOSTPORT:SANDBOXPORT: TCP or UDP to the sandbox's IPv6
		// address.
		a6, ports, ok := strings.Cut(rest, "]:")
		a, err := netip.ParseAddr(a6)
		if !ok || err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return p, usagef("-p %q: host address %q: want IPv4 or [IPv6]", s, a6)
		}
		host, spec = a, "_:"+ports
	}
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 2:
	case 3:
		if host.Is6() {
			parts = parts[1:]
			break
		}
		a, err := netip.ParseAddr(parts[0])
		if err != nil || !a.Is4() {
			return p, usagef("-p %q: host address %q: want IPv4", s, parts[0])
		}
		host, parts = a, parts[1:]
	default:
		return p, usagef("-p %q: want [HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]", s)
	}
	hp, err1 := strconv.ParseUint(parts[0], 10, 16)
	sp, err2 := strconv.ParseUint(parts[1], 10, 16)
	if err1 != nil || err2 != nil || hp == 0 || sp == 0 {
		return p, usagef("-p %q: ports 1..65535", s)
	}
	p.host, p.sandbox = netip.AddrPortFrom(host, uint16(hp)), uint16(sp)
	return p, nil
}

// runRun is `netsandbox run`. On success it exits the process with CMD's
// status after removing everything it made.
func runRun(args []string, stdout, stderr io.Writer) error {
	defer cpuProfile(&args)()
	c, err := parseRun(args, stderr)
	if err != nil {
		return err
	}
	code, err := runSandbox(c, stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		os.Exit(code)
	}
	return nil
}

// hostResolver is the host's resolver: hostResolverIn /etc/resolv.conf.
func hostResolver() (netip.AddrPort, bool) {
	return hostResolverIn("/etc/resolv.conf")
}

// hostResolverIn is the first IPv4 nameserver of the resolv.conf at path,
// else its first IPv6 one (a host with IPv6 resolvers only), port 53. A
// link-local IPv6 nameserver is skipped: the gateway's host sockets name
// no interface to reach it through.
func hostResolverIn(path string) (netip.AddrPort, bool) {
	f, err := os.Open(path)
	if err != nil {
		return netip.AddrPort{}, false
	}
	defer f.Close()
	var first6 netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			continue
		}
		a = a.Unmap()
		switch {
		case a.Is4():
			return netip.AddrPortFrom(a, 53), true
		case !first6.IsValid() && a.Zone() == "" && !a.IsLinkLocalUnicast() && !a.IsUnspecified() && !a.IsMulticast():
			first6 = a
		}
	}
	if first6.IsValid() {
		return netip.AddrPortFrom(first6, 53), true
	}
	return netip.AddrPort{}, false
}

// resolvConfText is the sandbox's /etc/resolv.conf: the gateway's DNS
// address and, with IPv6, fd00::3 after it (as pasta lists its IPv6
// resolver too), so a resolver client that speaks IPv6 only still finds
// one; both reach the same upstream. 10.0.2.3 stays first: a lookup waits
// on the second only when the first does not answer.
func resolvConfText(ipv6 bool) string {
	s := "# written by netsandbox run\nnameserver " + dnsAddr.String() + "\n"
	if ipv6 {
		s += "nameserver " + dnsAddr6.String() + "\n"
	}
	return s
}

// runSandbox starts CMD in its namespace behind the gateway and returns its
// exit status (128+N for a death by signal N, as shells report it).
func runSandbox(c runConfig, stderr io.Writer) (int, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	parentEnd := os.NewFile(uintptr(pair[0]), "netsandbox-run-parent")
	childEnd := os.NewFile(uintptr(pair[1]), "netsandbox-run-child")
	defer parentEnd.Close()

	_, haveResolver := resolverFor(c.dnsUpstream)
	resolvFile := ""
	if c.resolvConf && haveResolver {
		f, err := os.CreateTemp("", "netsandbox-resolv-*.conf")
		if err != nil {
			return 0, err
		}
		resolvFile = f.Name()
		defer os.Remove(resolvFile)
		f.WriteString(resolvConfText(c.ipv6))
		f.Close()
	}

	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	childArgs := append([]string{runChildArg, sandboxTAP, strconv.Itoa(c.mtu), strconv.FormatBool(c.offload), resolvFile,
		strconv.FormatBool(c.ipv6), "--"}, c.cmd...)
	cmd := exec.Command(self, childArgs...)
	cmd.Args[0] = c.cmd[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{childEnd}
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if resolvFile != "" {
		attr.Cloneflags |= syscall.CLONE_NEWNS
	}
	if os.Geteuid() != 0 {
		// Rootless: a user namespace owns the new network namespace, so the
		// child may create the TAP; the gateway needs no privilege.
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		childEnd.Close()
		return 0, fmt.Errorf("starting the sandbox: %w", err)
	}
	childEnd.Close()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	// Forward the signals that would end us to CMD; its status decides.
	// In a terminal's foreground group, CMD (in our process group) gets
	// the terminal's SIGINT and SIGQUIT itself: those are not sent twice.
	fromTerminal := inForegroundGroup()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)

	tap, err := receiveTAP(parentEnd)
	if err != nil {
		cmd.Process.Kill()
		<-waited
		return 0, err
	}
	gw, cleanup, err := startGateway(c.gatewayConfig, tap, stderr)
	if err != nil {
		cmd.Process.Kill()
		<-waited
		return 0, err
	}
	cleanupOnce := sync.OnceFunc(cleanup)
	cleanup = cleanupOnce
	defer cleanup()
	if _, err := parentEnd.Write([]byte{'g'}); err != nil {
		cmd.Process.Kill()
		<-waited
		return 0, fmt.Errorf("starting the sandbox: %w", err)
	}
	for {
		select {
		case sig := <-sigs:
			if !fromTerminal || (sig != os.Interrupt && sig != syscall.SIGQUIT) {
				cmd.Process.Signal(sig)
			}
		case err := <-waited:
			// What CMD sent last still crosses; then flows end (and log)
			// before the summary.
			gw.Drain(time.Second)
			cleanup()
			printGatewayStats(stderr, c.gatewayConfig, gw)
			return exitStatus(cmd, err)
		}
	}
}

func exitStatus(cmd *exec.Cmd, err error) (int, error) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, err
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return cmd.ProcessState.ExitCode(), nil
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// receiveTAP waits for the child's TAP fd.
func receiveTAP(sock *os.File) (int, error) {
	rc, err := sock.SyscallConn()
	if err != nil {
		return -1, err
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var rerr error
	deadline := time.Now().Add(30 * time.Second)
	rc.Control(func(fd uintptr) {
		tv := unix.NsecToTimeval(time.Until(deadline).Nanoseconds())
		unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
	})
	if rerr != nil {
		return -1, fmt.Errorf("sandbox setup: %w", rerr)
	}
	if n == 0 {
		return -1, errors.New("sandbox setup failed (see the message above)")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, errors.New("sandbox setup: no TAP fd from the sandbox")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, errors.New("sandbox setup: no TAP fd from the sandbox")
	}
	return fds[0], nil
}

// startGateway builds the stack on the sandbox's TAP fd (which it takes
// over: closing the stack closes it) and the gateway on it. The cleanup it
// returns ends the gateway and closes the fd.
func startGateway(c gatewayConfig, tap int, stderr io.Writer) (*gateway.Gateway, func(), error) {
	routeGvisorLog(c.verbose, stderr)
	var err error
	var ep gstack.LinkEndpoint
	ep, _, err = fdbased.Adopt(tap, fdbased.Options{MTU: uint32(c.mtu)})
	if err != nil {
		unix.Close(tap)
		return nil, nil, err
	}
	var pcapFile *os.File
	if c.pcap != "" {
		if pcapFile, err = os.Create(c.pcap); err != nil {
			ep.Close()
			return nil, nil, fmt.Errorf("--pcap: %w", err)
		}
		// Frames go to the file only, not to the log.
		sniffer.LogPackets.Store(0)
		sniff, err := sniffer.NewWithWriter(ep, pcapFile, fdbased.MaxFrameSize)
		if err != nil {
			pcapFile.Close()
			ep.Close()
			return nil, nil, fmt.Errorf("--pcap: %w", err)
		}
		ep = sniff
	}
	s, err := stack.New(stack.Config{Caps: stack.AllCaps, Gateway: true})
	if err != nil {
		ep.Close()
		return nil, nil, err
	}
	closeAll := func() {
		s.Close()
		if pcapFile != nil {
			pcapFile.Close()
		}
	}
	link := gateway.FilterLink(ep, gatewayAddr, dnsAddr)
	nic, err := s.AddInterface(sandboxTAP, link)
	if err != nil {
		ep.Close() // not the stack's yet, so s.Close would leave its fd open
	}
	for _, a := range []netip.Addr{gatewayAddr, dnsAddr} {
		if err == nil {
			err = s.AddAddress(nic, netip.PrefixFrom(a, sandboxAddr.Bits()))
		}
	}
	if err == nil {
		err = s.AddRoute(sandboxAddr.Masked(), netip.Addr{}, nic)
	}
	if err == nil && c.ipv6 {
		err = s.AddAddress6(nic, netip.PrefixFrom(gatewayAddr6, sandboxAddr6.Bits()))
		if err == nil {
			err = s.AddAddress6(nic, netip.PrefixFrom(dnsAddr6, sandboxAddr6.Bits()))
		}
		if err == nil {
			err = s.AddRoute6(sandboxAddr6.Masked(), netip.Addr{}, nic)
		}
	}
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("configuring the gateway: %w", err)
	}
	cfg := gateway.Config{Stack: s, NIC: nic, Link: link, Gateway: gatewayAddr, DNS: dnsAddr,
		AllowHostLoopback: c.allowHostLoopback, Policy: &c.policy}
	if c.ipv6 {
		cfg.Gateway6, cfg.DNS6 = gatewayAddr6, dnsAddr6
	}
	if resolver, ok := resolverFor(c.dnsUpstream); ok {
		cfg.Resolver = resolver
	}
	if c.verbose {
		cfg.Log = stderr
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	cleanup := func() { gw.Close(); closeAll() }
	for _, p := range c.publish {
		publish := gw.PublishTCP
		if p.udp {
			publish = gw.PublishUDP
		}
		to := netip.AddrPortFrom(sandboxAddr.Addr(), p.sandbox)
		if p.host.Addr().Is6() {
			if !c.ipv6 {
				cleanup()
				return nil, nil, fmt.Errorf("-p %s: the sandbox has no IPv6 (an IPv6 host address needs run's --ipv6)", p.host)
			}
			to = netip.AddrPortFrom(sandboxAddr6.Addr(), p.sandbox)
		}
		if err := publish(p.host, to); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("-p %s: %w", p.host, err)
		}
	}
	return gw, cleanup, nil
}

// inForegroundGroup tells whether stdin is a terminal whose foreground
// process group is ours.
func inForegroundGroup() bool {
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
