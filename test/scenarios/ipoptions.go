package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// getOptBytes records getsockopt(level, name) with an n-byte buffer.
func getOptBytes(e *harness.Env, op string, s harness.Sock, level, name, n int) {
	buf := make([]byte, n)
	got, err := s.GetSockOpt(level, name, buf)
	e.Rec(op, err, got, buf[:min(max(got, 0), len(buf))])
}

// sockPort reads s's bound port.
func sockPort(s harness.Sock) int {
	sa, err := s.GetSockName()
	if err != nil || len(sa) < 4 {
		return -1
	}
	return int(binary.BigEndian.Uint16(sa[2:4]))
}

func ipOptionsScenarios() []harness.Scenario {
	return append(append(append(append(append(append(append(append(unicastIfScenarios(), bindNoPortScenarios()...), icmpFilterScenarios()...), retoptsScenarios()...), ipOptionsLocalScenarios()...), rawIPOptionsScenarios()...), minTTLTCPScenarios()...), freebindRawScenarios()...), []harness.Scenario{
		{Name: "ipopt/ip-options-forms", Run: func(e *harness.Env) {
			s := dutUDP(e, 0)
			dut, peer := e.DUTAddr.As4(), e.PeerAddr.As4()
			lsrr2 := append(append([]byte{0x83, 11, 4}, peer[:]...), 198, 19, 0, 2)
			for _, opts := range [][]byte{
				append([]byte{0x83, 7, 4}, peer[:]...),                         // loose source route, one hop
				lsrr2,                                                          // two hops
				append([]byte{0x89, 7, 4}, peer[:]...),                         // strict source route
				append([]byte{0x83, 7, 8}, peer[:]...),                         // pointer not at the first slot
				{0x83, 8, 4, 1, 2, 3, 4, 5},                                    // length not 3+4n
				{0x83, 3, 4},                                                   // no address
				{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0},                             // record route, two slots
				{7, 7, 8, 1, 2, 3, 4},                                          // record route, full
				{7, 7, 3, 0, 0, 0, 0},                                          // pointer below 4
				{7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0},                     // two record routes
				{0x44, 8, 5, 0, 0, 0, 0, 0},                                    // timestamps only
				{0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0},                       // timestamps and addresses
				{0x44, 8, 5, 1, 0, 0, 0, 0},                                    // ... with no room for both
				append(append([]byte{0x44, 12, 5, 3}, dut[:]...), 0, 0, 0, 0),  // prespecified, local
				append(append([]byte{0x44, 12, 5, 3}, peer[:]...), 0, 0, 0, 0), // prespecified, remote
				{0x44, 4, 5, 0x00},                                             // full, overflow 0
				{0x44, 4, 5, 0xf0},                                             // full, overflow 15
				{0x44, 8, 4, 0, 0, 0, 0, 0},                                    // pointer below 5
				{0x44, 8, 5, 2, 0, 0, 0, 0},                                    // unknown flag (CAP_NET_RAW)
				{0x94, 4, 1, 2},                                                // router alert with a value
				{0x94, 3, 0},                                                   // router alert too short
				{0x82, 4, 0, 0},                                                // security (CAP_NET_RAW)
				{0x99, 2},                                                      // unknown type (CAP_NET_RAW)
				{1, 7},                                                         // NOP then a lone type byte
				{0, 7, 7, 4},                                                   // EOL then junk
				make([]byte, 40),                                               // 40 EOLs
				{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // 39 NOPs
			} {
				e.Rec(fmt.Sprintf("set %x", opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 48)
			}
			e.Rec("set lsrr2", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, lsrr2))
			getOptBytes(e, "get 5 bytes", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 5)
			getOptBytes(e, "get 0 bytes", s, unix.IPPROTO_IP, unix.IP_OPTIONS, 0)
		}},
		{Name: "wire/ip-options-record-route", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			for _, opts := range [][]byte{
				{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0},   // two slots: this host fills the first
				{7, 7, 8, 1, 2, 3, 4},                // full: sent as given
				{1, 7, 7, 4, 0, 0, 0, 0},             // after a NOP
				{0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0}, // router alert and record route
			} {
				err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts)
				e.Rec(fmt.Sprintf("set %x", opts), err)
				if err != nil {
					continue
				}
				send(e, "send", s, []byte("rr"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
				capture(e, "peer saw", tap, e.BasePort)
			}
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			send(e, "send 1460 with 12 option bytes", s, make([]byte, 1460), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			send(e, "send 1472 with 12 option bytes", s, make([]byte, 1472), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
		}},
		{Name: "ipopt/local-port-range-udp", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("lo > hi", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(41000, 40000)))
			e.Rec("optlen 8", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, append(portRange(40000, 40009), 0, 0, 0, 0)))
			e.Rec("optlen 2", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, []byte{1, 2}))
			e.Rec("only lo", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40000, 0)))
			getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, 4)
			getOptBytes(e, "get 2 bytes", s, unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, 2)
			e.Rec("set 40000-40009", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40000, 40009)))
			send(e, "send (autobind)", s, []byte("r"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			p := sockPort(s)
			e.Rec("port in 40000-40009", p >= 40000 && p <= 40009)
			for i := 0; i < 9; i++ {
				t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				t.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40000, 40009))
				err := t.Bind(harness.Sockaddr(e.DUTAddr, 0))
				q := sockPort(t)
				e.Rec("bind port 0 in range", err, q >= 40000 && q <= 40009 && q != p)
			}
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			t.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40000, 40009))
			e.Rec("range exhausted", t.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			u.SetSockOpt(unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(1000, 2000))
			e.Rec("range outside the sysctl's", u.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			q := sockPort(u)
			e.Rec("port from the sysctl range", q >= 32768 && q <= 60999)
		}},
		{Name: "ipopt/int-option-rules", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				for _, o := range []struct {
					name string
					opt  int
				}{{"IP_FREEBIND", unix.IP_FREEBIND}, {"IP_TRANSPARENT", unix.IP_TRANSPARENT}, {"IP_NODEFRAG", unix.IP_NODEFRAG}, {"IP_ROUTER_ALERT", unix.IP_ROUTER_ALERT}} {
					e.Rec(o.name+" optlen 0", s.SetSockOpt(unix.IPPROTO_IP, o.opt, nil))
					e.Rec(o.name+" optlen 1", s.SetSockOpt(unix.IPPROTO_IP, o.opt, []byte{2}))
					getOptBytes(e, o.name+" get 1", s, unix.IPPROTO_IP, o.opt, 1)
					e.Rec(o.name+" 0", s.SetSockOpt(unix.IPPROTO_IP, o.opt, harness.Int32(0)))
					getOptBytes(e, o.name+" get", s, unix.IPPROTO_IP, o.opt, 8)
				}
			}
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, v := range []int32{0, 1, 255, 256, -1} {
				e.SetInt(fmt.Sprintf("IP_MINTTL %d", v), s, unix.IPPROTO_IP, unix.IP_MINTTL, v)
			}
			e.Rec("IP_MINTTL optlen 0", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MINTTL, nil))
			e.Rec("IP_MINTTL optlen 1", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MINTTL, []byte{200}))
			getOptBytes(e, "IP_MINTTL get", s, unix.IPPROTO_IP, unix.IP_MINTTL, 4)
			for _, proto := range []int{unix.IPPROTO_ICMP, unix.IPPROTO_RAW} {
				r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, proto)
				e.SetInt("raw IP_NODEFRAG 1", r, unix.IPPROTO_IP, unix.IP_NODEFRAG, 1)
				e.GetInt("raw IP_NODEFRAG", r, unix.IPPROTO_IP, unix.IP_NODEFRAG)
				e.SetInt("raw IP_ROUTER_ALERT 1", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 1)
				e.SetInt("raw IP_ROUTER_ALERT 1 again", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 1)
				e.GetInt("raw IP_ROUTER_ALERT", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT)
				e.SetInt("raw IP_ROUTER_ALERT 0", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 0)
				e.SetInt("raw IP_ROUTER_ALERT 0 again", r, unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, 0)
			}
		}},
	}...)
}

