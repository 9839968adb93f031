package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// Constants of iputils tracepath, whose behaviour and output this command
// reproduces on netsandbox's sockets.
const (
	tpMaxProbes   = 10    // sends per probe before giving up
	tpMaxHops     = 30    // default hop limit
	tpHostColumn  = 52    // width of the host column
	tpHistory     = 64    // probes remembered by destination port
	tpOverhead    = 28    // IPv4 + UDP headers
	tpDefaultMTU  = 65535 // first probe size
	tpDefaultPort = 44444
	tpProbeHdr    = 24 // struct probehdr: u32 ttl, pad, struct timespec
)

type tracepathConfig struct {
	link    string
	addr    netip.Prefix
	gw      netip.Addr
	numeric bool
	length  int
	maxHops int
	dest    netip.Addr
	port    int
	wait    time.Duration
}

func parseTracepath(args []string, stderr io.Writer) (tracepathConfig, error) {
	c := tracepathConfig{maxHops: tpMaxHops}
	fs := newFlagSet("tracepath", stderr)
	fs.StringVar(&c.link, "link", "", "the NIC: tap:NAME or iface:NAME (an existing interface, e.g. a veth end)")
	addr := fs.String("addr", "", "the host's address and prefix length, e.g. 198.18.0.2/24")
	gw := fs.String("gw", "", "default gateway (optional)")
	fs.BoolVar(&c.numeric, "n", false, "print hop addresses (without -n hops read ???: the stack has no resolver)")
	fs.IntVar(&c.length, "l", tpDefaultMTU, "initial packet length, IP and UDP headers included")
	fs.IntVar(&c.maxHops, "m", tpMaxHops, "maximum number of hops")
	fs.DurationVar(&c.wait, "wait", time.Second, "how long to wait for an answer to each probe")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: netsandbox tracepath --link tap:NAME|iface:NAME --addr A/N [--gw G] [-n] [-l LEN] [-m HOPS] DEST[/PORT]")
		fmt.Fprintln(stderr, "\nTraces the path to DEST and its MTU from a userspace host on a real NIC,")
		fmt.Fprintln(stderr, "with iputils tracepath's probes and output. Flags go before DEST.")
		fmt.Fprintln(stderr, "\nFlags:")
		printFlags(stderr, fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errFlagHelp
		}
		return c, usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return c, usagef("want exactly one destination, DEST[/PORT]")
	}
	sc, err := parseServe(linkArgs(c.link, *addr, *gw), stderr)
	if err != nil {
		return c, err
	}
	c.addr, c.gw = sc.addr, sc.gw
	if c.length <= tpOverhead {
		return c, usagef("-l %d: pktlen must be within: %d < value <= %d", c.length, tpOverhead, 65535)
	}
	if c.length > tpDefaultMTU {
		return c, usagef("-l %d: at most %d", c.length, tpDefaultMTU)
	}
	if c.maxHops < 1 || c.maxHops > 255 {
		return c, usagef("-m %d: want 1..255", c.maxHops)
	}
	dest, port, hasPort := strings.Cut(fs.Arg(0), "/")
	c.port = tpDefaultPort
	if hasPort {
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return c, usagef("%q: the port must be 0..65535", port)
		}
		c.port = p
	}
	d, err := netip.ParseAddr(dest)
	if err != nil || !d.Is4() {
		return c, usagef("%q: want an IPv4 address (names are not resolved)", dest)
	}
	c.dest = d
	if c.wait <= 0 {
		return c, usagef("--wait %v: want a positive duration", c.wait)
	}
	return c, nil
}

// linkArgs reuses serve's validation of the NIC flags.
func linkArgs(link, addr, gw string) []string {
	a := []string{"--link", link, "--addr", addr}
	if gw != "" {
		a = append(a, "--gw", gw)
	}
	return a
}

func runTracepath(args []string, stdout, stderr io.Writer) error {
	c, err := parseTracepath(args, stderr)
	if err != nil {
		return err
	}
	s, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		return fmt.Errorf("starting the stack: %w", err)
	}
	_, closeLink, err := attachLink(s, serveConfig{link: c.link, addr: c.addr, gw: c.gw})
	if err != nil {
		s.Close()
		return err
	}
	defer func() { s.Close(); closeLink() }()
	return tracepath(s, c, stdout, stderr)
}

// tracer is one tracepath run: iputils' run_state.
type tracer struct {
	c      tracepathConfig
	sock   endpoint.Socket
	out    io.Writer
	errOut io.Writer
	start  time.Time
	his    [tpHistory]struct {
		hops int
		sent time.Duration
	}
	hisptr   int
	ttl      int
	mtu      int
	hopsTo   int
	hopsFrom int
	buf      []byte
}

