package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// mcastLeaveGrace is how long the stack lives on after the socket closed,
// for the IGMP leave report to reach the wire.
const mcastLeaveGrace = 100 * time.Millisecond

type mcastConfig struct {
	link    string
	addr    netip.Prefix
	gw      netip.Addr
	pcap    string
	group   netip.Addr
	port    int
	sources []netip.Addr // include mode (source-specific)
	blocks  []netip.Addr // exclude mode
	count   int
	timeout time.Duration
	hex     bool
	text    bool
	json    bool
}

// addrList is a repeatable flag of IPv4 unicast addresses.
type addrList struct {
	name string
	list *[]netip.Addr
}

func (l addrList) String() string {
	if l.list == nil {
		return ""
	}
	s := make([]string, len(*l.list))
	for i, a := range *l.list {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (l addrList) Set(v string) error {
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return fmt.Errorf("%q: want an IPv4 unicast source address", v)
	}
	*l.list = append(*l.list, a)
	return nil
}

func parseMcast(args []string, stderr io.Writer) (mcastConfig, error) {
	var c mcastConfig
	fs := newFlagSet("mcast", stderr)
	fs.StringVar(&c.link, "link", "", "the NIC: tap:NAME (created if missing) or iface:NAME (an existing interface, e.g. a veth end)")
	addr := fs.String("addr", "", "the host's address and prefix length, e.g. 198.18.0.2/24")
	gw := fs.String("gw", "", "default gateway (optional)")
	group := fs.String("group", "", "the multicast group to join, e.g. 239.1.2.3")
	fs.IntVar(&c.port, "port", 0, "the UDP port to receive on")
	fs.Var(addrList{"--source", &c.sources}, "source", "receive only from this `SOURCE` (include mode, source-specific; repeatable)")
	fs.Var(addrList{"--block", &c.blocks}, "block", "receive from any source but this `SOURCE` (exclude mode; repeatable)")
	fs.IntVar(&c.count, "count", 0, "exit after this many datagrams (0: until stopped)")
	fs.DurationVar(&c.timeout, "timeout", 0, "stop after this long (0: no limit); with --count, fewer datagrams by then is a failure")
	fs.BoolVar(&c.hex, "hex", false, "print each payload in hex")
	fs.BoolVar(&c.text, "text", false, "print each payload as a quoted string (non-printable bytes escaped)")
	fs.BoolVar(&c.json, "json", false, "print each datagram as one JSON object a line: from, group, ifname, ifindex, len, truncated, and hex or text if asked")
	fs.StringVar(&c.pcap, "pcap", "", "write every frame of the NIC to this pcap file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox mcast --link tap:NAME|iface:NAME --addr A/N --group G --port P [--source S]... | [--block S]... [--count N] [--timeout D] [--hex|--text] [--json]")
		fmt.Fprintln(stderr, "\nJoins a multicast group on a NIC from a userspace host (IGMPv3) and prints one line")
		fmt.Fprintln(stderr, "per datagram that arrives: source, group, interface, length and, if asked, the payload.")
		fmt.Fprintln(stderr, "Without --source or --block any source is taken.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	sc, err := parseServe(linkArgs(c.link, *addr, *gw), stderr)
	if err != nil {
		return c, err
	}
	c.addr, c.gw = sc.addr, sc.gw
	if *group == "" {
		return c, usagef("--group is required, e.g. --group 239.1.2.3")
	}
	g, err := netip.ParseAddr(*group)
	if err != nil || !g.Is4() || !g.IsMulticast() {
		return c, usagef("--group %q: want an IPv4 multicast address (224.0.0.0/4), e.g. 239.1.2.3", *group)
	}
	c.group = g
	if c.port < 1 || c.port > 65535 {
		return c, usagef("--port %d: want a UDP port in 1..65535", c.port)
	}
	if len(c.sources) > 0 && len(c.blocks) > 0 {
		return c, usagef("--source and --block exclude each other: a membership is either include (--source) or exclude (--block) mode")
	}
	for _, l := range []struct {
		flag string
		list []netip.Addr
	}{{"--source", c.sources}, {"--block", c.blocks}} {
		seen := map[netip.Addr]bool{}
		for _, a := range l.list {
			if seen[a] {
				return c, usagef("%s %s given twice", l.flag, a)
			}
			seen[a] = true
		}
	}
	if c.count < 0 {
		return c, usagef("--count %d: want 0 (no limit) or more", c.count)
	}
	if c.timeout < 0 {
		return c, usagef("--timeout %v: want 0 (no limit) or a positive duration", c.timeout)
	}
	if c.hex && c.text {
		return c, usagef("--hex and --text exclude each other")
	}
	return c, nil
}

func runMcast(args []string, stdout, stderr io.Writer) error {
	c, err := parseMcast(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}

	s, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		return fmt.Errorf("starting the stack: %w", err)
	}
	nic, closeLink, err := attachLink(s, serveConfig{link: c.link, addr: c.addr, gw: c.gw, pcap: c.pcap})
	if err != nil {
		s.Close()
		return err
	}
	defer func() { s.Close(); closeLink() }()

	sock, err := mcastSocket(s, c, nic)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "netsandbox: joined %s on %s (ifindex %d), UDP port %d, %s; Ctrl-C stops\n",
		c.group, c.link, nic, c.port, filterText(c))
	got, err := mcastReceive(ctx, s, sock, c, stdout)
	// Closing leaves the group; the stack sends the leave report after a
	// few milliseconds, so it waits a little before it stops.
	sock.Close()
	time.Sleep(mcastLeaveGrace)
	if err != nil {
		return err
	}
	if c.count > 0 && got < c.count {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("--timeout %v passed with %d of %d datagrams; check that senders reach %s:%d on this link (TTL > 1 across routers) and that the filter lets them through", c.timeout, got, c.count, c.group, c.port)
		}
	}
	fmt.Fprintf(stderr, "netsandbox: %d datagrams; left %s\n", got, c.group)
	return nil
}

