package nsnet_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/nsnet"
)

// With IP_HDRINCL a write is the whole datagram: an echo request behind a
// header whose total length, identification, checksum and source are left
// 0 for the stack reaches B, which answers it. Without it the same bytes
// would be an ICMP message of type 0x45 that B ignores.
func TestIPConnHeaderIncluded(t *testing.T) {
	w := newWireWith(t, pingCfg)
	c, err := nsnet.ListenIP(w.a, unix.IPPROTO_ICMP, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if on, err := c.HeaderIncluded(); err != nil || on {
		t.Fatalf("HeaderIncluded of a new ICMP conn = %v, %v; want false", on, err)
	}
	if err := c.SetHeaderIncluded(true); err != nil {
		t.Fatal(err)
	}
	if on, err := c.HeaderIncluded(); err != nil || !on {
		t.Fatalf("HeaderIncluded after SetHeaderIncluded(true) = %v, %v", on, err)
	}
	req := echoRequest(0x4848, 3, "hdrincl")
	putChecksum(req)
	hdr := make([]byte, 20)
	hdr[0] = 0x45 // version 4, 5 words
	hdr[8] = 64   // TTL
	hdr[9] = unix.IPPROTO_ICMP
	copy(hdr[16:], addrB.AsSlice())
	if _, err := c.WriteTo(append(hdr, req...), &net.IPAddr{IP: addrB.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadMsg(buf, nil)
		if err != nil {
			t.Fatalf("no reply to the header-included request: %v", err)
		}
		if from == addrB && n >= 28 && buf[20] == 0 && binary.BigEndian.Uint16(buf[24:]) == 0x4848 {
			checkEchoReply(t, "reply", buf[20:n], 0x4848, 3, "hdrincl")
			break
		}
	}
	if err := c.SetHeaderIncluded(false); err != nil {
		t.Fatal(err)
	}
	if on, err := c.HeaderIncluded(); err != nil || on {
		t.Errorf("HeaderIncluded after SetHeaderIncluded(false) = %v, %v", on, err)
	}

	// IPPROTO_RAW implies it, as inet_create sets it.
	r, err := nsnet.ListenIP(w.a, unix.IPPROTO_RAW, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if on, err := r.HeaderIncluded(); err != nil || !on {
		t.Errorf("HeaderIncluded of an IPPROTO_RAW conn = %v, %v; want true", on, err)
	}
}

func TestICMPFilterMethods(t *testing.T) {
	var f nsnet.ICMPFilter
	if f.WillBlock(0) || f.WillBlock(8) {
		t.Fatal("the zero ICMPFilter blocks")
	}
	f.Block(0)
	f.Block(11)
	f.Block(40) // above 31: never filtered, so ignored
	if !f.WillBlock(0) || !f.WillBlock(11) || f.WillBlock(8) || f.WillBlock(40) || f.WillBlock(8+32) {
		t.Errorf("after Block(0, 11, 40): %#x", uint32(f))
	}
	if f != 1<<0|1<<11 {
		t.Errorf("mask %#x, want %#x", uint32(f), 1<<0|1<<11)
	}
	f.Accept(0)
	if f.WillBlock(0) || !f.WillBlock(11) {
		t.Errorf("after Accept(0): %#x", uint32(f))
	}
	f.SetAll(true)
	if f != 0xffffffff || f.WillBlock(32) {
		t.Errorf("SetAll(true): %#x", uint32(f))
	}
	f.SetAll(false)
	if f != 0 {
		t.Errorf("SetAll(false): %#x", uint32(f))
	}
}

// ICMP_FILTER keeps a blocked type from the raw conn and lets others
// through: with echo replies (type 0) blocked, the reply to A's ping does
// not reach A's raw ICMP conn (A's ping conn gets it), while B's echo
// request to A (type 8) does.
func TestIPConnICMPFilter(t *testing.T) {
	w := newWireWith(t, pingCfg)
	if err := w.b.Sysctl().Set("net.ipv4.ping_group_range", "0 0"); err != nil {
		t.Fatal(err)
	}
	raw, err := nsnet.ListenIP(w.a, unix.IPPROTO_ICMP, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var f nsnet.ICMPFilter
	f.Block(0) // echo reply
	if err := raw.SetICMPFilter(&f); err != nil {
		t.Fatal(err)
	}
	if got, err := raw.ICMPFilter(); err != nil || *got != f {
		t.Fatalf("ICMPFilter() = %v, %v; want %#x", got, err, uint32(f))
	}

	buf := make([]byte, 1500)
	ping := func(from *nsnet.ICMPConn, seq uint16, data string) {
		t.Helper()
		if _, err := from.Write(echoRequest(0, seq, data)); err != nil {
			t.Fatal(err)
		}
		from.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := from.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		checkEchoReply(t, data, buf[:n], from.Ident(), seq, data)
	}
	pa, err := nsnet.DialICMP(w.a, netip.AddrPort{}, addrB)
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	ping(pa, 1, "filtered reply") // the reply reached A, type 0
	pb, err := nsnet.DialICMP(w.b, netip.AddrPort{}, addrA)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	ping(pb, 2, "unfiltered request") // A got the request, type 8, and answered

	// The first message the raw conn is handed is B's request, not the
	// earlier reply.
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := raw.ReadMsg(buf, nil)
	if err != nil {
		t.Fatalf("raw conn got nothing: %v", err)
	}
	if n < 28 || from != addrB || buf[20] != 8 || string(buf[28:n]) != "unfiltered request" {
		t.Fatalf("raw conn's first message from %v: % x; want B's echo request (type 8)", from, buf[:n])
	}
	raw.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := raw.ReadMsg(buf, nil); err == nil {
		t.Errorf("raw conn got another message: % x", buf[:n])
	}

	// Accepting type 0 again lets the next reply through.
	f.Accept(0)
	if err := raw.SetICMPFilter(&f); err != nil {
		t.Fatal(err)
	}
	ping(pa, 3, "accepted reply")
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err = raw.ReadMsg(buf, nil); err != nil {
		t.Fatal(err)
	}
	if n < 28 || buf[20] != 0 || string(buf[28:n]) != "accepted reply" {
		t.Errorf("after Accept(0), raw conn got % x; want the echo reply", buf[:n])
	}

	// Only a raw ICMP conn has the filter; a nil filter is refused.
	igmp, err := nsnet.ListenIP(w.a, unix.IPPROTO_IGMP, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	defer igmp.Close()
	var oe *net.OpError
	if err := igmp.SetICMPFilter(&f); !errors.As(err, &oe) || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("SetICMPFilter on an IGMP conn = %v, want an OpError with EOPNOTSUPP", err)
	}
	if _, err := igmp.ICMPFilter(); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("ICMPFilter on an IGMP conn = %v, want EOPNOTSUPP", err)
	}
	if err := raw.SetICMPFilter(nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("SetICMPFilter(nil) = %v, want EINVAL", err)
	}
}
