package options

import (
	"bytes"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// Fuzz targets: no input may panic; where an encoder exists, decoding what
// it wrote must give the value back; lengths must follow Linux's rules.

func FuzzParseIPInt(f *testing.F) {
	for _, s := range [][]byte{nil, {7}, {1, 2}, {1, 2, 3}, le(0x221), append(le(5), 9)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseIPInt(b)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case len(b) == 0 && v != 0, len(b) > 0 && len(b) < 4 && v != int32(b[0]):
			t.Fatalf("%v -> %d", b, v)
		case len(b) >= 4:
			out := make([]byte, 4)
			if PutIPInt(out, v) != 4 || !bytes.Equal(out, b[:4]) {
				t.Fatalf("round trip %v -> %d -> %v", b, v, out)
			}
		}
	})
}

func FuzzParseSockInt(f *testing.F) {
	for _, s := range [][]byte{nil, {1, 2, 3}, le(4096), append(le(1), 1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseSockInt(b)
		if (err != nil) != (len(b) < 4) {
			t.Fatalf("len %d: %v", len(b), err)
		}
		if err == nil {
			out := make([]byte, 8)
			if PutSockInt(out, v) != 4 || !bytes.Equal(out[:4], b[:4]) {
				t.Fatalf("round trip %v -> %v", b, out)
			}
		}
	})
}

func FuzzSockaddr(f *testing.F) {
	f.Add(SockaddrIn(netip.AddrPortFrom(lo, 53)))
	f.Add([]byte{0, 0})
	f.Add(rawSA(unix.AF_UNSPEC, netip.AddrPortFrom(netip.IPv4Unspecified(), 9), 16))
	f.Add(rawSA(unix.AF_INET6, netip.AddrPortFrom(lo, 9), 28))
	f.Fuzz(func(t *testing.T, b []byte) {
		ap, fam, err := ParseSockaddrIn(b)
		if (err != nil) != (len(b) < unix.SizeofSockaddrInet4) {
			t.Fatalf("len %d: %v", len(b), err)
		}
		if err == nil {
			out := SockaddrIn(ap)
			nativeEndian.PutUint16(out[0:2], fam)
			if !bytes.Equal(out[:8], b[:8]) {
				t.Fatalf("round trip %v -> %v", b[:8], out[:8])
			}
		}
		if r, err := ParseBindAddr(b); err == nil && (len(b) < 16 || len(b) > 128 || r.Addr != ap || (fam != unix.AF_INET && !ap.Addr().IsUnspecified())) {
			t.Fatalf("bind accepted %v: %+v", b, r)
		}
		if r, err := ParseConnectAddr(b); err == nil && !r.Unspec && (fam != unix.AF_INET || r.Addr != ap) {
			t.Fatalf("connect accepted %v: %+v", b, r)
		}
		if r, err := ParseSendtoAddr(b); err == nil && (r.Addr != ap || (fam != unix.AF_INET) != r.Unspec) {
			t.Fatalf("sendto accepted %v: %+v", b, r)
		}
	})
}

