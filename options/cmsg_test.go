package options

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCmsgSizes(t *testing.T) {
	for n, want := range map[int][3]int{0: {0, 16, 16}, 1: {8, 17, 24}, 4: {8, 20, 24}, 12: {16, 28, 32}, 32: {32, 48, 48}} {
		if got := [3]int{CmsgAlign(n), CmsgLen(n), CmsgSpace(n)}; got != want {
			t.Errorf("n=%d: align/len/space = %v, want %v", n, got, want)
		}
	}
	if unix.CmsgLen(12) != CmsgLen(12) || unix.CmsgSpace(12) != CmsgSpace(12) || unix.SizeofCmsghdr != SizeofCmsghdr {
		t.Errorf("disagrees with x/sys/unix")
	}
}

func TestCmsgBuilderTruncation(t *testing.T) {
	ttl := le(64)
	for _, tc := range []struct {
		room     int
		used     int
		cmsgLen  uint64 // 0: no header written
		trunc    bool
		dataKept int
	}{
		{0, 0, 0, true, 0},
		{15, 0, 0, true, 0},
		{16, 16, 16, true, 0},
		{18, 18, 18, true, 2},
		{20, 20, 20, false, 4},
		{23, 23, 20, false, 4},
		{24, 24, 20, false, 4},
		{40, 24, 20, false, 4},
	} {
		buf := bytes.Repeat([]byte{0xee}, tc.room)
		b := NewCmsgBuilder(buf)
		b.PutInt32(unix.SOL_IP, unix.IP_TTL, 64)
		if b.Len() != tc.used || (b.Flags() == unix.MSG_CTRUNC) != tc.trunc {
			t.Errorf("room %d: used %d flags %#x, want %d trunc=%v", tc.room, b.Len(), b.Flags(), tc.used, tc.trunc)
			continue
		}
		if tc.cmsgLen == 0 {
			if !bytes.Equal(buf, bytes.Repeat([]byte{0xee}, tc.room)) {
				t.Errorf("room %d: buffer written", tc.room)
			}
			continue
		}
		if got := nativeEndian.Uint64(buf); got != tc.cmsgLen {
			t.Errorf("room %d: cmsg_len %d, want %d", tc.room, got, tc.cmsgLen)
		}
		if !bytes.Equal(buf[16:16+tc.dataKept], ttl[:tc.dataKept]) {
			t.Errorf("room %d: data %v", tc.room, buf[16:])
		}
		for i := 16 + tc.dataKept; i < tc.room; i++ {
			if buf[i] != 0xee {
				t.Errorf("room %d: byte %d overwritten", tc.room, i)
			}
		}
	}
	var zero CmsgBuilder
	zero.Put(unix.SOL_IP, unix.IP_TTL, ttl)
	if zero.Len() != 0 || zero.Flags() != unix.MSG_CTRUNC {
		t.Errorf("zero builder: %d %#x", zero.Len(), zero.Flags())
	}
	zero.Reset(make([]byte, 64))
	if zero.Flags() != 0 {
		t.Errorf("Reset kept flags")
	}
}

func TestCmsgParser(t *testing.T) {
	ttl := AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64))
	pkt := AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12))
	setLen := func(b []byte, n uint64) []byte {
		b = append([]byte(nil), b...)
		nativeEndian.PutUint64(b, n)
		return b
	}
	for _, tc := range []struct {
		name  string
		in    []byte
		types []int32
		err   error
	}{
		{"empty", nil, nil, nil},
		{"short", make([]byte, 15), nil, nil},
		{"one", ttl, []int32{unix.IP_TTL}, nil},
		{"two", append(append([]byte(nil), ttl...), pkt...), []int32{unix.IP_TTL, unix.IP_PKTINFO}, nil},
		{"unpadded last", ttl[:20], []int32{unix.IP_TTL}, nil},
		{"trailing junk", append(append([]byte(nil), ttl...), 1, 2, 3), []int32{unix.IP_TTL}, nil},
		{"len 15", setLen(ttl, 15), nil, unix.EINVAL},
		{"len past end", setLen(ttl, 25), nil, unix.EINVAL},
		{"len huge", setLen(ttl, 1<<63), nil, unix.EINVAL},
		{"zero header", make([]byte, 16), nil, unix.EINVAL},
		{"good then bad", append(append([]byte(nil), ttl...), setLen(ttl, 8)...), []int32{unix.IP_TTL}, unix.EINVAL},
	} {
		p := NewCmsgParser(tc.in)
		var types []int32
		for i := 0; i < 100; i++ {
			m, ok := p.Next()
			if !ok {
				break
			}
			types = append(types, m.Type)
			if m.Type == unix.IP_TTL && Int32(m.Data) != 64 {
				t.Errorf("%s: TTL data %v", tc.name, m.Data)
			}
		}
		if p.Err() != tc.err || len(types) != len(tc.types) {
			t.Errorf("%s: types %v err %v, want %v %v", tc.name, types, p.Err(), tc.types, tc.err)
		}
	}
}

