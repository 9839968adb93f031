package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"netsandbox/stack"
)

type serveConfig struct {
	link    string
	addr    netip.Prefix
	gw      netip.Addr
	udpEcho int
	tcpEcho int
	pcap    string
	stats   bool
	every   time.Duration // --stats-interval
	json    bool
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&c.link, "link", "", "the NIC: tap:NAME (created if missing) or iface:NAME (an existing interface, e.g. a veth end)")
	addr := fs.String("addr", "", "the host's address and prefix length, e.g. 198.18.0.2/24")
	gw := fs.String("gw", "", "default gateway (optional)")
	fs.IntVar(&c.udpEcho, "udp-echo", 0, "echo UDP datagrams on this port (0: off)")
	fs.IntVar(&c.tcpEcho, "tcp-echo", 0, "echo TCP streams on this port (0: off)")
	fs.StringVar(&c.pcap, "pcap", "", "write every frame of the NIC to this pcap file")
	fs.BoolVar(&c.stats, "stats", false, "print the inbound frame accounting and the echo counts every --stats-interval and on exit")
	fs.DurationVar(&c.every, "stats-interval", 10*time.Second, "how often --stats prints (0: only on exit)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object a line on stdout: {\"event\":\"serving\",...}, {\"event\":\"stats\",...} with --stats, {\"event\":\"stopped\"}")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox serve --link tap:NAME|iface:NAME --addr A/N [--gw G] [--udp-echo PORT] [--tcp-echo PORT] [--pcap FILE] [--stats [--stats-interval D]] [--json]")
		fmt.Fprintln(stderr, "\nA userspace host on a real NIC: it answers ping and, if asked, echoes UDP and TCP.")
		fmt.Fprintln(stderr, "Give the kernel side of the NIC no address of its own for the stack's subnet.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if c.link == "" {
		return c, usagef("--link is required (tap:NAME or iface:NAME)")
	}
	kind, name, _ := strings.Cut(c.link, ":")
	if kind != "tap" && kind != "iface" {
		return c, usagef("--link %q: write tap:NAME for a TAP device or iface:NAME for an existing interface", c.link)
	}
	if name == "" {
		return c, usagef("--link %q: no interface name: write %s:NAME, e.g. %s", c.link, kind, linkExample(kind))
	}
	if err := checkIfName(name); err != nil {
		return c, usagef("--link %q: %q: %v (an interface name has 1..15 bytes, no '/', ':' or spaces)", c.link, name, err)
	}
	if *addr == "" {
		return c, usagef("--addr is required, e.g. --addr 198.18.0.2/24")
	}
	p, err := netip.ParsePrefix(*addr)
	if err != nil || !p.Addr().Is4() {
		return c, usagef("--addr %q: want an IPv4 address with a prefix length, e.g. 198.18.0.2/24", *addr)
	}
	c.addr = p
	if *gw != "" {
		g, err := netip.ParseAddr(*gw)
		if err != nil || !g.Is4() {
			return c, usagef("--gw %q: want an IPv4 address", *gw)
		}
		if !p.Masked().Contains(g) {
			return c, usagef("--gw %s is not inside --addr's subnet %s", g, p.Masked())
		}
		c.gw = g
	}
	for _, port := range []struct {
		name string
		v    int
	}{{"--udp-echo", c.udpEcho}, {"--tcp-echo", c.tcpEcho}} {
		if port.v < 0 || port.v > 65535 {
			return c, usagef("%s %d: want a port in 1..65535 (0: off)", port.name, port.v)
		}
	}
	if c.every < 0 {
		return c, usagef("--stats-interval %v: want 0 (only on exit) or a positive duration", c.every)
	}
	return c, nil
}

// linkExample shows a --link of a kind.
func linkExample(kind string) string {
	if kind == "tap" {
		return "--link tap:nsbx0 (a TAP made if missing)"
	}
	return "--link iface:eth0 (an existing interface; ip link lists them)"
}