// tracepath runs the probes on s and prints iputils tracepath's report.
func tracepath(s *stack.Stack, c tracepathConfig, stdout, stderr io.Writer) error {
	sock, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer sock.Close()
	for _, o := range []struct {
		name string
		opt  int
		v    int32
	}{{"IP_MTU_DISCOVER", unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE}, {"IP_RECVERR", unix.IP_RECVERR, 1}, {"IP_RECVTTL", unix.IP_RECVTTL, 1}} {
		if err := sock.SetSockOpt(unix.SOL_IP, o.opt, int32Bytes(o.v)); err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
	}
	t := &tracer{c: c, sock: sock, out: stdout, errOut: stderr, start: time.Now(), mtu: c.length, hopsTo: -1, hopsFrom: -1}
	t.buf = make([]byte, tpDefaultMTU)
	done := false
	for t.ttl = 1; t.ttl <= c.maxHops && !done; t.ttl++ {
		if err := sock.SetSockOpt(unix.SOL_IP, unix.IP_TTL, int32Bytes(int32(t.ttl))); err != nil {
			return fmt.Errorf("IP_TTL: %w", err)
		}
		res := -1
		// A new path MTU restarts the three tries at this TTL; it can only
		// go down, so this ends.
		for i := 0; i < 3; i++ {
			old := t.mtu
			res = t.probe()
			if t.mtu != old {
				i = -1
				continue
			}
			if res == 0 {
				done = true
				break
			}
			if res > 0 {
				break
			}
		}
		if done {
			break
		}
		if res < 0 {
			fmt.Fprintf(stdout, "%2d:  no reply\n", t.ttl)
		}
	}
	if !done {
		fmt.Fprintf(stdout, "     Too many hops: pmtu %d\n", t.mtu)
	}
	fmt.Fprintf(stdout, "     Resume: pmtu %d ", t.mtu)
	if t.hopsTo >= 0 {
		fmt.Fprintf(stdout, "hops %d ", t.hopsTo)
	}
	if t.hopsFrom >= 0 {
		fmt.Fprintf(stdout, "back %d ", t.hopsFrom)
	}
	fmt.Fprintln(stdout)
	return nil
}

func int32Bytes(v int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return b
}

// now is the probes' clock: monotonic, never zero (a zero time in a
// returned probe marks a broken router).
func (t *tracer) now() time.Duration { return time.Since(t.start) + time.Second }

// probe sends one probe of the current size at the current TTL and reads
// what comes back: 0 ends the trace, > 0 is progress, < 0 no answer.
func (t *tracer) probe() int {
	pkt := t.buf[:t.mtu]
	clear(pkt)
	sent := false
	for i := 0; i < tpMaxProbes; i++ {
		port := t.c.port + t.hisptr
		now := t.now()
		binary.NativeEndian.PutUint32(pkt[0:4], uint32(t.ttl))
		binary.NativeEndian.PutUint64(pkt[8:16], uint64(now/time.Second))
		binary.NativeEndian.PutUint64(pkt[16:24], uint64(now%time.Second))
		t.his[t.hisptr].hops, t.his[t.hisptr].sent = t.ttl, now
		to := options.SockaddrIn(netip.AddrPortFrom(t.c.dest, uint16(port)))
		if n, err := t.sock.SendMsg(t.buf[:t.mtu-tpOverhead], nil, to, 0); err == nil && n > 0 {
			sent = true
			break
		}
		res := t.recvErr()
		t.his[t.hisptr].hops = 0
		if res == 0 {
			return 0
		}
		if res > 0 {
			// The MTU changed: start over with the new size.
			pkt = t.buf[:t.mtu]
			clear(pkt)
			i = -1
		}
	}
	t.hisptr = (t.hisptr + 1) % tpHistory
	if !sent {
		fmt.Fprintf(t.out, "%2d:  send failed\n", t.ttl)
		return 0
	}
	t.sock.Wait(unix.EPOLLIN|unix.EPOLLERR, time.Now().Add(t.c.wait))
	if n, _, _, _, err := t.sock.RecvMsg(t.buf, nil, unix.MSG_DONTWAIT); err == nil && n > 0 {
		fmt.Fprintf(t.out, "%2d?: reply received 8)\n", t.ttl)
		return 0
	}
	return t.recvErr()
}