// TestPutCmsgMatchesKernel receives a datagram with IP_PKTINFO, IP_RECVTTL
// and IP_RECVTOS on through every control-buffer size from 0 to 80 and
// checks that the builder, given the same messages, yields the same bytes,
// msg_controllen and MSG_CTRUNC.
func TestPutCmsgMatchesKernel(t *testing.T) {
	rx, tx := kernelUDP(t), kernelUDP(t)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
		if err := unix.SetsockoptInt(rx, unix.SOL_IP, o, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2}); err != nil {
		t.Fatal(err)
	}
	to, _ := unix.Getsockname(rx)
	recv := func(oob []byte) (int, int) {
		if err := unix.Sendto(tx, []byte("x"), 0, to); err != nil {
			t.Fatal(err)
		}
		_, oobn, flags, _, err := unix.Recvmsg(rx, make([]byte, 8), oob, 0)
		if err != nil {
			t.Fatal(err)
		}
		return oobn, flags
	}
	full := make([]byte, 256)
	n, _ := recv(full)
	var msgs []Cmsg
	p := NewCmsgParser(full[:n])
	for m, ok := p.Next(); ok; m, ok = p.Next() {
		msgs = append(msgs, m)
	}
	if p.Err() != nil || len(msgs) != 3 {
		t.Fatalf("kernel sent %d cmsgs (%v): %x", len(msgs), p.Err(), full[:n])
	}
	deadline := time.Now().Add(10 * time.Second)
	for room := 0; room <= 80 && time.Now().Before(deadline); room++ {
		kbuf := bytes.Repeat([]byte{0xee}, room)
		koobn, kflags := recv(kbuf)
		mbuf := bytes.Repeat([]byte{0xee}, room)
		b := NewCmsgBuilder(mbuf)
		for _, m := range msgs {
			b.Put(m.Level, m.Type, m.Data)
		}
		if !bytes.Equal(kbuf, mbuf) || koobn != b.Len() || kflags&unix.MSG_CTRUNC != b.Flags() {
			t.Errorf("room %d: kernel %x len %d flags %#x; builder %x len %d flags %#x",
				room, kbuf, koobn, kflags&unix.MSG_CTRUNC, mbuf, b.Len(), b.Flags())
		}
	}
}