func runServe(args []string, stdout, stderr io.Writer) error {
	defer cpuProfile(&args)()
	c, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		return fmt.Errorf("starting the stack: %w", err)
	}
	nic, closeLink, err := attachLink(s, c)
	if err != nil {
		s.Close()
		return err
	}
	// The stack stops writing frames before the capture file closes.
	defer func() { s.Close(); closeLink() }()

	var wg sync.WaitGroup
	var ec echoCounters
	if c.udpEcho != 0 {
		if err := startUDPEcho(ctx, &wg, s, c.udpEcho, &ec); err != nil {
			return err
		}
	}
	if c.tcpEcho != 0 {
		if err := startTCPEcho(ctx, &wg, s, c.tcpEcho, &ec); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(stdout)
	if c.json {
		enc.Encode(serveEvent{Event: "serving", Addr: c.addr.String(), Link: c.link, IfIndex: nic})
	} else {
		fmt.Fprintf(stdout, "netsandbox: serving %s on %s (ifindex %d); Ctrl-C stops\n", c.addr, c.link, nic)
	}
	printStats := func() {
		st := serveStatsOf(s.Accounting(), &ec)
		if c.json {
			enc.Encode(st)
		} else {
			fmt.Fprintln(stdout, st.line())
		}
	}
	var tick <-chan time.Time
	if c.stats && c.every > 0 {
		t := time.NewTicker(c.every)
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick:
			printStats()
		}
	}
	wg.Wait()
	if c.stats {
		printStats()
	}
	if c.json {
		enc.Encode(serveEvent{Event: "stopped"})
	} else {
		fmt.Fprintln(stdout, "netsandbox: stopped")
	}
	return nil
}

// serveEvent is a line of serve --json other than stats.
type serveEvent struct {
	Event   string `json:"event"` // "serving" or "stopped"
	Addr    string `json:"addr,omitempty"`
	Link    string `json:"link,omitempty"`
	IfIndex int    `json:"ifindex,omitempty"`
}

// serveStats is a line of serve --stats: the stack's inbound accounting
// (frames, and their outcomes by class and by reason, non-zero reasons
// only) and what the echo services did, totals since the start.
type serveStats struct {
	Event          string            `json:"event"` // "stats"
	Time           string            `json:"time"`  // RFC 3339, UTC
	Frames         uint64            `json:"frames_in"`
	Delivered      uint64            `json:"delivered"`
	Answered       uint64            `json:"answered"`
	Consumed       uint64            `json:"consumed"`
	Dropped        uint64            `json:"dropped"`
	Outcomes       map[string]uint64 `json:"outcomes"` // stack.Accounting's reasons: icmp-echo-request, arp, udp, ip-not-for-us, ...
	UDPEchoed      int64             `json:"udp_echoed"`
	TCPConnections int64             `json:"tcp_connections"`
	TCPBytesEchoed int64             `json:"tcp_bytes_echoed"`
}

func serveStatsOf(a stack.Accounting, ec *echoCounters) serveStats {
	st := serveStats{Event: "stats", Time: time.Now().UTC().Format(time.RFC3339Nano), Frames: a.Frames,
		Delivered: a.Class(stack.Delivered), Answered: a.Class(stack.Answered), Consumed: a.Class(stack.Consumed), Dropped: a.Class(stack.Dropped),
		Outcomes:  map[string]uint64{},
		UDPEchoed: ec.udpDatagrams.Load(), TCPConnections: ec.tcpConns.Load(), TCPBytesEchoed: ec.tcpBytes.Load()}
	for _, o := range a.Outcomes {
		if o.N != 0 {
			st.Outcomes[o.Reason] += o.N
		}
	}
	return st
}

// line is the text form of a stats line.
func (st serveStats) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netsandbox: stats: frames in %d: delivered %d, answered %d, consumed %d, dropped %d",
		st.Frames, st.Delivered, st.Answered, st.Consumed, st.Dropped)
	reasons := make([]string, 0, len(st.Outcomes))
	for r := range st.Outcomes {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for i, r := range reasons {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s %d", sep, r, st.Outcomes[r])
	}
	if len(reasons) > 0 {
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "; udp echoed %d, tcp connections %d, tcp bytes echoed %d", st.UDPEchoed, st.TCPConnections, st.TCPBytesEchoed)
	return b.String()
}

// attachLink opens the NIC, adds it to the stack with its address and routes.
func attachLink(s *stack.Stack, c serveConfig) (ifindex int, closeLink func(), err error) {
	kind, name, _ := strings.Cut(c.link, ":")
	ep, closeLink, err := openLink(kind, name, c.pcap)
	if err != nil {
		return 0, nil, err
	}
	ifindex, err = s.AddInterface(name, ep)
	if err == nil {
		err = s.AddAddress(ifindex, c.addr)
	}
	if err == nil {
		err = s.AddRoute(c.addr.Masked(), netip.Addr{}, ifindex)
	}
	if err == nil && c.gw.IsValid() {
		err = s.AddRoute(netip.PrefixFrom(netip.IPv4Unspecified(), 0), c.gw, ifindex)
	}
	if err != nil {
		closeLink()
		return 0, nil, fmt.Errorf("configuring %s: %w", c.link, err)
	}
	return ifindex, closeLink, nil
}