// ifindexBE encodes IP_UNICAST_IF's value: an ifindex in network order.
func ifindexBE(i uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, i)
}

func unicastIfScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipopt/unicast-if", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				getOptBytes(e, "default", s, unix.IPPROTO_IP, unix.IP_UNICAST_IF, 4)
				e.Rec("optlen 1", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, []byte{2}))
				e.Rec("optlen 8", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, append(ifindexBE(2), 0, 0, 0, 0)))
				e.Rec("no such interface", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(99)))
				e.Rec("eth0", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(2)))
				getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_UNICAST_IF, 4)
				getOptBytes(e, "get 2 bytes", s, unix.IPPROTO_IP, unix.IP_UNICAST_IF, 2)
				e.Rec("clear", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(0)))
				getOptBytes(e, "get", s, unix.IPPROTO_IP, unix.IP_UNICAST_IF, 4)
				e.Rec("SO_BINDTODEVICE lo", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
				e.Rec("with a bound device", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(2)))
				e.Rec("clear with a bound device", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(0)))
			}
		}},
		{Name: "ipopt/unicast-if-udp-route", Run: func(e *harness.Env) {
			// Through lo, the peer is unreachable; through eth0 a
			// loopback destination leaves from eth0's address.
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_UNICAST_IF lo", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(1)))
			send(e, "send to peer via lo", s, []byte("x"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			e.Rec("connect peer via lo", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			p := peerUDP(e, e.BasePort)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_UNICAST_IF eth0", t.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(2)))
			send(e, "send to peer via eth0", t, []byte("uc"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			e.RecvDgram("peer recv", p, 16, 0)
			u := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_UNICAST_IF eth0", u.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(2)))
			e.Rec("connect far via eth0", u.Connect(harness.Sockaddr(e.FarAddrs[0], e.BasePort)))
			recName(e, "getsockname", u)
		}},
	}
}

func bindNoPortScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, n := range tcpoptNets { // tcpopt_family.go
		scs = append(scs,
			harness.Scenario{Name: "bind/address-no-port-tcp" + n.suffix, Run: n.bindAddressNoPort},
			harness.Scenario{Name: "ipopt/local-port-range-tcp" + n.suffix, Run: n.localPortRange})
	}
	return append(scs, []harness.Scenario{
		{Name: "bind/address-no-port-udp", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("IP_BIND_ADDRESS_NO_PORT", s, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			e.Rec("bind foreign", s.Bind(harness.Sockaddr(e.PeerAddr, 0)))
			e.Rec("bind addr:0", s.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			recName(e, "getsockname", s)
			e.Rec("bind again", s.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			send(e, "send", s, []byte("np"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			recName(e, "getsockname", s)
			e.RecvDgram("peer recv", p, 16, 0)
			e.Rec("bind after send", s.Bind(harness.Sockaddr(e.DUTAddr, 0)))
		}},
	}...)
}

func icmpFilterScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "raw/icmp-filter", Run: func(e *harness.Env) {
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			all := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			getOptBytes(e, "default", r, unix.SOL_RAW, 1, 8)
			getOptBytes(e, "get 2 bytes", r, unix.SOL_RAW, 1, 2)
			// Drop echo replies (type 0) only.
			e.Rec("set 2 bytes", r.SetSockOpt(unix.SOL_RAW, 1, []byte{1, 0}))
			getOptBytes(e, "get", r, unix.SOL_RAW, 1, 4)
			e.Rec("other SOL_RAW option", r.SetSockOpt(unix.SOL_RAW, 2, harness.Int32(0)))
			getOptBytes(e, "get other", r, unix.SOL_RAW, 2, 4)
			ping := echoRequest(0x4242, 1, []byte("filter"))
			send(e, "echo to peer", r, ping, harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(all, 2*time.Second)
			buf := make([]byte, 128)
			n, _, _, _, err := all.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("unfiltered socket", err, n > 20 && buf[20] == 0)
			e.Rec("poll filtered socket", harness.WaitReadable(r, 300*time.Millisecond))
			_, _, _, _, err = r.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("filtered socket", err)
			e.Rec("let replies through", r.SetSockOpt(unix.SOL_RAW, 1, harness.Int32(-2)))
			send(e, "echo to peer", r, ping, harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(r, 2*time.Second)
			n, _, _, _, err = r.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("filtered socket", err, n > 20 && buf[20] == 0)
		}},
	}
}

// retoptsCmsg builds an IP_RETOPTS control message carrying opts.
func retoptsCmsg(opts []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(opts)))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(len(opts))))
	binary.NativeEndian.PutUint32(b[8:], uint32(unix.IPPROTO_IP))
	binary.NativeEndian.PutUint32(b[12:], uint32(unix.IP_RETOPTS))
	copy(b[unix.CmsgLen(0):], opts)
	return b
}

func retoptsScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/send-retopts", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			e.Rec("socket IP_OPTIONS rr", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 7, 4, 0, 0, 0, 0}))
			for _, c := range []struct {
				name string
				opts []byte
			}{
				{"router alert", []byte{0x94, 4, 0, 0}},
				{"empty", nil},
				{"nops", []byte{1, 1}},
				{"record route 2 slots", []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0}},
				{"malformed", []byte{7, 2}},
				{"44 bytes, cut to 40", append(make([]byte, 40), 7, 2, 0, 0)},
				{"45 bytes of record route", append([]byte{7, 39, 4}, make([]byte, 42)...)},
			} {
				n, err := s.SendMsg([]byte("ro"), retoptsCmsg(c.opts), to, 0)
				e.Rec("send "+c.name, err, n)
				if err == nil {
					capture(e, "peer saw", tap, e.BasePort)
				}
			}
			send(e, "send without cmsg", s, []byte("ro"), to, 0)
			capture(e, "peer saw", tap, e.BasePort)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			_, err := r.SendMsg([]byte("12345678"), retoptsCmsg([]byte{7, 2}), to, 0)
			e.Rec("raw send malformed", err)
		}},
	}
}

func ipOptionsLocalScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/ip-options-to-self", Run: func(e *harness.Env) {
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", r.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_RETOPTS", r, unix.IPPROTO_IP, unix.IP_RETOPTS, 1)
			e.SetInt("IP_RECVTTL", r, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, opts := range [][]byte{
				{0x94, 4, 0, 0},
				{1, 1, 1},
			} {
				e.Rec(fmt.Sprintf("set %x", opts), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts))
				for _, dst := range []netip.Addr{loopback, e.DUTAddr} {
					send(e, "send to "+dst.String(), s, []byte("self"), harness.Sockaddr(dst, e.BasePort), 0)
					peerRecvCmsgs(e, "recv", r)
				}
			}
		}},
	}
}

func rawIPOptionsScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "wire/raw-ip-options", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			getOptBytes(e, "default", r, unix.IPPROTO_IP, unix.IP_OPTIONS, 40)
			e.Rec("set rr", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 7, 4, 0, 0, 0, 0}))
			getOptBytes(e, "get", r, unix.IPPROTO_IP, unix.IP_OPTIONS, 40)
			e.Rec("set bad", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 2}))
			udp := make([]byte, 10)
			binary.BigEndian.PutUint16(udp[0:], uint16(e.BasePort+1))
			binary.BigEndian.PutUint16(udp[2:], uint16(e.BasePort))
			binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
			copy(udp[8:], "rw")
			to := harness.Sockaddr(e.PeerAddr, 0)
			send(e, "send", r, udp, to, 0)
			capture(e, "peer saw", tap, e.BasePort)
			e.SetInt("IP_TTL 9", r, unix.IPPROTO_IP, unix.IP_TTL, 9)
			e.SetInt("IP_TOS", r, unix.IPPROTO_IP, unix.IP_TOS, 0x20)
			n, err := r.SendMsg(udp, retoptsCmsg([]byte{0x94, 4, 0, 0}), to, 0)
			e.Rec("send with IP_RETOPTS", err, n)
			capture(e, "peer saw", tap, e.BasePort)
			n, err = r.SendMsg(udp, retoptsCmsg(nil), to, 0)
			e.Rec("send with empty IP_RETOPTS", err, n)
			capture(e, "peer saw", tap, e.BasePort)
			e.SetInt("IP_HDRINCL", r, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
			send(e, "send hdrincl with options", r, udp, to, 0)
			e.Rec("clear", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, nil))
			send(e, "send hdrincl after clearing", r, udp, to, 0)
			h := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			_, err = h.SendMsg(udp, retoptsCmsg([]byte{1, 1, 1, 1}), to, 0)
			e.Rec("IPPROTO_RAW send with IP_RETOPTS", err)
		}},
	}
}

