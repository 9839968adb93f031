package options

import (
	"testing"

	"golang.org/x/sys/unix"
)

func le(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func TestParseIPInt(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want int32
	}{
		{nil, 0},
		{[]byte{}, 0},
		{[]byte{0xff}, 255},
		{[]byte{0x21, 0x02}, 0x21},
		{[]byte{0x80, 0xff, 0xff}, 0x80},
		{le(0x221), 0x221},
		{le(0xffffffff), -1},
		{append(le(7), 9, 9, 9, 9), 7},
	} {
		got, err := ParseIPInt(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseIPInt(%v) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		got2, errno := ParseIntOpt(tc.in)
		if errno != 0 || got2 != tc.want {
			t.Errorf("ParseIntOpt(%v) = %d, %v; want %d", tc.in, got2, errno, tc.want)
		}
	}
}

func TestParseSockInt(t *testing.T) {
	for _, tc := range []struct {
		in      []byte
		want    int32
		wantErr error
	}{
		{nil, 0, unix.EINVAL},
		{[]byte{1}, 0, unix.EINVAL},
		{[]byte{1, 2, 3}, 0, unix.EINVAL},
		{le(0x1001), 0x1001, nil},
		{append(le(0xfffffffe), 1, 2, 3, 4), -2, nil},
	} {
		got, err := ParseSockInt(tc.in)
		if err != tc.wantErr || got != tc.want {
			t.Errorf("ParseSockInt(%v) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPutIPIntAndSockInt(t *testing.T) {
	for _, tc := range []struct {
		n        int
		v        int32
		ip, sock []byte
	}{
		{0, 200, []byte{}, []byte{}},
		{1, 200, []byte{200}, []byte{200}},
		{3, 200, []byte{200}, []byte{200, 0, 0}},
		{4, 200, le(200), le(200)},
		{8, 200, le(200), le(200)},
		{2, 0x01000000, []byte{0, 0}, []byte{0, 0}},
		{3, -1, []byte{0xff, 0xff, 0xff}, []byte{0xff, 0xff, 0xff}},
		{1, 256, []byte{0}, []byte{0}},
		{2, 255, []byte{255}, []byte{255, 0}},
	} {
		buf := make([]byte, tc.n)
		if n := PutIPInt(buf, tc.v); string(buf[:n]) != string(tc.ip) {
			t.Errorf("PutIPInt(len %d, %d) = %v; want %v", tc.n, tc.v, buf[:n], tc.ip)
		}
		if n := PutIntOpt(buf, tc.v); n != len(tc.ip) {
			t.Errorf("PutIntOpt(len %d, %d) = %d; want %d", tc.n, tc.v, n, len(tc.ip))
		}
		buf = make([]byte, tc.n)
		if n := PutSockInt(buf, tc.v); string(buf[:n]) != string(tc.sock) {
			t.Errorf("PutSockInt(len %d, %d) = %v; want %v", tc.n, tc.v, buf[:n], tc.sock)
		}
	}
}

// TestIntRulesMatchKernel sets and reads options on a real UDP socket with
// every short optlen and checks the codecs predict the kernel's answer.
func TestIntRulesMatchKernel(t *testing.T) {
	fd := kernelUDP(t)
	val := []byte{0x21, 0x02, 0, 0, 0, 0, 0, 0}
	// IP_TOS stores any value; read it back to see what the kernel parsed.
	for _, n := range []int{0, 1, 2, 3, 4, 8} {
		if err := rawSetsockopt(fd, unix.SOL_IP, unix.IP_TOS, val[:n]); err != nil {
			t.Fatalf("IP_TOS optlen %d: %v", n, err)
		}
		b, _, err := rawGetsockopt(fd, unix.SOL_IP, unix.IP_TOS, 4)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ParseIPInt(val[:n])
		// IP_TOS keeps the low byte on UDP sockets (inet->tos is u8).
		if got := int32(b[0]); got != want&0xff {
			t.Errorf("IP_TOS optlen %d: kernel stored %d, codec parsed %d", n, got, want)
		}
	}
	// Which options refuse an empty value.
	for _, opt := range []int{unix.IP_TOS, unix.IP_TTL, unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS, unix.IP_RECVOPTS,
		unix.IP_RETOPTS, unix.IP_MTU_DISCOVER, unix.IP_RECVERR, unix.IP_FREEBIND, unix.IP_PASSSEC, unix.IP_MINTTL,
		unix.IP_BIND_ADDRESS_NO_PORT, unix.IP_MULTICAST_TTL, unix.IP_MULTICAST_ALL, unix.IP_MULTICAST_LOOP,
		unix.IP_RECVORIGDSTADDR, unix.IP_CHECKSUM, unix.IP_RECVFRAGSIZE, unix.IP_TRANSPARENT} {
		err := rawSetsockopt(fd, unix.SOL_IP, opt, nil)
		if want := IPIntNeedsValue(opt); (asErrno(err) == unix.EINVAL) != want {
			t.Errorf("%s optlen 0: kernel %v, IPIntNeedsValue=%v", Name(unix.SOL_IP, opt), err, want)
		}
	}
	if err := rawSetsockopt(fd, unix.SOL_IP, unix.IP_TTL, []byte{200}); err != nil {
		t.Fatal(err)
	}
	if err := rawSetsockopt(fd, unix.SOL_IP, unix.IP_UNICAST_IF, []byte{0, 0, 0, 1}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		level, opt int
		v          int32
		put        func([]byte, int32) int
	}{
		{unix.SOL_IP, unix.IP_TTL, 200, PutIPInt},
		{unix.SOL_IP, unix.IP_UNICAST_IF, 0x01000000, PutIPInt},
		{unix.SOL_SOCKET, unix.SO_RCVBUF, -1, PutSockInt}, // v read from the kernel below
		{unix.SOL_SOCKET, unix.SO_REUSEADDR, 0, PutSockInt},
	} {
		if c.v == -1 {
			b, _, err := rawGetsockopt(fd, c.level, c.opt, 4)
			if err != nil {
				t.Fatal(err)
			}
			c.v = Int32(b[:4])
		}
		for _, n := range []int32{0, 1, 2, 3, 4, 8} {
			kb, kn, err := rawGetsockopt(fd, c.level, c.opt, n)
			if err != nil {
				t.Fatalf("%s optlen %d: %v", Name(c.level, c.opt), n, err)
			}
			var mb [16]byte
			for i := range mb {
				mb[i] = 0xee
			}
			mn := c.put(mb[:n], c.v)
			if int32(mn) != kn || mb != kb {
				t.Errorf("%s optlen %d: kernel %v/%d, codec %v/%d", Name(c.level, c.opt), n, kb[:8], kn, mb[:8], mn)
			}
		}
		if _, _, err := rawGetsockopt(fd, c.level, c.opt, -1); err != unix.EINVAL {
			t.Errorf("%s optlen -1: %v, want EINVAL (callers rely on this)", Name(c.level, c.opt), err)
		}
	}
	// SOL_SOCKET set: the kernel refuses short values exactly when the codec does.
	for _, n := range []int{0, 1, 2, 3, 4, 8} {
		b := append(le(4096), 0, 0, 0, 0)[:n]
		kerr := rawSetsockopt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, b)
		_, cerr := ParseSockInt(b)
		if asErrno(kerr) != asErrno(cerr) {
			t.Errorf("SO_RCVBUF optlen %d: kernel %v, codec %v", n, kerr, cerr)
		}
	}
}
