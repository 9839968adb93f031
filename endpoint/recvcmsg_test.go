package endpoint

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

func TestCsumPartial32(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want uint32
	}{
		{nil, 0},
		// Measured on Linux 6.x (x86-64): IP_CHECKSUM of "all" is 61 6c 6c 00.
		{[]byte("all"), 0x006c6c61},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0xffffffff},
		// Two words whose sum carries out of 64 bits: end-around carry.
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0}, 2},
		{[]byte{1, 0, 0, 0, 2, 0, 0, 0, 3}, 6},
	} {
		if got := csumPartial32(tc.in); got != tc.want {
			t.Errorf("csumPartial32(%x) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// The 32-bit sum must fold to the same 16-bit one's complement sum as the
// Internet checksum of the bytes.
func TestCsumPartial32FoldsToInternetSum(t *testing.T) {
	b := make([]byte, 301)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(b); n += 13 {
		s := csumPartial32(b[:n])
		f := s&0xffff + s>>16
		f = f&0xffff + f>>16
		var ref uint32
		for i := 0; i+1 < n; i += 2 {
			ref += uint32(binary.LittleEndian.Uint16(b[i:]))
		}
		if n%2 == 1 {
			ref += uint32(b[n-1])
		}
		for ref>>16 != 0 {
			ref = ref&0xffff + ref>>16
		}
		if f != ref && !(f == 0xffff && ref == 0) && !(f == 0 && ref == 0xffff) {
			t.Errorf("n=%d: folded %#x, internet sum %#x", n, f, ref)
		}
	}
}

func TestEchoIPOptions(t *testing.T) {
	var out [maxIPOptions]byte
	// What Linux 6.x answered for a record route received with this hop
	// filled in: the option, NOP dropped, padded with END.
	in := []byte{7, 11, 12, 127, 0, 0, 1, 127, 0, 0, 1, 1}
	n := echoIPOptions(in, &out)
	if want := []byte{7, 11, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0}; !cmp.Equal(out[:n], want) {
		t.Errorf("echo = %x, want %x", out[:n], want)
	}
	// Timestamp first on the wire, record route first in the echo.
	in = []byte{68, 8, 5, 0, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0}
	n = echoIPOptions(in, &out)
	if want := []byte{7, 7, 4, 0, 0, 0, 0, 68, 8, 5, 0, 0, 0, 0, 0, 0}; !cmp.Equal(out[:n], want) {
		t.Errorf("echo = %x, want %x", out[:n], want)
	}
	// Malformed or unknown options echo nothing.
	for _, bad := range [][]byte{{7}, {7, 1}, {7, 50, 4}, {0x94, 4, 0, 0}, {0, 7, 7, 4}} {
		if n := echoIPOptions(bad, &out); n != 0 {
			t.Errorf("echo(%x) = %x, want nothing", bad, out[:n])
		}
	}
}

func TestSetTimestampFlavours(t *testing.T) {
	// The sequence and answers measured on Linux 6.x (sockopt/timestamp-flavours).
	var f rxFlags
	f = setTimestamp(f, unix.SO_TIMESTAMPNS_OLD, true)
	if f&(rxStamp|rxStampNS) != rxStamp|rxStampNS {
		t.Fatalf("SO_TIMESTAMPNS on: %b", f)
	}
	f = setTimestamp(f, unix.SO_TIMESTAMP_OLD, true)
	if f&rxStampNS != 0 || f&rxStamp == 0 {
		t.Fatalf("SO_TIMESTAMP after NS: %b", f)
	}
	f = setTimestamp(f, unix.SO_TIMESTAMPNS_NEW, true)
	if f&rxStampNew == 0 {
		t.Fatalf("NEW flag not set: %b", f)
	}
	f = setTimestamp(f, unix.SO_TIMESTAMP_OLD, false)
	if f&(rxStamp|rxStampNS|rxStampNew) != 0 {
		t.Fatalf("off: %b", f)
	}
}

// loopUDP returns a socket bound to 127.0.0.1:port on s.
func loopUDP(t *testing.T, s *stack.Stack, port uint16) Socket {
	t.Helper()
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	if port != 0 {
		if err := so.Bind(options.SockaddrIn(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))); err != nil {
			t.Fatal(err)
		}
	}
	return so
}

func setIntOpt(t *testing.T, so Socket, level, name int, v int32) {
	t.Helper()
	b := make([]byte, 4)
	options.PutInt32(b, v)
	if err := so.SetSockOpt(level, name, b); err != nil {
		t.Fatalf("setsockopt(%d,%d): %v", level, name, err)
	}
}

func TestUDPRecvCmsgsOrderAndBytes(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	r := loopUDP(t, s, 4000)
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVORIGDSTADDR,
		unix.IP_RECVOPTS, unix.IP_RETOPTS, unix.IP_PASSSEC, unix.IP_CHECKSUM, unix.IP_RECVFRAGSIZE} {
		setIntOpt(t, r, unix.SOL_IP, o, 1)
	}
	setIntOpt(t, r, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	w := loopUDP(t, s, 0)
	setIntOpt(t, w, unix.SOL_IP, unix.IP_TTL, 9)
	setIntOpt(t, w, unix.SOL_IP, unix.IP_TOS, 0x20)
	dst := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:4000"))
	before := time.Now()
	if _, err := w.SendMsg([]byte("hi"), nil, dst, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	oob := make([]byte, 256)
	_, oobn, fl, _, err := r.RecvMsg(make([]byte, 8), oob, 0)
	if err != nil || fl != 0 {
		t.Fatalf("recvmsg: %v flags %#x", err, fl)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		Level, Type int32
		Data        []byte
	}
	var got []msg
	for _, m := range msgs {
		got = append(got, msg{m.Header.Level, m.Header.Type, m.Data})
	}
	if len(got) == 0 || got[0].Level != unix.SOL_SOCKET || got[0].Type != unix.SO_TIMESTAMPNS {
		t.Fatalf("first cmsg %+v, want SCM_TIMESTAMPNS", got)
	}
	sec := int64(binary.NativeEndian.Uint64(got[0].Data))
	nsec := int64(binary.NativeEndian.Uint64(got[0].Data[8:]))
	if ts := time.Unix(sec, nsec); ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
		t.Errorf("timestamp %v not between send and now", ts)
	}
	pi := options.InPktinfo{IfIndex: 1, SpecDst: netip.MustParseAddr("127.0.0.1"), Addr: netip.MustParseAddr("127.0.0.1")}.Encode()
	ttl := make([]byte, 4)
	options.PutInt32(ttl, 9)
	want := []msg{
		{unix.SOL_IP, unix.IP_PKTINFO, pi[:]},
		{unix.SOL_IP, unix.IP_TTL, ttl},
		{unix.SOL_IP, unix.IP_TOS, []byte{0x20}},
		{unix.SOL_IP, unix.IP_ORIGDSTADDR, options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:4000"))},
	}
	if diff := cmp.Diff(want, got[1:]); diff != "" {
		t.Errorf("cmsgs (-want +got):\n%s", diff)
	}
}

func TestUDPRecvCmsgsTruncated(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	r := loopUDP(t, s, 4001)
	setIntOpt(t, r, unix.SOL_IP, unix.IP_PKTINFO, 1)
	setIntOpt(t, r, unix.SOL_IP, unix.IP_RECVTTL, 1)
	w := loopUDP(t, s, 0)
	dst := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:4001"))
	// Room for the pktinfo header and 4 of its 12 bytes: cut, MSG_CTRUNC,
	// and the TTL message dropped.
	for _, tc := range []struct{ room, wantN int }{{20, 20}, {0, 0}, {32, 32}, {40, 32}, {51, 51}} {
		if _, err := w.SendMsg([]byte("x"), nil, dst, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		oob := make([]byte, tc.room)
		_, oobn, fl, _, err := r.RecvMsg(make([]byte, 8), oob, 0)
		if err != nil {
			t.Fatal(err)
		}
		if oobn != tc.wantN || fl&unix.MSG_CTRUNC == 0 {
			t.Errorf("room %d: oobn %d flags %#x, want %d with MSG_CTRUNC", tc.room, oobn, fl, tc.wantN)
		}
	}
}

func TestRecvFlagOptions(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so := loopUDP(t, s, 0)
	for _, name := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVFRAGSIZE} {
		for _, tc := range []struct {
			val  []byte
			want byte
		}{{[]byte{5, 0, 0, 0}, 1}, {[]byte{0}, 0}, {[]byte{2}, 1}, {nil, 0}, {[]byte{0, 1}, 0}} {
			if err := so.SetSockOpt(unix.SOL_IP, name, tc.val); err != nil {
				t.Fatalf("set %d %x: %v", name, tc.val, err)
			}
			buf := make([]byte, 2)
			n, err := so.GetSockOpt(unix.SOL_IP, name, buf)
			if err != nil || n != 1 || buf[0] != tc.want {
				t.Errorf("opt %d after %x: get %d %x %v, want 1 byte %d", name, tc.val, n, buf[:n], err, tc.want)
			}
		}
	}
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_TIMESTAMP, []byte{1}); err != unix.EINVAL {
		t.Errorf("SO_TIMESTAMP with 1 byte: %v, want EINVAL", err)
	}
	tcp, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if err := tcp.SetSockOpt(unix.SOL_IP, unix.IP_RECVFRAGSIZE, []byte{1, 0, 0, 0}); err != unix.EINVAL {
		t.Errorf("IP_RECVFRAGSIZE on TCP: %v, want EINVAL", err)
	}
	if err := tcp.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_TTL, []byte{1, 0, 0, 0}); err != unix.EINVAL {
		t.Errorf("IP_MULTICAST_TTL on TCP: %v, want EINVAL", err)
	}
}

// The control messages of a unicast datagram cost no allocation.
func TestRecvCmsgsAllocationFree(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so := loopUDP(t, s, 0)
	u := so.(*udpSock)
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVORIGDSTADDR, unix.IP_CHECKSUM} {
		setIntOpt(t, so, unix.SOL_IP, o, 1)
	}
	setIntOpt(t, so, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
	e := queued{d: stack.Datagram{
		Src:     netip.MustParseAddrPort("198.18.0.1:9"),
		Dst:     netip.MustParseAddrPort("198.18.0.2:10"),
		IfIndex: 2, TTL: 64, Payload: []byte("payload"),
	}, arr: arrival{pktinfo: true, stamp: 1}}
	oob := make([]byte, 256)
	allocs := testing.AllocsPerRun(100, func() {
		if n, _ := u.recvCmsgs(oob, &e); n == 0 {
			t.Fatal("no control messages")
		}
	})
	if allocs != 0 {
		t.Errorf("recvCmsgs allocates %.1f times per datagram", allocs)
	}
}

func TestFillRecordRoute(t *testing.T) {
	me := netip.MustParseAddr("198.18.0.2")
	for _, tc := range []struct{ in, want []byte }{
		// The kernel's answer in cmsg/raw-recv-ip-options.
		{[]byte{7, 11, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0}, []byte{7, 11, 12, 198, 18, 0, 1, 198, 18, 0, 2, 0}},
		{[]byte{1, 7, 7, 4, 0, 0, 0, 0}, []byte{1, 7, 7, 8, 198, 18, 0, 2}},
		// Full: unchanged.
		{[]byte{7, 7, 8, 1, 2, 3, 4, 0}, []byte{7, 7, 8, 1, 2, 3, 4, 0}},
		// Pointer into the header bytes or past the end: unchanged.
		{[]byte{7, 7, 2, 0, 0, 0, 0, 0}, []byte{7, 7, 2, 0, 0, 0, 0, 0}},
		{[]byte{7, 7, 200, 0, 0, 0, 0, 0}, []byte{7, 7, 200, 0, 0, 0, 0, 0}},
		{[]byte{7, 2}, []byte{7, 2}},
	} {
		got := append([]byte(nil), tc.in...)
		fillRecordRoute(got, me)
		if !cmp.Equal(got, tc.want) {
			t.Errorf("fillRecordRoute(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}

// BenchmarkUDPRecvWithCmsgs sends and receives one datagram over lo with
// IP_PKTINFO, IP_RECVTTL and IP_RECVTOS on; the allocations reported are
// the whole path's (gVisor's packet buffers and the payload copy included).
func BenchmarkUDPRecvWithCmsgs(b *testing.B) {
	s := newStack(b, stack.AllCaps, nil)
	r, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	dst := options.SockaddrIn(netip.MustParseAddrPort("127.0.0.1:4100"))
	if err := r.Bind(dst); err != nil {
		b.Fatal(err)
	}
	on := []byte{1, 0, 0, 0}
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
		if err := r.SetSockOpt(unix.SOL_IP, o, on); err != nil {
			b.Fatal(err)
		}
	}
	w, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	payload, buf, oob := make([]byte, 64), make([]byte, 128), make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.SendMsg(payload, nil, dst, 0); err != nil {
			b.Fatal(err)
		}
		_, oobn, _, _, err := r.RecvMsg(buf, oob, 0)
		if err != nil || oobn == 0 {
			b.Fatalf("recvmsg: %v, %d control bytes", err, oobn)
		}
	}
}
