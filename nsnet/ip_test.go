package nsnet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"

	"netsandbox/nsnet"
	"netsandbox/stack"
)

// pingCfg lets gid 1000 open ping sockets (Linux's default range, "1 0",
// lets nobody) and gives CAP_NET_RAW for raw ones.
var pingCfg = stack.Config{
	Caps:   stack.CapNetRaw,
	GID:    1000,
	Sysctl: map[string]string{"net.ipv4.ping_group_range": "1000 1000"},
}

// echoRequest is an ICMP echo request with identifier id, sequence seq and
// data, its checksum left 0 for the stack to fill (as a ping socket does).
func echoRequest(id, seq uint16, data string) []byte {
	b := make([]byte, 8+len(data))
	b[0] = 8 // echo request, code 0
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], data)
	return b
}

// inetChecksum is RFC 1071's sum (gVisor's); a message with a correct
// checksum field sums to 0.
func inetChecksum(b []byte) uint16 { return ^checksum.Checksum(b, 0) }

// putChecksum fills the ICMP checksum of m.
func putChecksum(m []byte) {
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], inetChecksum(m))
}

// rawEcho writes an echo request on the raw conn c and checks the reply
// it reads back, IP header first.
func rawEcho(t *testing.T, c net.Conn, id uint16, data, what string) {
	t.Helper()
	req := echoRequest(id, 1, data)
	putChecksum(req)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("raw read of %d bytes", n)
	}
	checkEchoReply(t, what, buf[20:n], id, 1, data)
}

// checkEchoReply fails t unless m is an ICMP echo reply (header and data)
// with a correct checksum, identifier id, sequence seq and data.
func checkEchoReply(t *testing.T, what string, m []byte, id, seq uint16, data string) {
	t.Helper()
	if len(m) < 8 || m[0] != 0 || m[1] != 0 || inetChecksum(m) != 0 ||
		binary.BigEndian.Uint16(m[4:]) != id || binary.BigEndian.Uint16(m[6:]) != seq || string(m[8:]) != data {
		t.Fatalf("%s: % x; want an echo reply, id %d seq %d data %q, valid checksum", what, m, id, seq, data)
	}
}