// TestIPSendControlMatchesKernel sends with each control buffer on a real
// UDP socket and compares the errno with ParseIPSendControl's.
func TestIPSendControlMatchesKernel(t *testing.T) {
	sink := kernelUDP(t)
	if err := unix.Bind(sink, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	to, _ := unix.Getsockname(sink)
	fd := kernelUDP(t)
	one := le(1)
	withLen := func(b []byte, n uint64) []byte { nativeEndian.PutUint64(b, n); return b }
	cases := map[string][]byte{
		"rights":      AppendCmsg(nil, unix.SOL_SOCKET, unix.SCM_RIGHTS, one),
		"creds":       AppendCmsg(nil, unix.SOL_SOCKET, unix.SCM_CREDENTIALS, make([]byte, 12)),
		"mark":        AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_MARK, one),
		"mark short":  AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_MARK, one[:2]),
		"prio":        AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_PRIORITY, one),
		"txtime":      AppendCmsg(nil, unix.SOL_SOCKET, unix.SCM_TXTIME, make([]byte, 8)),
		"sol 99":      AppendCmsg(nil, unix.SOL_SOCKET, 99, one),
		"ip 99":       AppendCmsg(nil, unix.SOL_IP, 99, one),
		"recverr":     AppendCmsg(nil, unix.SOL_IP, unix.IP_RECVERR, one),
		"tcp level":   AppendCmsg(nil, unix.IPPROTO_TCP, 1, one),
		"ttl 1 byte":  AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, one[:1]),
		"ttl 0":       AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(0)),
		"ttl 255":     AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(255)),
		"ttl 256":     AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(256)),
		"tos 1 byte":  AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, []byte{0xb8}),
		"tos 2 bytes": AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, one[:2]),
		"tos -1":      AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, le(0xffffffff)),
		"tos 256":     AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, le(256)),
		"retopts 0":   AppendCmsg(nil, unix.SOL_IP, unix.IP_RETOPTS, nil),
		"pktinfo 11":  AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 11)),
		"pktinfo 12":  AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12)),
		"pktinfo 16":  AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 16)),
		"protocol 17": AppendCmsg(nil, unix.SOL_IP, unix.IP_PROTOCOL, le(17)),
		"protocol 0":  AppendCmsg(nil, unix.SOL_IP, unix.IP_PROTOCOL, le(0)),
		"len 15":      withLen(AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64)), 15),
		"len 25":      withLen(AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64)), 25),
		"unpadded":    AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64))[:20],
		"trailer":     append(AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64)), 1, 2, 3),
		"bad first":   AppendCmsg(AppendCmsg(nil, unix.SOL_SOCKET, 99, one), unix.SOL_IP, unix.IP_TTL, le(64)),
		"bad second":  AppendCmsg(AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64)), unix.SOL_IP, 99, one),
	}
	for bit := 0; bit < 32; bit++ {
		cases["tstamp bit "+string(rune('A'+bit))] = AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_TIMESTAMPING, le(1<<bit))
	}
	for name, ctl := range cases {
		_, kerr := unix.SendmsgN(fd, []byte("x"), ctl, to, 0)
		_, perr := ParseIPSendControl(ctl, SendCmsgPolicy{NetAdminOrRaw: true})
		if asErrno(kerr) != asErrno(perr) {
			t.Errorf("%s: kernel %v, parser %v", name, kerr, perr)
		}
	}
	c, err := ParseIPSendControl(AppendCmsg(AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, []byte{0xb8}), unix.SOL_IP, unix.IP_TTL, le(3)), SendCmsgPolicy{})
	if err != nil || !c.HasTOS || c.TOS != 0xb8 || !c.HasTTL || c.TTL != 3 || c.HasPktinfo {
		t.Errorf("parsed %+v %v", c, err)
	}
	if _, err := ParseIPSendControl(AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_MARK, one), SendCmsgPolicy{}); err != unix.EPERM {
		t.Errorf("SO_MARK without caps: %v", err)
	}
}

func BenchmarkCmsgBuilder(b *testing.B) {
	buf := make([]byte, 128)
	pi := InPktinfo{IfIndex: 1, SpecDst: lo, Addr: lo}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		cb := NewCmsgBuilder(buf)
		cb.Put(unix.SOL_IP, unix.IP_PKTINFO, pi[:])
		cb.PutInt32(unix.SOL_IP, unix.IP_TTL, 64)
		cb.PutInt32(unix.SOL_IP, unix.IP_TOS, 0)
		if cb.Len() != 80 {
			b.Fatal(cb.Len())
		}
	}
}

func TestCmsgBuilderDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 128)
	pi := InPktinfo{IfIndex: 1, SpecDst: lo, Addr: lo}.Encode()
	if n := testing.AllocsPerRun(100, func() {
		cb := NewCmsgBuilder(buf)
		cb.Put(unix.SOL_IP, unix.IP_PKTINFO, pi[:])
		cb.PutInt32(unix.SOL_IP, unix.IP_TTL, 64)
	}); n != 0 {
		t.Errorf("builder allocates %v times per run", n)
	}
}
