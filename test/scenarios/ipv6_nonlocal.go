package scenarios

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ipv6NonLocalScenarios pin IPV6_FREEBIND and IPV6_TRANSPARENT (and the
// IPv4 names of the same bits) on the AF_INET6 kinds other than UDP,
// whose own scenario is ipv6/udp-freebind: what bind(2) accepts under
// them (ipv6_can_nonlocal_bind in inet6_bind, rawv6_bind and
// ping_check_bind_addr) and what the bound socket then reports.
func ipv6NonLocalScenarios() []harness.Scenario {
	kinds := []struct {
		name        string
		typ, proto  int
		ping, solIP bool
	}{
		{"tcp6", unix.SOCK_STREAM, 0, false, true},
		{"ping6", unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6, true, true},
		{"raw6", unix.SOCK_RAW, unix.IPPROTO_ICMPV6, false, false},
	}
	var scs []harness.Scenario
	for _, k := range kinds {
		scs = append(scs, harness.Scenario{Name: "ipv6/nonlocal-bind-" + k.name, Run: func(e *harness.Env) {
			open := func() harness.Sock {
				if k.ping {
					return ping6Socket(e)
				}
				return e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
			}
			port := e.BasePort
			if k.ping {
				port = 0 // a ping socket's identifier: let bind choose it
			}
			s := open()
			e.GetInt("IPV6_FREEBIND default", s, unix.SOL_IPV6, unix.IPV6_FREEBIND)
			e.GetInt("IPV6_TRANSPARENT default", s, unix.SOL_IPV6, unix.IPV6_TRANSPARENT)
			e.Rec("IPV6_FREEBIND short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_FREEBIND, []byte{1}))
			e.Rec("bind non-local", s.Bind(sa6(netip.MustParseAddr("2001:db8::15"), port)))
			e.SetInt("IPV6_FREEBIND 7", s, unix.SOL_IPV6, unix.IPV6_FREEBIND, 7)
			e.GetInt("IPV6_FREEBIND", s, unix.SOL_IPV6, unix.IPV6_FREEBIND)
			if k.solIP {
				e.GetInt("IP_FREEBIND (the same bit)", s, unix.SOL_IP, unix.IP_FREEBIND)
			}
			e.Rec("bind non-local under IPV6_FREEBIND", s.Bind(sa6(netip.MustParseAddr("2001:db8::15"), port)))
			recNameAddr(e, "getsockname", s)
			if k.typ == unix.SOCK_STREAM {
				e.Rec("listen", s.Listen(4))
				e.GetInt("SO_ACCEPTCONN", s, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			}

			t := open()
			e.SetInt("IPV6_TRANSPARENT 1", t, unix.SOL_IPV6, unix.IPV6_TRANSPARENT, 1)
			if k.solIP {
				e.GetInt("IP_TRANSPARENT (the same bit)", t, unix.SOL_IP, unix.IP_TRANSPARENT)
			}
			e.Rec("bind non-local under IPV6_TRANSPARENT", t.Bind(sa6(netip.MustParseAddr("2001:db8::16"), port)))
			recNameAddr(e, "getsockname", t)
			e.SetInt("IPV6_TRANSPARENT 0", t, unix.SOL_IPV6, unix.IPV6_TRANSPARENT, 0)
			e.GetInt("IPV6_TRANSPARENT after", t, unix.SOL_IPV6, unix.IPV6_TRANSPARENT)

			if k.solIP {
				// ipv6_setsockopt hands SOL_IP to IPv4's code, which sets
				// the bits inet6_bind reads.
				u := open()
				e.SetInt("IP_FREEBIND 1", u, unix.SOL_IP, unix.IP_FREEBIND, 1)
				e.GetInt("IPV6_FREEBIND (the same bit)", u, unix.SOL_IPV6, unix.IPV6_FREEBIND)
				e.Rec("bind non-local under IP_FREEBIND", u.Bind(sa6(netip.MustParseAddr("2001:db8::17"), port)))
			}
			if k.typ == unix.SOCK_STREAM {
				// A v4-mapped non-local address passes too (inet6_bind's
				// IPv4 check, under the same bits).
				m := open()
				mapped := netip.AddrFrom16(netip.MustParseAddr("192.0.2.19").As16())
				e.Rec("bind v4-mapped non-local", m.Bind(sa6(mapped, port)))
				e.SetInt("IPV6_FREEBIND 1", m, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
				e.Rec("bind v4-mapped non-local under IPV6_FREEBIND", m.Bind(sa6(mapped, port)))
				recNameAddr(e, "getsockname", m)
			}

			// Without CAP_NET_RAW and CAP_NET_ADMIN, TRANSPARENT cannot be
			// turned on (EPERM), but off, and FREEBIND, can.
			if !k.ping && k.typ != unix.SOCK_STREAM {
				return // a raw socket needs CAP_NET_RAW to exist
			}
			un := e.Unprivileged(e.DUT, unix.CAP_NET_RAW, unix.CAP_NET_ADMIN)
			v := e.Socket(un, unix.AF_INET6, k.typ, k.proto)
			e.Rec("unprivileged IPV6_TRANSPARENT 1", v.SetSockOpt(unix.SOL_IPV6, unix.IPV6_TRANSPARENT, harness.Int32(1)))
			e.Rec("unprivileged IPV6_TRANSPARENT 0", v.SetSockOpt(unix.SOL_IPV6, unix.IPV6_TRANSPARENT, harness.Int32(0)))
			e.Rec("unprivileged IPV6_FREEBIND 1", v.SetSockOpt(unix.SOL_IPV6, unix.IPV6_FREEBIND, harness.Int32(1)))
		}})
	}
	return scs
}

// nonLocalSourceScenarios pin a TCP connect, and an ICMPv6 raw or ping
// send, from an address bound under IP_FREEBIND/IPV6_FREEBIND, which
// Linux sends from (a SYN leaves with the non-local source and the
// connect waits for an answer).
func nonLocalSourceScenarios() []harness.Scenario {
	sndtimeo200ms := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x0d, 0x03, 0, 0, 0, 0, 0}
	return []harness.Scenario{{Name: "bind/nonlocal-source", Run: func(e *harness.Env) {
		for _, k := range []struct{ typ, proto int }{{unix.SOCK_RAW, unix.IPPROTO_ICMPV6}, {unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6}} {
			var s harness.Sock
			if k.typ == unix.SOCK_DGRAM {
				s = ping6Socket(e)
			} else {
				s = e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
			}
			e.SetInt("IPV6_FREEBIND 1", s, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
			e.Rec("bind non-local", s.Bind(sa6(netip.MustParseAddr("2001:db8::19"), 0)))
			n, err := s.SendMsg(echo6(1, 1, "x"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send from non-local", n, err)
		}
		for i, f := range []struct {
			family, level, opt int
			nonLocal, dst      netip.Addr
		}{
			{unix.AF_INET, unix.SOL_IP, unix.IP_FREEBIND, foreign, loopback},
			{unix.AF_INET6, unix.SOL_IPV6, unix.IPV6_FREEBIND, netip.MustParseAddr("2001:db8::18"), v6Loopback},
		} {
			sa := func(a netip.Addr, port int) []byte {
				if f.family == unix.AF_INET6 {
					return sa6(a, port)
				}
				return harness.Sockaddr(a, port)
			}
			l := e.Socket(e.DUT, f.family, unix.SOCK_STREAM, 0)
			e.Check("listener bind", l.Bind(sa(f.dst, e.BasePort+i)))
			e.Check("listen", l.Listen(4))
			c := e.Socket(e.DUT, f.family, unix.SOCK_STREAM, 0)
			e.SetInt("FREEBIND 1", c, f.level, f.opt, 1)
			e.Rec("bind non-local", c.Bind(sa(f.nonLocal, 0)))
			e.Rec("SO_SNDTIMEO 200ms", c.SetSockOpt(unix.SOL_SOCKET, unix.SO_SNDTIMEO_OLD, sndtimeo200ms))
			e.Rec("connect from non-local", c.Connect(sa(f.dst, e.BasePort+i)))
			e.GetInt("SO_ERROR", c, unix.SOL_SOCKET, unix.SO_ERROR)
		}
	}}}
}
