package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IPV6_RECVERR_RFC4884 (ipv6_icmp_error_rfc4884): an ICMPv6 destination
// unreachable or time exceeded whose length field (in 64-bit words) marks
// an original datagram of at least 128 bytes followed by an extension
// structure gets, in ee_data, the extension's offset in the data the
// socket reads and whether it is invalid. Forged on ::1 as the other
// ICMPv6 error scenarios (ipv6_icmp6err.go).

// rfc4884Case6 is one forged error: its type and code, the length field,
// how long the quoted datagram is and the extension after it.
type rfc4884Case6 struct {
	name      string
	typ, code uint8
	words     uint8
	quoteLen  int
	ext       []byte
}

var rfc4884Cases6 = []rfc4884Case6{
	{"unreach valid", 1, 4, 16, 128, rfc4884Ext(2, 8, false)},
	{"unreach bad checksum", 1, 4, 16, 128, rfc4884Ext(2, 8, true)},
	{"unreach version 1", 1, 4, 16, 128, rfc4884Ext(1, 8, false)},
	{"unreach object overruns", 1, 4, 16, 128, rfc4884Ext(2, 40, false)},
	{"unreach length below 128", 1, 4, 10, 80, rfc4884Ext(2, 8, false)},
	{"unreach longer original", 1, 4, 20, 160, rfc4884Ext(2, 8, false)},
	{"unreach length past end", 1, 4, 30, 128, rfc4884Ext(2, 8, false)},
	{"time exceeded", 3, 0, 16, 128, rfc4884Ext(2, 8, false)},
	{"parameter problem", 4, 0, 16, 128, rfc4884Ext(2, 8, false)},
}

// forgeRFC4884 sends c about a UDP datagram from local to peer.
func forgeRFC4884(e *harness.Env, raw harness.Sock, c rfc4884Case6, local, peer netip.AddrPort) {
	ic := icmp6Case{typ: c.typ, code: c.code, info: uint32(c.words) << 24, transProto: unix.IPPROTO_UDP}
	pkt := forgedICMP6(ic, local, peer, string(make([]byte, c.quoteLen-48)))
	n, err := raw.SendMsg(append(pkt, c.ext...), nil, sa6(netip.IPv6Loopback(), 0), 0)
	e.Rec("forge "+c.name, n, err)
}

func ipv6RFC4884Scenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/rfc4884-option", Run: func(e *harness.Env) {
			for _, k := range sweepKinds6 {
				if k.needPingRange {
					continue
				}
				s := e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
				e.GetInt(k.name+" default", s, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884)
				for _, v := range []int32{1, 2, -1, 0} {
					e.SetInt(fmt.Sprintf("%s set %d", k.name, v), s, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884, v)
					e.GetInt(k.name+" get", s, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884)
				}
				e.Rec(k.name+" set short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884, []byte{1}))
			}
		}},
		{Name: "ipv6/rfc4884-udp-raw", Run: func(e *harness.Env) {
			local, peer := icmp6Ends(e)
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", u.Bind(sa6(local.Addr(), int(local.Port()))))
			r := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_UDP)
			for _, s := range []harness.Sock{u, r} {
				e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
				e.SetInt("IPV6_RECVERR_RFC4884", s, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884, 1)
			}
			for _, c := range rfc4884Cases6 {
				forgeRFC4884(e, raw, c, local, peer)
				recvErr6(e, "udp "+c.name, u, 2*time.Second)
				recvErr6(e, "raw "+c.name, r, 2*time.Second)
			}
			e.SetInt("udp IPV6_RECVERR_RFC4884 0", u, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884, 0)
			forgeRFC4884(e, raw, rfc4884Cases6[0], local, peer)
			recvErr6(e, "udp option off", u, 2*time.Second)
		}},
	}
}