// recvErr drains the error queue, printing a line per error, as iputils'
// recverr: 0 ends the trace, the MTU when something was read, -1 when
// nothing was.
func (t *tracer) recvErr() int {
	progress := -1
	var hdr [tpProbeHdr]byte
	cbuf := make([]byte, 512)
	for round := 0; round < 256; round++ {
		for i := range hdr {
			hdr[i] = 0xff
		}
		now := t.now()
		n, oobn, _, from, err := t.sock.RecvMsg(hdr[:], cbuf, unix.MSG_ERRQUEUE)
		if err != nil {
			if err == unix.EAGAIN {
				return progress
			}
			continue
		}
		progress = t.mtu
		rethops, sndhops := -1, -1
		var sent time.Duration
		haveSent, broken := false, false
		if ap, _, err := options.ParseSockaddrIn(from); err == nil {
			slot := int(ap.Port()) - t.c.port
			if slot >= 0 && slot < tpHistory-1 && t.his[slot].hops != 0 {
				sndhops, sent, haveSent = t.his[slot].hops, t.his[slot].sent, true
				t.his[slot].hops = 0
			}
		}
		if n == tpProbeHdr {
			pttl := binary.NativeEndian.Uint32(hdr[0:4])
			sec, nsec := binary.NativeEndian.Uint64(hdr[8:16]), binary.NativeEndian.Uint64(hdr[16:24])
			if pttl == 0 || sec == 0 && nsec == 0 {
				broken = true
			} else {
				sndhops = int(pttl)
				sent, haveSent = time.Duration(sec)*time.Second+time.Duration(nsec), true
			}
		}
		var ee *options.SockExtendedErr
		var offender netip.Addr
		p := options.NewCmsgParser(cbuf[:oobn])
		for {
			m, ok := p.Next()
			if !ok {
				break
			}
			h, data := m, m.Data
			if h.Level != unix.SOL_IP {
				continue
			}
			switch h.Type {
			case unix.IP_RECVERR:
				if e, err := options.ParseSockExtendedErr(data); err == nil {
					ee = &e
					if len(data) >= options.SizeofRecvErr {
						if a, _, err := options.ParseSockaddrIn(data[options.SizeofSockExtendedErr:options.SizeofRecvErr]); err == nil {
							offender = a.Addr()
						}
					}
				}
			case unix.IP_TTL:
				if len(data) > 0 {
					rethops = int(data[0])
				}
			default:
				fmt.Fprintf(t.out, "cmsg4:%d\n ", h.Type)
			}
		}
		if ee == nil {
			fmt.Fprintf(t.out, "no info\n")
			return 0
		}
		switch ee.Origin {
		case unix.SO_EE_ORIGIN_LOCAL:
			fmt.Fprintf(t.out, "%2d?: %-32s ", t.ttl, "[LOCALHOST]")
		case unix.SO_EE_ORIGIN_ICMP:
			if sndhops > 0 {
				fmt.Fprintf(t.out, "%2d:  ", sndhops)
			} else {
				fmt.Fprintf(t.out, "%2d?: ", t.ttl)
			}
			t.printHost(offender)
		}
		if haveSent {
			d := now - sent
			fmt.Fprintf(t.out, "%3d.%03dms ", d/time.Millisecond, (d%time.Millisecond)/time.Microsecond)
			if broken {
				fmt.Fprintf(t.out, "(This broken router returned corrupted payload) ")
			}
		}
		switch {
		case rethops <= 64:
			rethops = 65 - rethops
		case rethops <= 128:
			rethops = 129 - rethops
		default:
			rethops = 256 - rethops
		}
		switch unix.Errno(ee.Errno) {
		case unix.ETIMEDOUT:
			fmt.Fprintln(t.out)
		case unix.EMSGSIZE:
			fmt.Fprintf(t.out, "pmtu %d\n", ee.Info)
			t.mtu = int(ee.Info)
			progress = t.mtu
		case unix.ECONNREFUSED:
			fmt.Fprintf(t.out, "reached\n")
			t.hopsTo = sndhops
			if sndhops < 0 {
				t.hopsTo = t.ttl
			}
			t.hopsFrom = rethops
			return 0
		case unix.EPROTO:
			fmt.Fprintf(t.out, "!P\n")
			return 0
		case unix.EHOSTUNREACH:
			if ee.Origin == unix.SO_EE_ORIGIN_ICMP && ee.Type == 11 && ee.Code == 0 {
				if rethops >= 0 && (sndhops >= 0 && rethops != sndhops || sndhops < 0 && rethops != t.ttl) {
					fmt.Fprintf(t.out, "asymm %2d ", rethops)
				}
				fmt.Fprintln(t.out)
				break
			}
			fmt.Fprintf(t.out, "!H\n")
			return 0
		case unix.ENETUNREACH:
			fmt.Fprintf(t.out, "!N\n")
			return 0
		case unix.EACCES:
			fmt.Fprintf(t.out, "!A\n")
			return 0
		default:
			fmt.Fprintln(t.out)
			fmt.Fprintf(t.errOut, "netsandbox tracepath: NET ERROR: %v\n", unix.Errno(ee.Errno))
			return 0
		}
	}
	return progress
}

// printHost prints the hop in the host column: the address with -n,
// else its name. netsandbox's stack has no resolver, so the name lookup
// fails as iputils' getnameinfo does without a reachable DNS server, and
// the column reads "???" as it does there.
func (t *tracer) printHost(a netip.Addr) {
	s := "???"
	if t.c.numeric && a.IsValid() {
		s = a.String()
	}
	n, _ := fmt.Fprint(t.out, s)
	if n >= tpHostColumn {
		n = tpHostColumn - 1
	}
	fmt.Fprintf(t.out, "%*s", tpHostColumn-n, "")
}
