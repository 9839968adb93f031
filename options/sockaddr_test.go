package options

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// rawSA builds sockaddr bytes with a chosen family, port and address,
// truncated or padded to n bytes.
func rawSA(family uint16, ap netip.AddrPort, n int) []byte {
	b := SockaddrIn(ap)
	nativeEndian.PutUint16(b[0:2], family)
	for len(b) < n {
		b = append(b, 0)
	}
	return b[:n]
}

var lo = netip.MustParseAddr("127.0.0.1")

func TestSockaddrInRoundTrip(t *testing.T) {
	ap := netip.AddrPortFrom(netip.MustParseAddr("10.1.2.3"), 0x1234)
	b := SockaddrIn(ap)
	want := []byte{unix.AF_INET, 0, 0x12, 0x34, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0}
	if string(b) != string(want) {
		t.Fatalf("SockaddrIn = %v, want %v", b, want)
	}
	got, fam, err := ParseSockaddrIn(b)
	if err != nil || got != ap || fam != unix.AF_INET {
		t.Fatalf("ParseSockaddrIn = %v %d %v", got, fam, err)
	}
	if a := SockaddrInArray(ap); string(a[:]) != string(want) {
		t.Errorf("SockaddrInArray = %v", a)
	}
	if a := AppendSockaddrIn([]byte{9}, ap); string(a) != string(append([]byte{9}, want...)) {
		t.Errorf("AppendSockaddrIn = %v", a)
	}
	short := make([]byte, 6)
	if n := PutSockaddrIn(short, ap); n != 6 || string(short) != string(want[:6]) {
		t.Errorf("PutSockaddrIn short = %d %v", n, short)
	}
	mapped := netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.1.2.3"), 0x1234)
	if string(SockaddrIn(mapped)) != string(want) {
		t.Errorf("mapped address not unmapped")
	}
	if _, _, err := ParseSockaddrIn(b[:15]); err != unix.EINVAL {
		t.Errorf("15 bytes: %v", err)
	}
}

func TestParseCallSiteAddrs(t *testing.T) {
	ap := netip.AddrPortFrom(lo, 7)
	any7 := netip.AddrPortFrom(netip.IPv4Unspecified(), 7)
	type res struct {
		r   SockaddrResult
		err error
	}
	for _, tc := range []struct {
		name                 string
		in                   []byte
		bind, connect, sendt res
	}{
		{"inet", rawSA(unix.AF_INET, ap, 16), res{SockaddrResult{Addr: ap}, nil}, res{SockaddrResult{Addr: ap}, nil}, res{SockaddrResult{Addr: ap}, nil}},
		{"inet long", rawSA(unix.AF_INET, ap, 128), res{SockaddrResult{Addr: ap}, nil}, res{SockaddrResult{Addr: ap}, nil}, res{SockaddrResult{Addr: ap}, nil}},
		{"inet too long", rawSA(unix.AF_INET, ap, 129), res{err: unix.EINVAL}, res{err: unix.EINVAL}, res{SockaddrResult{Addr: ap}, nil}},
		{"inet short", rawSA(unix.AF_INET, ap, 15), res{err: unix.EINVAL}, res{err: unix.EINVAL}, res{err: unix.EINVAL}},
		{"empty", []byte{}, res{err: unix.EINVAL}, res{err: unix.EINVAL}, res{err: unix.EINVAL}},
		{"one byte", []byte{0}, res{err: unix.EINVAL}, res{err: unix.EINVAL}, res{err: unix.EINVAL}},
		{"unspec any", rawSA(unix.AF_UNSPEC, any7, 16), res{SockaddrResult{Addr: any7, Unspec: true}, nil}, res{SockaddrResult{Unspec: true}, nil}, res{SockaddrResult{Addr: any7, Unspec: true}, nil}},
		{"unspec lo", rawSA(unix.AF_UNSPEC, ap, 16), res{err: unix.EAFNOSUPPORT}, res{SockaddrResult{Unspec: true}, nil}, res{SockaddrResult{Addr: ap, Unspec: true}, nil}},
		{"unspec 2 bytes", []byte{0, 0}, res{err: unix.EINVAL}, res{SockaddrResult{Unspec: true}, nil}, res{err: unix.EINVAL}},
		{"inet6", rawSA(unix.AF_INET6, ap, 28), res{err: unix.EAFNOSUPPORT}, res{err: unix.EAFNOSUPPORT}, res{err: unix.EAFNOSUPPORT}},
		{"inet6 short", rawSA(unix.AF_INET6, ap, 8), res{err: unix.EINVAL}, res{err: unix.EINVAL}, res{err: unix.EINVAL}},
	} {
		r, err := ParseBindAddr(tc.in)
		if (res{r, err}) != tc.bind {
			t.Errorf("%s: bind = %+v %v, want %+v", tc.name, r, err, tc.bind)
		}
		r, err = ParseConnectAddr(tc.in)
		if (res{r, err}) != tc.connect {
			t.Errorf("%s: connect = %+v %v, want %+v", tc.name, r, err, tc.connect)
		}
		r, err = ParseSendtoAddr(tc.in)
		if (res{r, err}) != tc.sendt {
			t.Errorf("%s: sendto = %+v %v, want %+v", tc.name, r, err, tc.sendt)
		}
	}
}