func filterText(c mcastConfig) string {
	switch {
	case len(c.sources) > 0:
		return "include {" + addrList{list: &c.sources}.String() + "}"
	case len(c.blocks) > 0:
		return "exclude {" + addrList{list: &c.blocks}.String() + "}"
	}
	return "any source"
}

// mcastSocket opens the receiving socket: bound to the port, IP_PKTINFO on,
// datagrams of groups it did not join itself refused (IP_MULTICAST_ALL 0),
// and the membership made with the MCAST_* API on the NIC's ifindex.
func mcastSocket(s *stack.Stack, c mcastConfig, nic int) (endpoint.Socket, error) {
	sock, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("opening a UDP socket: %w", err)
	}
	fail := func(what string, err error) (endpoint.Socket, error) {
		sock.Close()
		return nil, fmt.Errorf("%s: %w%s", what, err, joinHint(err))
	}
	one := []byte{1, 0, 0, 0}
	if err := sock.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, one); err != nil {
		return fail("SO_REUSEADDR", err)
	}
	if err := sock.Bind(options.SockaddrIn(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(c.port)))); err != nil {
		return fail(fmt.Sprintf("binding UDP port %d", c.port), err)
	}
	if err := sock.SetSockOpt(unix.IPPROTO_IP, unix.IP_PKTINFO, one); err != nil {
		return fail("IP_PKTINFO", err)
	}
	if err := sock.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, []byte{0, 0, 0, 0}); err != nil {
		return fail("IP_MULTICAST_ALL", err)
	}
	ifx := uint32(nic)
	if len(c.sources) > 0 {
		for _, src := range c.sources {
			r := options.GroupSourceReq{Interface: ifx, Group: c.group, Source: src}.Encode()
			if err := sock.SetSockOpt(unix.IPPROTO_IP, unix.MCAST_JOIN_SOURCE_GROUP, r[:]); err != nil {
				return fail(fmt.Sprintf("joining %s from source %s", c.group, src), err)
			}
		}
		return sock, nil
	}
	r := options.GroupReq{Interface: ifx, Group: c.group}.Encode()
	if err := sock.SetSockOpt(unix.IPPROTO_IP, unix.MCAST_JOIN_GROUP, r[:]); err != nil {
		return fail(fmt.Sprintf("joining %s", c.group), err)
	}
	for _, src := range c.blocks {
		r := options.GroupSourceReq{Interface: ifx, Group: c.group, Source: src}.Encode()
		if err := sock.SetSockOpt(unix.IPPROTO_IP, unix.MCAST_BLOCK_SOURCE, r[:]); err != nil {
			return fail(fmt.Sprintf("blocking source %s", src), err)
		}
	}
	return sock, nil
}

