package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// setsockopt(IPV6_MTU) (np->frag_size) and the sends it holds an
// AF_INET6 UDP socket to, on ::1 (lo's 65536-byte MTU, no path MTU
// learnt: these scenarios leave ::1's path MTU alone, as a packet too big
// cannot be undone). ip6_setup_cork holds a send to the smaller of the
// route's MTU (the path's below IPV6_PMTUDISC_PROBE, the device's from
// it on) and IPV6_MTU: IPV6_DONTFRAG, DO, PROBE and INTERFACE refuse a
// datagram above it with EMSGSIZE and that MTU in the error-queue entry;
// DONT, WANT and OMIT send it, whole while it fits the route's MTU
// (__ip6_finish_output fragments only above ip6_skb_dst_mtu) and cut into
// fragments of at most IPV6_MTU bytes past lo's 65536. What the
// fragments look like is pinned by stack's TestFragments6Layout against
// Linux's (measured with AF_PACKET on lo); here the receiver sees every
// datagram whole.

// rxLen waits (bounded) for a datagram on rx and records its length, or
// that none came.
func rxLen(e *harness.Env, op string, rx harness.Sock, wait time.Duration) {
	harness.WaitReadable(rx, wait)
	n, _, fl, _, err := rx.RecvMsg(make([]byte, 70000), nil, unix.MSG_DONTWAIT)
	e.Rec(op, n, fmt.Sprintf("flags=%#x", fl), err)
}