// TestSockaddrRulesMatchKernel runs each address through bind, connect and
// sendto on real UDP sockets and compares the errno with the parsers'.
// Success cases use ports that cannot collide: bind to port 0, send to a
// port of our own socket.
func TestSockaddrRulesMatchKernel(t *testing.T) {
	sink := kernelUDP(t)
	if err := unix.Bind(sink, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(sink)
	if err != nil {
		t.Fatal(err)
	}
	sinkAP := netip.AddrPortFrom(lo, uint16(sa.(*unix.SockaddrInet4).Port))
	lo0 := netip.AddrPortFrom(lo, 0)
	any0 := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	inputs := map[string][]byte{
		"inet":          rawSA(unix.AF_INET, sinkAP, 16),
		"inet 128":      rawSA(unix.AF_INET, sinkAP, 128),
		"inet 129":      rawSA(unix.AF_INET, sinkAP, 129),
		"inet 15":       rawSA(unix.AF_INET, sinkAP, 15),
		"one byte":      {0},
		"unspec 2":      {0, 0},
		"unspec any":    rawSA(unix.AF_UNSPEC, any0, 16),
		"unspec sink":   rawSA(unix.AF_UNSPEC, sinkAP, 16),
		"inet6 28":      rawSA(unix.AF_INET6, sinkAP, 28),
		"inet6 8":       rawSA(unix.AF_INET6, sinkAP, 8),
		"unix 16":       rawSA(unix.AF_UNIX, sinkAP, 16),
		"inet lo port0": rawSA(unix.AF_INET, lo0, 16),
	}
	for name, in := range inputs {
		// bind: use port 0 variants so success never conflicts.
		bin := append([]byte(nil), in...)
		if len(bin) >= 4 {
			bin[2], bin[3] = 0, 0
		}
		_, perr := ParseBindAddr(bin)
		if kerr := rawBind(kernelUDP(t), bin); asErrno(kerr) != asErrno(perr) {
			t.Errorf("bind %s: kernel %v, parser %v", name, kerr, perr)
		}
		_, perr = ParseConnectAddr(in)
		if kerr := rawConnect(kernelUDP(t), in); asErrno(kerr) != asErrno(perr) {
			t.Errorf("connect %s: kernel %v, parser %v", name, kerr, perr)
		}
		if len(in) > MaxSockaddrLen {
			continue // sendto rejects these in the syscall layer; sendmsg clamps
		}
		r, perr := ParseSendtoAddr(in)
		if perr == nil && r.Addr.Port() == 0 {
			perr = unix.EINVAL // udp_sendmsg's zero-port rule, the caller's job
		}
		if kerr := rawSendto(kernelUDP(t), []byte("x"), in); asErrno(kerr) != asErrno(perr) {
			t.Errorf("sendto %s: kernel %v, parser %v", name, kerr, perr)
		}
	}
}
