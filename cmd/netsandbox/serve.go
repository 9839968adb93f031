package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"netsandbox/stack"
)

type serveConfig struct {
	link    string
	addr    netip.Prefix
	gw      netip.Addr
	udpEcho int
	tcpEcho int
	pcap    string
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox serve --link tap:NAME|iface:NAME --addr A/N [--gw G] [--udp-echo PORT] [--tcp-echo PORT] [--pcap FILE]")
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
	if c.udpEcho != 0 {
		if err := startUDPEcho(ctx, &wg, s, c.udpEcho); err != nil {
			return err
		}
	}
	if c.tcpEcho != 0 {
		if err := startTCPEcho(ctx, &wg, s, c.tcpEcho); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "netsandbox: serving %s on %s (ifindex %d); Ctrl-C stops\n", c.addr, c.link, nic)
	<-ctx.Done()
	wg.Wait()
	fmt.Fprintln(stdout, "netsandbox: stopped")
	return nil
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
