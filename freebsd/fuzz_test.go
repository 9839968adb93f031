package freebsd

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseCmsgs: any control buffer parses without a panic and every
// message's data lies inside the buffer.
func FuzzParseCmsgs(f *testing.F) {
	f.Add(AppendCmsg(nil, IPPROTO_IP, IP_SENDSRCADDR, []byte{1, 2, 3, 4}))
	f.Add(append(AppendCmsg(nil, IPPROTO_IP, IP_TOS, []byte{1}), 0xff, 0, 0, 0))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := ParseCmsgs(b)
		for _, m := range msgs {
			if int(m.Len) > len(b) || len(m.Data) > len(b) {
				t.Fatalf("message %+v outside a %d-byte buffer", m, len(b))
			}
		}
		_, _ = parseSendCmsgs(b)
	})
}

// FuzzParseSockaddrIn: sockaddrs round-trip through the Linux form.
func FuzzParseSockaddrIn(f *testing.F) {
	f.Add(SockaddrIn(netipAP("10.0.0.1:53")))
	f.Add([]byte{16, 28})
	f.Fuzz(func(t *testing.T, b []byte) {
		ap, err := ParseSockaddrIn(b)
		if err != nil {
			return
		}
		l, err := linuxSockaddr(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := bsdSockaddr(l); string(got) != string(SockaddrIn(ap)) {
			t.Fatalf("round trip %x -> %x", b, got)
		}
	})
}

// FuzzParseIPOptions: the stored form never exceeds ip_pcbopts's bound.
func FuzzParseIPOptions(f *testing.F) {
	f.Add([]byte{1, 0x83, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2})
	f.Add([]byte{1, 1, 1, 0})
	f.Add([]byte{0x89, 3, 4, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ParseIPOptions(b)
		if err == nil && len(out) > MAX_IPOPTLEN+4 {
			t.Fatalf("%d bytes stored", len(out))
		}
	})
}

// FuzzSetSockOpt: any level, name and value on a live socket answers an
// errno or succeeds, never panics; a success reads back.
func FuzzSetSockOpt(f *testing.F) {
	f.Add(0, IP_TTL, []byte{7, 0, 0, 0})
	f.Add(0, IP_OPTIONS, []byte{1, 0x83, 7, 4, 1, 2, 3, 4})
	f.Add(SOL_SOCKET, SO_BROADCAST, []byte{1, 0, 0, 0})
	f.Add(0, IP_MINTTL, []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(0, IP_ADD_MEMBERSHIP, []byte{239, 1, 1, 1, 127, 0, 0, 1})
	f.Add(0, IP_ADD_SOURCE_MEMBERSHIP, []byte{239, 1, 1, 1, 10, 0, 0, 1, 127, 0, 0, 1})
	f.Add(0, IP_MULTICAST_IF, []byte{0, 0, 0, 0, 127, 0, 0, 1, 1, 0, 0, 0})
	f.Add(0, IP_PORTRANGE, []byte{2, 0, 0, 0})
	gr := make([]byte, SizeofGroupSourceReq)
	gr[0], gr[8], gr[9], gr[12], gr[136], gr[137] = 1, 16, AF_INET, 239, 16, AF_INET
	f.Add(0, MCAST_JOIN_SOURCE_GROUP, gr)
	st := newStack(f)
	f.Fuzz(func(t *testing.T, level, name int, val []byte) {
		if level != 0 && level != SOL_SOCKET {
			level = 0
		}
		s, err := New(st, unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.SetSockOpt(level, name, val); err == nil {
			buf := make([]byte, 64)
			if _, err := s.GetSockOpt(level, name, buf); err != nil && err != unix.ENOPROTOOPT {
				t.Fatalf("set ok, get %v", err)
			}
		}
	})
}

func netipAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// FuzzLinuxHeader: any header-included datagram is refused or turned into
// one whose total length field is its length, never longer than written.
func FuzzLinuxHeader(f *testing.F) {
	f.Add([]byte{0x45, 0, 28, 0, 0, 0, 0, 0x40, 64, 17, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 1, 0, 2, 0, 8, 0, 0}, false)
	f.Add([]byte{0x46, 0, 24, 0}, true)
	f.Fuzz(func(t *testing.T, p []byte, opts bool) {
		out, err := LinuxHeader(p, opts)
		if err != nil {
			return
		}
		if len(out) > len(p) || int(out[2])<<8|int(out[3]) != len(out) {
			t.Fatalf("%x -> %x", p, out)
		}
	})
}
