package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type attachConfig struct {
	gatewayConfig
	netns string // --netns PATH
	pid   int    // --pid PID
	tap   string
	// noDefaultRoute attaches without a default route (the namespace may
	// keep its own); routes via 10.0.2.2 are then the user's to add.
	noDefaultRoute bool
}

func parseAttach(args []string, stderr io.Writer) (attachConfig, error) {
	c := attachConfig{}
	fs := newFlagSet("attach", stderr)
	fs.StringVar(&c.netns, "netns", "", "the network namespace to attach, as a path (/run/netns/NAME, /proc/PID/ns/net)")
	fs.IntVar(&c.pid, "pid", 0, "attach the network namespace of process PID (attach also ends when PID does)")
	fs.StringVar(&c.tap, "tap", sandboxTAP, "name of the TAP to create in the namespace (must not exist)")
	fs.BoolVar(&c.noDefaultRoute, "no-default-route", false, "add no default route via 10.0.2.2 (the namespace may already have one)")
	finish := c.gatewayFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox attach --netns PATH | --pid PID [FLAGS]")
		fmt.Fprintln(stderr, "\nGives an existing network namespace (a container's) its network through a")
		fmt.Fprintln(stderr, "netsandbox gateway: creates a TAP there with 10.0.2.100/24 and a default route")
		fmt.Fprintln(stderr, "via 10.0.2.2 (DNS at 10.0.2.3), relays its flows over this host's sockets until")
		fmt.Fprintln(stderr, "SIGINT or SIGTERM, then removes that TAP. Refuses a namespace that already has a")
		fmt.Fprintln(stderr, "default route (see --no-default-route), a link of the TAP's name, or 10.0.2.0/24.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	switch {
	case c.netns == "" && c.pid == 0:
		return c, usagef("which namespace? give --netns PATH or --pid PID")
	case c.netns != "" && c.pid != 0:
		return c, usagef("give --netns or --pid, not both")
	case c.pid < 0:
		return c, usagef("--pid %d: want a process ID", c.pid)
	}
	if err := checkIfName(c.tap); err != nil {
		return c, usagef("--tap %q: %v", c.tap, err)
	}
	return c, finish()
}

// checkIfName accepts what the kernel's dev_valid_name accepts.
func checkIfName(s string) error {
	if s == "" || len(s) >= syscall.IFNAMSIZ {
		return fmt.Errorf("want 1..%d bytes", syscall.IFNAMSIZ-1)
	}
	if s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n") {
		return errors.New("not an interface name")
	}
	return nil
}

// runAttach is `netsandbox attach`: it runs until a signal or the end of
// the namespace, then removes the TAP it made.
func runAttach(args []string, stdout, stderr io.Writer) error {
	c, err := parseAttach(args, stderr)
	if err != nil {
		return err
	}
	ns, err := openTargetNetns(c.netns, c.pid)
	if err != nil {
		return err
	}
	defer ns.close()
	var tap int
	err = ns.do(func() error {
		if err := checkAttachable(c.tap, !c.noDefaultRoute); err != nil {
			return err
		}
		var err error
		tap, err = openSandboxTAP(tapSetup{name: c.tap, mtu: c.mtu, offload: c.offload, defaultRoute: !c.noDefaultRoute})
		return explainPerm(err, "creating a TAP in "+ns.desc+" needs CAP_NET_ADMIN over it")
	})
	if err != nil {
		return err
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	gw, cleanup, err := startGateway(c.gatewayConfig, tap, stderr)
	if err != nil {
		return err
	}
	route := ", default route via " + gatewayAddr.String()
	if c.noDefaultRoute {
		route = ", no default route"
	}
	fmt.Fprintf(stderr, "netsandbox attach: %s in %s: %s%s, DNS %s; SIGINT or SIGTERM detaches\n",
		c.tap, ns.desc, sandboxAddr, route, dnsAddr)

	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	why := ""
	for why == "" {
		select {
		case sig := <-sigs:
			why = sig.String()
		case <-tick.C:
			why = ns.gone()
		}
	}
	// Closing the TAP's only fd removes the device, and with it its address
	// and routes: the namespace is left as it was.
	cleanup()
	printGatewayStats(stderr, c.gatewayConfig, gw)
	fmt.Fprintf(stderr, "netsandbox attach: %s: detached, %s removed\n", why, c.tap)
	return nil
}