func FuzzCmsgParser(f *testing.F) {
	f.Add(AppendCmsg(AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, le(64)), unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12)))
	f.Add(AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_MARK, le(1))[:20])
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := NewCmsgParser(b)
		var rebuilt []byte
		for i := 0; ; i++ {
			m, ok := p.Next()
			if !ok {
				break
			}
			if i > len(b)/SizeofCmsghdr {
				t.Fatal("more messages than the buffer can hold")
			}
			rebuilt = AppendCmsg(rebuilt, m.Level, m.Type, m.Data)
		}
		if p.Err() == nil {
			// A clean walk re-encodes to a prefix-compatible buffer: same
			// headers and data wherever the input had them.
			q := NewCmsgParser(rebuilt)
			r := NewCmsgParser(b)
			for {
				m1, ok1 := q.Next()
				m2, ok2 := r.Next()
				if ok1 != ok2 {
					t.Fatal("re-encoded walk differs in length")
				}
				if !ok1 {
					break
				}
				if m1.Level != m2.Level || m1.Type != m2.Type || !bytes.Equal(m1.Data, m2.Data) {
					t.Fatal("re-encoded message differs")
				}
			}
		}
		pol := SendCmsgPolicy{NetAdminOrRaw: true, TxTime: true}
		ip, ipErr := ParseIPSendControl(b, pol)
		_, _ = ParseIPSendControl(b, SendCmsgPolicy{})
		// sock_cmsg_send reads a subset of what ip_cmsg_send reads.
		so, soErr := ParseSocketSendControl(b, pol)
		if ipErr == nil && (soErr != nil || so.HasMark != ip.HasMark || so.Mark != ip.Mark ||
			so.HasTimestamp != ip.HasTimestamp || so.HasPriority != ip.HasPriority || so.HasTTL) {
			t.Fatalf("ParseSocketSendControl %+v %v after ParseIPSendControl %+v", so, soErr, ip)
		}
		// allow_ipv6 adds one message type: whatever ip_cmsg_send refuses
		// it refuses too, and a v4-mapped IPV6_PKTINFO yields an IPv4
		// source.
		mapped, mappedErr := ParseMappedSendControl(b, pol)
		if ipErr != nil && mappedErr == nil {
			t.Fatalf("ParseMappedSendControl took what ParseIPSendControl refused (%v)", ipErr)
		}
		if mappedErr == nil && mapped.HasPktinfo && mapped.Pktinfo.SpecDst.IsValid() && !mapped.Pktinfo.SpecDst.Is4() {
			t.Fatalf("IPv6 pktinfo source %v", mapped.Pktinfo.SpecDst)
		}
	})
}

func FuzzCmsgBuilder(f *testing.F) {
	f.Add(0, []byte{1, 2, 3, 4})
	f.Add(18, []byte{1, 2, 3, 4})
	f.Add(64, make([]byte, 12))
	f.Fuzz(func(t *testing.T, room int, data []byte) {
		if room < 0 || room > 4096 {
			return
		}
		buf := make([]byte, room)
		b := NewCmsgBuilder(buf)
		b.Put(unix.SOL_IP, unix.IP_TTL, data)
		b.Put(unix.SOL_IP, unix.IP_TOS, data)
		if b.Len() > room {
			t.Fatalf("used %d of %d", b.Len(), room)
		}
		if fits := room >= CmsgSpace(len(data))+CmsgLen(len(data)); fits == (b.Flags() != 0) {
			t.Fatalf("room %d data %d: flags %#x", room, len(data), b.Flags())
		}
		p := NewCmsgParser(buf[:b.Len()])
		for m, ok := p.Next(); ok; m, ok = p.Next() {
			if !bytes.Equal(m.Data, data[:len(m.Data)]) {
				t.Fatal("data mismatch")
			}
		}
		if p.Err() != nil {
			t.Fatalf("builder output does not parse: %v", p.Err())
		}
	})
}