func ipv6FragScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/udp-ipv6-mtu-setsockopt", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			for _, k := range []struct {
				name string
				typ  int
			}{{"udp", unix.SOCK_DGRAM}, {"tcp", unix.SOCK_STREAM}} {
				s := e.Socket(e.DUT, unix.AF_INET6, k.typ, 0)
				for _, v := range []struct {
					op  string
					val []byte
				}{
					{"short", []byte{0x00, 0x05}},
					{"empty", nil},
					{"1279", harness.Int32(1279)},
					{"1280", harness.Int32(1280)},
					{"0", harness.Int32(0)},
					{"-1", harness.Int32(-1)},
					{"huge", harness.Int32(0x7fffffff)},
					{"8 bytes 1300", []byte{0x14, 0x05, 0, 0, 0, 0, 0, 0}},
					{"1500", harness.Int32(1500)},
				} {
					e.Rec(fmt.Sprintf("%s set IPV6_MTU %s", k.name, v.op), s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MTU, v.val))
				}
				e.GetInt(k.name+" IPV6_MTU unconnected", s, unix.SOL_IPV6, unix.IPV6_MTU)
				if k.typ == unix.SOCK_DGRAM {
					e.Check("connect", s.Connect(sa6(lo, e.BasePort)))
					e.GetInt(k.name+" IPV6_MTU connected, 1500 set", s, unix.SOL_IPV6, unix.IPV6_MTU)
					buf := make([]byte, 32)
					n, err := s.GetSockOpt(unix.SOL_IPV6, unix.IPV6_PATHMTU, buf)
					e.Rec("IPV6_PATHMTU connected, 1500 set", n, buf[:max(n, 0)], err)
				}
				e.Check("close", s.Close())
			}
		}},
		{Name: "ipv6/udp-ipv6-mtu-sends", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			to := sa6(lo, e.BasePort)
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			for _, fs := range []int32{1280, 1500, 0} {
				for _, mode := range []int32{unix.IPV6_PMTUDISC_DONT, unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_INTERFACE, unix.IPV6_PMTUDISC_OMIT} {
					s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
					e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
					e.SetInt(fmt.Sprintf("IPV6_MTU %d", fs), s, unix.SOL_IPV6, unix.IPV6_MTU, fs)
					e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
					for _, n := range []int{1232, 1233, 1452, 1453, 65500} {
						op := fmt.Sprintf("mtu %d mode %d send %d", fs, mode, n)
						m, err := s.SendMsg(make([]byte, n), nil, to, 0)
						e.Rec(op, m, err)
						if err != nil {
							recvErr6(e, op+" errqueue", s, 0)
							continue
						}
						rxLen(e, op+" received", rx, 2*time.Second)
					}
					e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
					e.Check("close", s.Close())
				}
			}
		}},
		{Name: "ipv6/udp-ipv6-mtu-dontfrag", Run: func(e *harness.Env) {
			// IPV6_DONTFRAG is held to IPV6_MTU too, whatever the mode.
			lo := netip.IPv6Loopback()
			to := sa6(lo, e.BasePort)
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			e.SetInt("IPV6_MTU 1300", s, unix.SOL_IPV6, unix.IPV6_MTU, 1300)
			e.SetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			for _, mode := range []int32{unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_OMIT} {
				e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
				for _, n := range []int{1252, 1253} {
					op := fmt.Sprintf("mode %d send %d", mode, n)
					m, err := s.SendMsg(make([]byte, n), nil, to, 0)
					e.Rec(op, m, err)
					if err != nil {
						recvErr6(e, op+" errqueue", s, 0)
						continue
					}
					rxLen(e, op+" received", rx, 2*time.Second)
				}
			}
			// The option form only: the sentry refuses an IPV6_DONTFRAG
			// message (ipv6/dontfrag pins the message form).
			e.SetInt("IPV6_MTU 1280", s, unix.SOL_IPV6, unix.IPV6_MTU, 1280)
			m, err := s.SendMsg(make([]byte, 1300), nil, to, 0)
			e.Rec("send 1300", m, err)
			recvErr6(e, "errqueue", s, 0)
			e.SetInt("IPV6_DONTFRAG 0", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 0)
			m, err = s.SendMsg(make([]byte, 1300), nil, to, 0)
			e.Rec("send 1300 without IPV6_DONTFRAG", m, err)
			rxLen(e, "received", rx, 2*time.Second)
			e.SetInt("IPV6_DONTFRAG 1", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			e.SetInt("IPV6_MTU 0", s, unix.SOL_IPV6, unix.IPV6_MTU, 0)
			m, err = s.SendMsg(make([]byte, 1300), nil, to, 0)
			e.Rec("send 1300 under IPV6_DONTFRAG, IPV6_MTU 0", m, err)
			rxLen(e, "received", rx, 2*time.Second)
		}},
		{Name: "ipv6/udp-ipv6-mtu-recvpathmtu", Run: func(e *harness.Env) {
			// The path MTU a send under IPV6_DONTFRAG met is IPV6_MTU's
			// when that is smaller (ipv6_local_rxpmtu gets the cork MTU).
			lo := netip.IPv6Loopback()
			to := sa6(lo, e.BasePort)
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVPATHMTU", s, unix.SOL_IPV6, unix.IPV6_RECVPATHMTU, 1)
			e.SetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			for _, fs := range []int32{1280, 1500, 0} {
				e.SetInt(fmt.Sprintf("IPV6_MTU %d", fs), s, unix.SOL_IPV6, unix.IPV6_MTU, fs)
				m, err := s.SendMsg(make([]byte, 1500), nil, to, 0)
				e.Rec("send 1500", m, err)
				v6Recv(e, "recv path MTU", s, 128)
			}
			rxLen(e, "received", rx, 2*time.Second)
		}},
		{Name: "ipv6/udp-pmtu-fragments", Run: func(e *harness.Env) {
			// A packet too big teaches ::1 a path MTU of 1400 for
			// net.ipv6.route.mtu_expires, set to 5 s first so that the
			// scenarios after see lo's 65536 again (checked at the end;
			// a sandbox whose knob cannot be written stops before
			// learning anything). DONT and WANT fragment above 1400 (at
			// IPV6_MTU when smaller), DO refuses, PROBE, INTERFACE and
			// OMIT go by the device's MTU; IPV6_MTU below 1400 holds DO,
			// PROBE and INTERFACE to it.
			e.Check("mtu_expires 5", e.SetSysctl(e.DUT, "net.ipv6.route.mtu_expires", "5"))
			learnt := time.Now()
			local, peer := icmp6Ends(e)
			lo := netip.IPv6Loopback()
			a := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", a.Bind(sa6(local.Addr(), int(local.Port()))))
			e.Check("connect", a.Connect(sa6(peer.Addr(), int(peer.Port()))))
			e.SetInt("IPV6_RECVERR", a, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			raw := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			c := icmp6Case{typ: 2, info: 1400, transProto: unix.IPPROTO_UDP}
			n, err := raw.SendMsg(forgedICMP6(c, local, peer, "quoted"), nil, sa6(lo, 0), 0)
			e.Rec("forge packet too big 1400", n, err)
			recvErr6(e, "errqueue", a, 2*time.Second)
			fresh := func(op string) {
				f := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
				e.Check("connect", f.Connect(sa6(lo, e.BasePort+3)))
				e.GetInt(op, f, unix.SOL_IPV6, unix.IPV6_MTU)
				e.Check("close", f.Close())
			}
			fresh("IPV6_MTU learnt")
			to := sa6(lo, e.BasePort+1)
			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.Check("bind", rx.Bind(to))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			for _, fs := range []int32{0, 1300, 1500} {
				e.SetInt(fmt.Sprintf("IPV6_MTU %d", fs), s, unix.SOL_IPV6, unix.IPV6_MTU, fs)
				for _, mode := range []int32{unix.IPV6_PMTUDISC_DONT, unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_INTERFACE, unix.IPV6_PMTUDISC_OMIT} {
					e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
					for _, n := range []int{1252, 1253, 1352, 1353, 3000} {
						op := fmt.Sprintf("mtu %d mode %d send %d", fs, mode, n)
						m, err := s.SendMsg(make([]byte, n), nil, to, 0)
						e.Rec(op, m, err)
						if err != nil {
							recvErr6(e, op+" errqueue", s, 0)
							continue
						}
						rxLen(e, op+" received", rx, 2*time.Second)
					}
				}
			}
			e.SetInt("IPV6_MTU 0", s, unix.SOL_IPV6, unix.IPV6_MTU, 0)
			e.SetInt("IPV6_MTU_DISCOVER WANT", s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_WANT)
			e.SetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
			m, err := s.SendMsg(make([]byte, 1353), nil, to, 0)
			e.Rec("send 1353 under IPV6_DONTFRAG", m, err)
			recvErr6(e, "errqueue", s, 0)
			fresh("IPV6_MTU still learnt")
			time.Sleep(time.Until(learnt.Add(5500 * time.Millisecond)))
			fresh("IPV6_MTU expired")
		}},
	}
}