// joinHint tells the user what to change after a refused membership call.
func joinHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOBUFS):
		return " (too many sources: a membership takes at most 10, Linux's net.ipv4.igmp_max_msf default; give fewer --source or --block)"
	case errors.Is(err, unix.EADDRINUSE):
		return " (the port is taken by another program on this stack)"
	}
	return ""
}

// mcastReceive prints datagrams until ctx ends or --count is reached.
func mcastReceive(ctx context.Context, s *stack.Stack, sock endpoint.Socket, c mcastConfig, out io.Writer) (int, error) {
	buf, oob := make([]byte, 65536), make([]byte, 256)
	got := 0
	for c.count == 0 || got < c.count {
		if ctx.Err() != nil {
			return got, nil
		}
		// Short waits so Ctrl-C and --timeout are noticed promptly.
		if _, err := sock.Wait(unix.EPOLLIN, time.Now().Add(200*time.Millisecond)); err != nil && !errors.Is(err, unix.EAGAIN) {
			return got, fmt.Errorf("waiting for datagrams: %w", err)
		}
		n, oobn, flags, from, err := sock.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			return got, fmt.Errorf("receiving: %w", err)
		}
		got++
		d := decodeDatagram(s, buf[:n], oob[:oobn], flags, from, c)
		if c.json {
			if err := json.NewEncoder(out).Encode(d); err != nil {
				return got, err
			}
		} else {
			fmt.Fprintln(out, d.line())
		}
	}
	return got, nil
}

// datagram is what mcast reports of one datagram; --json prints it as
// one JSON object a line, fields empty where unknown.
type datagram struct {
	From      string  `json:"from"`  // sender ADDR:PORT
	Group     string  `json:"group"` // IP_PKTINFO's ipi_addr
	IfName    string  `json:"ifname"`
	IfIndex   int     `json:"ifindex"`
	Len       int     `json:"len"`
	Truncated bool    `json:"truncated"`
	Hex       *string `json:"hex,omitempty"`  // with --hex
	Text      *string `json:"text,omitempty"` // with --text (invalid UTF-8 becomes U+FFFD: --hex for binary)
	payload   []byte
}

// decodeDatagram reads sender, group and interface (from IP_PKTINFO's
// ipi_addr and ipi_ifindex), length and, if asked, the payload.
func decodeDatagram(s *stack.Stack, p, oob []byte, flags int, from []byte, c mcastConfig) datagram {
	d := datagram{Len: len(p), Truncated: flags&unix.MSG_TRUNC != 0, payload: p}
	if src, _, err := options.ParseSockaddrIn(from); err == nil {
		d.From = src.String()
	}
	cp := options.NewCmsgParser(oob)
	for m, ok := cp.Next(); ok; m, ok = cp.Next() {
		if m.Level == unix.IPPROTO_IP && m.Type == unix.IP_PKTINFO {
			if pi, err := options.ParseInPktinfo(m.Data); err == nil {
				d.IfIndex = int(pi.IfIndex)
				if pi.Addr.IsValid() {
					d.Group = pi.Addr.String()
				}
			}
		}
	}
	if ifc, ok := s.InterfaceByIndex(d.IfIndex); ok {
		d.IfName = ifc.Name
	}
	switch {
	case c.hex:
		h := hex.EncodeToString(p)
		d.Hex = &h
	case c.text:
		t := string(p)
		d.Text = &t
	}
	return d
}

// line renders a datagram as mcast prints it without --json.
func (d datagram) line() string {
	q := func(s string) string {
		if s == "" {
			return "?"
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "from %s group %s if %s/%d len %d", q(d.From), q(d.Group), q(d.IfName), d.IfIndex, d.Len)
	if d.Truncated {
		b.WriteString(" (truncated)")
	}
	switch {
	case d.Hex != nil:
		b.WriteString(" hex " + *d.Hex)
	case d.Text != nil:
		b.WriteString(" text " + strconv.QuoteToASCII(string(d.payload)))
	}
	return b.String()
}