// streamBytes reads s (bounded) until want bytes arrived or a quiet spell,
// and returns how many came.
func streamBytes(s harness.Sock, want int, wait time.Duration) int {
	got := 0
	deadline := time.Now().Add(wait)
	buf := make([]byte, 64)
	for got < want && time.Now().Before(deadline) {
		harness.WaitReadable(s, time.Until(deadline))
		n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err == nil && n > 0 {
			got += n
		}
	}
	return got
}

func minTTLTCPScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, n := range []tcpoptNet{tcpoptV4, tcpoptMapped} { // tcpopt_family.go
		scs = append(scs,
			harness.Scenario{Name: "ipopt/minttl-tcp" + n.suffix, Run: n.minTTLListener},
			harness.Scenario{Name: "ipopt/minttl-tcp-client" + n.suffix, Run: n.minTTLClient})
	}
	return scs
}

func freebindRawScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "bind/freebind-raw-ping", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			foreign := netip.AddrFrom4([4]byte{198, 18, 0, 99})
			for _, k := range []struct{ typ, proto int }{{unix.SOCK_RAW, unix.IPPROTO_UDP}, {unix.SOCK_DGRAM, unix.IPPROTO_ICMP}} {
				s := e.Socket(e.DUT, unix.AF_INET, k.typ, k.proto)
				e.Rec("bind foreign", s.Bind(harness.Sockaddr(foreign, 0)))
				e.SetInt("IP_FREEBIND", s, unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
				e.Rec("bind foreign with IP_FREEBIND", s.Bind(harness.Sockaddr(foreign, 0)))
				// Only the address: a ping identifier is not taken from
				// ip_local_port_range, so it cannot be compared.
				sa, err := s.GetSockName()
				if err == nil && len(sa) >= 8 {
					e.Rec("getsockname address", err, netip.AddrFrom4([4]byte(sa[4:8])))
				} else {
					e.Rec("getsockname address", err)
				}
			}
		}},
	}
}