// rawPingMTUScenarios pin IPV6_MTU on raw and ping sockets: the cork MTU a
// send is held to under DO, PROBE, INTERFACE and IPV6_DONTFRAG (its
// EMSGSIZE reports it); below PROBE and under OMIT a datagram within
// lo's MTU leaves whole, as ip6_finish_output cuts at the path MTU.
func rawPingMTUScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, k := range []struct {
		name string
		ping bool
	}{{"raw", false}, {"ping", true}} {
		scs = append(scs, harness.Scenario{Name: "ipv6/" + k.name + "-ipv6-mtu-sends", Run: func(e *harness.Env) {
			lo := netip.IPv6Loopback()
			open := func() harness.Sock {
				if k.ping {
					return ping6Socket(e)
				}
				return e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
			}
			for _, v := range []struct {
				op  string
				val []byte
			}{{"short", []byte{0x00, 0x05}}, {"1279", harness.Int32(1279)}, {"-1", harness.Int32(-1)}} {
				s := open()
				e.Rec("set IPV6_MTU "+v.op, s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MTU, v.val))
				e.Check("close", s.Close())
			}
			for _, mode := range []int32{unix.IPV6_PMTUDISC_DONT, unix.IPV6_PMTUDISC_WANT, unix.IPV6_PMTUDISC_DO, unix.IPV6_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_INTERFACE, unix.IPV6_PMTUDISC_OMIT} {
				s := open()
				e.SetInt("IPV6_RECVERR", s, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
				e.SetInt("IPV6_MTU 1300", s, unix.SOL_IPV6, unix.IPV6_MTU, 1300)
				e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", mode), s, unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER, mode)
				for i, n := range []int{1252, 1253, 3000} {
					op := fmt.Sprintf("mode %d send %d", mode, n)
					m, err := s.SendMsg(echo6(uint16(e.BasePort), uint16(i+1), string(make([]byte, n-8))), nil, sa6(lo, 0), 0)
					e.Rec(op, m, err)
					if err != nil {
						recvErr6(e, op+" errqueue", s, 0)
					}
				}
				e.SetInt("IPV6_DONTFRAG", s, unix.SOL_IPV6, unix.IPV6_DONTFRAG, 1)
				m, err := s.SendMsg(echo6(uint16(e.BasePort), 9, string(make([]byte, 3000))), nil, sa6(lo, 0), 0)
				e.Rec("send 3008 under IPV6_DONTFRAG", m, err)
				recvErr6(e, "errqueue", s, 0)
				e.GetInt("IPV6_MTU reads the path's", s, unix.SOL_IPV6, unix.IPV6_MTU)
				e.Check("close", s.Close())
			}
		}})
	}
	return scs
}