func FuzzStructs(f *testing.F) {
	pi := InPktinfo{IfIndex: 1, SpecDst: lo, Addr: grp}.Encode()
	gr := GroupReq{Interface: 1, Group: grp}.Encode()
	gs := GroupSourceReq{Interface: 1, Group: grp, Source: src}.Encode()
	f.Add(pi[:])
	f.Add(gr[:])
	f.Add(gs[:])
	f.Add(AppendIPMsfilter(nil, IPMsfilter{Multiaddr: grp, Sources: []netip.Addr{src}}, 1))
	f.Add(AppendGroupFilter(nil, GroupFilter{Group: grp, Sources: []netip.Addr{src}}, 1))
	lim := MsfilterLimits{OptmemMax: 131072, MaxMsf: 10}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseInPktinfo(b); err == nil {
			if e := p.Encode(); !bytes.Equal(e[:], b[:12]) {
				t.Fatal("in_pktinfo round trip")
			}
		}
		if m, err := ParseMembershipReq(b); err == nil {
			e := m.Encode()
			n := min(len(b), unix.SizeofIPMreqn)
			if len(b) < unix.SizeofIPMreqn {
				n = unix.SizeofIPMreq
			}
			if !bytes.Equal(e[:n], b[:n]) {
				t.Fatal("ip_mreqn round trip")
			}
		} else if len(b) >= unix.SizeofIPMreq {
			t.Fatal("membership refused a long enough value")
		}
		if _, err := ParseMulticastIfReq(b); (err != nil) != (len(b) < 4) {
			t.Fatal("multicast_if length rule")
		}
		if m, err := ParseIPMreqSource(b); err == nil {
			if e := m.Encode(); !bytes.Equal(e[:], b) {
				t.Fatal("ip_mreq_source round trip")
			}
		} else if len(b) == SizeofIPMreqSource {
			t.Fatal("ip_mreq_source refused 12 bytes")
		}
		if e, err := ParseSockExtendedErr(b); err == nil {
			if x := e.Encode(); !bytes.Equal(x[:], b[:16]) {
				t.Fatal("sock_extended_err round trip")
			}
		}
		if g, err := ParseGroupReq(b); err == nil {
			x := g.Encode()
			if !bytes.Equal(x[0:4], b[0:4]) || !bytes.Equal(x[8:10], b[8:10]) || !bytes.Equal(x[12:16], b[12:16]) {
				t.Fatal("group_req round trip")
			}
		}
		if g, err := ParseGroupSourceReq(b); err == nil && (g.Group != addr4(b[12:]) || g.Source != addr4(b[140:])) {
			t.Fatal("group_source_req addresses")
		}
		if m, err := ParseIPMsfilter(b, lim); err == nil {
			if IPMsfilterSize(len(m.Sources)) > len(b) {
				t.Fatal("ip_msfilter sources beyond optlen")
			}
			if x := AppendIPMsfilter(nil, m, uint32(len(m.Sources))); !bytes.Equal(x, b[:len(x)]) {
				t.Fatal("ip_msfilter round trip")
			}
		}
		_, _, _ = ParseIPMsfilterHeader(b)
		if g, err := ParseGroupFilter(b, lim); err == nil && GroupFilterSize(len(g.Sources)) > len(b) {
			t.Fatal("group_filter sources beyond optlen")
		}
	})
}

func FuzzSockaddrIn6(f *testing.F) {
	for _, s := range [][]byte{nil, make([]byte, 23), make([]byte, 24), SockaddrIn6Bytes(netip.MustParseAddrPort("[::1]:80"), 0),
		SockaddrIn6Bytes(netip.MustParseAddrPort("198.18.0.1:9"), 3)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSockaddrIn6(b)
		if len(b) < SizeofSockaddrIn6RFC2133 {
			if err == nil {
				t.Fatalf("%d bytes accepted", len(b))
			}
			return
		}
		if err != nil || !s.Addr.Is6() {
			t.Fatalf("%x: %v %v", b, s, err)
		}
		out := SockaddrIn6Bytes(s.AddrPort(), s.Scope)
		if !bytes.Equal(out[2:4], b[2:4]) || !bytes.Equal(out[8:24], b[8:24]) {
			t.Fatalf("round trip %x -> %x", b, out)
		}
		_ = SockaddrFamily(b)
	})
}

func FuzzIPv6SendControl(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, le(2)))
	f.Add(AppendCmsg(AppendCmsg(nil, unix.SOL_IPV6, unix.IPV6_TCLASS, le(0xffffffff)), unix.SOL_IPV6, unix.IPV6_PKTINFO, In6Pktinfo(netip.IPv6Loopback(), 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseIPv6SendControl(b, SendCmsgPolicy{})
		if err != nil {
			return
		}
		if c.HasHopLimit && (c.HopLimit < -1 || c.HopLimit > 255) || c.HasTClass && (c.TClass < -1 || c.TClass > 255) {
			t.Fatalf("%x: out of range %+v", b, c)
		}
		if c.HasPktinfo && !c.PktinfoAddr.Is6() {
			t.Fatalf("%x: pktinfo %v", b, c.PktinfoAddr)
		}
	})
}