// A ping conn's request carries the conn's identifier, whatever the
// written one was, and the reply comes back to it, as net/ipv4/ping.c
// does: the identifier is picked at bind (or is the bound "port"), is
// exclusive, and the stack fills the checksum.
func TestPingEcho(t *testing.T) {
	w := newWireWith(t, pingCfg)
	c, err := nsnet.ListenICMP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := c.Ident()
	if id == 0 {
		t.Fatal("ListenICMP: no identifier picked at bind")
	}
	if la := c.LocalAddr().(*net.IPAddr); !la.IP.Equal(net.IPv4zero) {
		t.Errorf("LocalAddr = %v, want 0.0.0.0", la)
	}
	if err := c.SetControlMessage(nsnet.FlagTTL|nsnet.FlagDst|nsnet.FlagInterface, true); err != nil {
		t.Fatal(err)
	}
	// The written identifier (0xdead) is replaced by the conn's.
	if _, err := c.WriteTo(echoRequest(0xdead, 1, "hello"), &net.IPAddr{IP: addrB.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	var cm nsnet.ControlMessage
	n, from, err := c.ReadMsg(buf, &cm)
	if err != nil {
		t.Fatal(err)
	}
	checkEchoReply(t, "reply", buf[:n], id, 1, "hello")
	want := nsnet.ControlMessage{TTL: 64, Dst: addrA, IfIndex: w.ifA}
	if from != addrB || cm != want {
		t.Errorf("reply from %v, cm %+v; want from %v, cm %+v", from, cm, addrB, want)
	}

	// A bound identifier is used as is. Ping sockets have SO_REUSEADDR on
	// from birth (INET_PROTOSW_REUSE), so a second socket may bind it too,
	// and the newest takes the replies (ping_lookup walks the hash chain,
	// newest first) until it closes.
	b, err := nsnet.ListenICMP(w.a, netip.AddrPortFrom(addrA, 4242))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Ident() != 4242 {
		t.Errorf("bound Ident = %d, want 4242", b.Ident())
	}
	b2, err := nsnet.ListenICMP(w.a, netip.AddrPortFrom(netip.IPv4Unspecified(), 4242))
	if err != nil {
		t.Fatalf("second bind of identifier 4242 (both SO_REUSEADDR): %v", err)
	}
	for i, rx := range []*nsnet.ICMPConn{b2, b} {
		seq := uint16(7 + i)
		if _, err := b.WriteMsg(echoRequest(0, seq, "bound"), &nsnet.ControlMessage{TTL: 5}, addrB); err != nil {
			t.Fatal(err)
		}
		rx.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err = rx.ReadMsg(buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkEchoReply(t, "bound reply", buf[:n], 4242, seq, "bound")
		b2.Close()
	}
	// A dialed conn gets its identifier at connect and is a net.Conn.
	d, err := nsnet.DialICMP(w.a, netip.AddrPort{}, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Ident() == 0 || d.Ident() == id || d.Ident() == 4242 {
		t.Errorf("dialed Ident = %d (others: %d, 4242)", d.Ident(), id)
	}
	if ra := d.RemoteAddr().(*net.IPAddr); !ra.IP.Equal(addrB.AsSlice()) {
		t.Errorf("RemoteAddr = %v", ra)
	}
	var nc net.Conn = d
	if _, err := nc.Write(echoRequest(0, 2, "dialed")); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err = nc.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	checkEchoReply(t, "dialed reply", buf[:n], d.Ident(), 2, "dialed")

	// Only an ICMP echo request may be sent: type 13 is EINVAL.
	ts := echoRequest(0, 3, "")
	ts[0] = 13
	if _, err := d.Write(ts); !errors.Is(err, unix.EINVAL) {
		t.Errorf("timestamp request on a ping conn = %v, want EINVAL", err)
	}
}

// Who may open which: ping sockets need a gid in ping_group_range, raw
// sockets CAP_NET_RAW; both refusals are OpErrors with Linux's errno.
func TestICMPConnPermissions(t *testing.T) {
	w := newWire(t) // default configs: gid 0, range "1 0", no caps
	_, err := nsnet.ListenICMP(w.a, netip.AddrPort{})
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, unix.EACCES) || oe.Op != "listen" {
		t.Errorf("ListenICMP outside ping_group_range = %v, want a listen OpError with EACCES", err)
	}
	if _, err := nsnet.ListenIP(w.a, unix.IPPROTO_ICMP, netip.Addr{}); !errors.As(err, &oe) || !errors.Is(err, unix.EPERM) {
		t.Errorf("ListenIP without CAP_NET_RAW = %v, want an OpError with EPERM", err)
	}
	if err := w.a.Sysctl().Set("net.ipv4.ping_group_range", "0 0"); err != nil {
		t.Fatal(err)
	}
	c, err := nsnet.ListenICMP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatalf("ListenICMP with gid 0 in range: %v", err)
	}
	c.Close()
}

// A raw ICMP conn gets a copy of every ICMP datagram for the stack, the
// IP header first, as Linux raw sockets do: here the echo reply a ping
// conn is waiting for. Its own writes are bare ICMP (the stack builds the
// header), with the checksum the writer computed.
func TestRawICMPSeesEchoReplyWithHeader(t *testing.T) {
	w := newWireWith(t, pingCfg)
	raw, err := nsnet.ListenIP(w.a, unix.IPPROTO_ICMP, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ping, err := nsnet.DialICMP(w.a, netip.AddrPort{}, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer ping.Close()
	if _, err := ping.Write(echoRequest(0, 1, "seen by raw")); err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 1500)
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := raw.ReadMsg(buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip := buf[:n]
	if from != addrB || len(ip) < 20 || ip[0] != 0x45 || ip[9] != unix.IPPROTO_ICMP ||
		int(binary.BigEndian.Uint16(ip[2:])) != n || inetChecksum(ip[:20]) != 0 ||
		netip.AddrFrom4([4]byte(ip[12:16])) != addrB || netip.AddrFrom4([4]byte(ip[16:20])) != addrA {
		t.Fatalf("raw read from %v: % x; want an IPv4 header 10.0.0.2 -> 10.0.0.1, protocol 1", from, ip)
	}
	checkEchoReply(t, "raw copy", ip[20:], ping.Ident(), 1, "seen by raw")

	// The ping conn still gets its reply.
	ping.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err = ping.Read(buf); err != nil {
		t.Fatal(err)
	}
	checkEchoReply(t, "ping reply", buf[:n], ping.Ident(), 1, "seen by raw")

	// A raw write: the checksum is the writer's, the identifier kept.
	req := echoRequest(0x5151, 9, "raw")
	putChecksum(req)
	if _, err := raw.WriteMsg(req, nil, addrB); err != nil {
		t.Fatal(err)
	}
	for {
		if n, _, err = raw.ReadMsg(buf, nil); err != nil {
			t.Fatal(err)
		}
		if n >= 28 && buf[20] == 0 && binary.BigEndian.Uint16(buf[24:]) == 0x5151 {
			checkEchoReply(t, "reply to the raw request", buf[20:n], 0x5151, 9, "raw")
			break
		}
	}
}

// DialIP: a raw conn connected to B is a net.Conn whose Write goes to B.
func TestDialIP(t *testing.T) {
	w := newWireWith(t, pingCfg)
	c, err := nsnet.DialIP(w.a, unix.IPPROTO_ICMP, netip.Addr{}, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ra, ok := c.RemoteAddr().(*net.IPAddr); !ok || !ra.IP.Equal(addrB.AsSlice()) {
		t.Fatalf("RemoteAddr = %v, want 10.0.0.2", c.RemoteAddr())
	}
	rawEcho(t, c, 0x6262, "dialed raw", "dialed raw reply")
}

// An ICMP error about a ping conn's request reaches its error queue,
// found by the identifier quoted in it: B forwards but has no route to
// 10.9.0.0/24, so it answers "network unreachable".
func TestPingErrQueue(t *testing.T) {
	w := newWireWith(t, pingCfg)
	if err := w.b.Sysctl().Set("net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if err := w.a.AddRoute(netip.MustParsePrefix("10.9.0.0/24"), addrB, w.ifA); err != nil {
		t.Fatal(err)
	}
	c, err := nsnet.ListenICMP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetRecvErr(true); err != nil {
		t.Fatal(err)
	}
	far := netip.MustParseAddr("10.9.0.5")
	req := echoRequest(0, 1, "far away")
	if _, err := c.WriteMsg(req, nil, far); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	quoted := make([]byte, 1500)
	n, ee, err := c.ReadErrQueue(quoted)
	if err != nil {
		t.Fatal(err)
	}
	want := nsnet.ExtendedError{
		Errno: unix.ENETUNREACH, Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 0,
		Offender: addrB, Dst: netip.AddrPortFrom(far, 0),
	}
	if *ee != want {
		t.Fatalf("ReadErrQueue = %+v, want %+v", *ee, want)
	}
	// The quoted request is the one sent, with the stack's identifier and
	// checksum in it.
	q := quoted[:n]
	if len(q) != len(req) || q[0] != 8 || binary.BigEndian.Uint16(q[4:]) != c.Ident() ||
		inetChecksum(q) != 0 || !bytes.Equal(q[6:], req[6:]) {
		t.Errorf("quoted % x; want the echo request with id %d", q, c.Ident())
	}
}

// Close wakes a ReadMsg or ReadFrom blocked on a raw or ping conn, with
// net.ErrClosed, as TestCloseWakesBlockedCalls checks for UDP and TCP.
func TestCloseWakesBlockedIPAndICMPReads(t *testing.T) {
	w := newWireWith(t, pingCfg)
	type conn interface {
		ReadFrom([]byte) (int, net.Addr, error)
		ReadMsg([]byte, *nsnet.ControlMessage) (int, netip.Addr, error)
		Close() error
	}
	open := map[string]func() (conn, error){
		"IPConn (ListenIP)": func() (conn, error) { return nsnet.ListenIP(w.a, unix.IPPROTO_ICMP, netip.Addr{}) },
		"IPConn (DialIP)":   func() (conn, error) { return nsnet.DialIP(w.a, unix.IPPROTO_ICMP, netip.Addr{}, addrB) },
		"ICMPConn (ListenICMP)": func() (conn, error) {
			return nsnet.ListenICMP(w.a, netip.AddrPort{})
		},
		"ICMPConn (DialICMP)": func() (conn, error) { return nsnet.DialICMP(w.a, netip.AddrPort{}, addrB) },
	}
	reads := map[string]func(c conn) error{
		"ReadMsg": func(c conn) error {
			var cm nsnet.ControlMessage
			_, _, err := c.ReadMsg(make([]byte, 100), &cm)
			return err
		},
		"ReadFrom": func(c conn) error { _, _, err := c.ReadFrom(make([]byte, 100)); return err },
	}
	for cname, mk := range open {
		for rname, read := range reads {
			name := cname + " " + rname
			c, err := mk()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			done := make(chan struct{})
			var rerr error
			go func() {
				defer close(done)
				rerr = read(c)
			}()
			time.Sleep(20 * time.Millisecond)
			select {
			case <-done:
				t.Fatalf("%s returned before Close: %v", name, rerr)
			default:
			}
			if err := c.Close(); err != nil {
				t.Errorf("%s: Close = %v", name, err)
			}
			within(t, 2*time.Second, name+" after Close", done)
			if !errors.Is(rerr, net.ErrClosed) {
				t.Errorf("%s after Close = %v, want net.ErrClosed", name, rerr)
			}
			if err := read(c); !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s on a closed conn = %v, want net.ErrClosed", name, err)
			}
			if err := c.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s: second Close = %v, want net.ErrClosed", name, err)
			}
		}
	}
}
