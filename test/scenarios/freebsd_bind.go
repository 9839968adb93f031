package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	fb "netsandbox/freebsd"
	"netsandbox/options"
	"netsandbox/test/harness"
)

// bsdPort records the port getsockname gives, or whether it lies in
// [lo, hi] when the choice is random.
func bsdPort(e *harness.Env, op string, s harness.Sock, lo, hi int, exact bool) {
	sa, err := s.GetSockName()
	if err != nil || len(sa) != fb.SizeofSockaddrIn {
		e.Rec(op, err, fmt.Sprintf("%x", sa))
		return
	}
	p := int(binary.BigEndian.Uint16(sa[2:4]))
	if exact {
		e.Rec(op, p)
		return
	}
	e.Rec(op, fmt.Sprintf("in %d..%d: %v", lo, hi, p >= lo && p <= hi))
}

func freebsdBindScenarios() []harness.BSDScenario {
	bcast := netip.MustParseAddr("198.18.0.255")
	return []harness.BSDScenario{
		{
			Name: "freebsd/ip-portrange",
			Cite: "ip_ctloutput IP_PORTRANGE: an int, IP_PORTRANGE_DEFAULT/HIGH/LOW else EINVAL, read back as set; " +
				"in_pcbbind_setup with lport 0 (FreeBSD 8, the ip(4) page's era): HIGH takes net.inet.ip.portrange.hifirst.." +
				"hilast (49152..65535), LOW lowfirst..lowlast (1023..600, counting down, after priv_check_cred for " +
				"reserved ports), DEFAULT first..last (10000..65535); with net.inet.ip.portrange.randomized 0 each " +
				"range goes on from its ipi_last* port (the first allocation is the range's first port), a range with " +
				"no free port is EADDRNOTAVAIL; udp_output -> in_pcbconnect_setup binds an unbound socket the same way " +
				"(Linux's IP_LOCAL_PORT_RANGE cannot leave ip_local_port_range: the equivalent is a bind to the port the LOW " +
				"range gives, 1021, and both datagrams must leave from it)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				bsdGet(e, "get IP_PORTRANGE default", s, fb.IPPROTO_IP, fb.IP_PORTRANGE, 4)
				e.Rec("set IP_PORTRANGE 3", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_PORTRANGE, bsdInt(3)))
				e.Rec("set IP_PORTRANGE 2 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_PORTRANGE, []byte{1, 0}))
				e.Rec("bind port 0", s.Bind(bsdSA(netip.IPv4Unspecified(), 0)))
				bsdPort(e, "default range, random", s, 10000, 65535, false)
				e.Rec("randomized 0", e.SetSysctl(h, "net.inet.ip.portrange.randomized", "0"))
				e.Rec("hifirst", e.SetSysctl(h, "net.inet.ip.portrange.hifirst", "50000"))
				e.Rec("hilast", e.SetSysctl(h, "net.inet.ip.portrange.hilast", "50001"))
				for i := 0; i < 3; i++ {
					s := bsdUDP(e, h)
					e.Rec("set IP_PORTRANGE HIGH", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_PORTRANGE, bsdInt(fb.IP_PORTRANGE_HIGH)))
					bsdGet(e, "get IP_PORTRANGE", s, fb.IPPROTO_IP, fb.IP_PORTRANGE, 4)
					e.Rec("bind port 0", s.Bind(bsdSA(netip.IPv4Unspecified(), 0)))
					bsdPort(e, "port", s, 0, 0, true)
				}
				for i := 0; i < 2; i++ {
					s := bsdUDP(e, h)
					e.Rec("set IP_PORTRANGE LOW", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_PORTRANGE, bsdInt(fb.IP_PORTRANGE_LOW)))
					e.Rec("bind port 0", s.Bind(bsdSA(netip.IPv4Unspecified(), 0)))
					bsdPort(e, "port", s, 0, 0, true)
				}
				tap := tapUDP(e, e.Peer)
				u := bsdUDP(e, h)
				e.Rec("set IP_PORTRANGE LOW", u.SetSockOpt(fb.IPPROTO_IP, fb.IP_PORTRANGE, bsdInt(fb.IP_PORTRANGE_LOW)))
				_, err := u.SendMsg([]byte("low"), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("sendto from an unbound socket", err)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"get IP_PORTRANGE default: ok 4 [00000000]",
				"set IP_PORTRANGE 3: EINVAL",
				"set IP_PORTRANGE 2 bytes: EINVAL",
				"bind port 0: ok",
				"default range, random: in 10000..65535: true",
				"randomized 0: ok",
				"hifirst: ok",
				"hilast: ok",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE HIGH: ok",
				"get IP_PORTRANGE: ok 4 [01000000]",
				"bind port 0: ok",
				"port: 50000",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE HIGH: ok",
				"get IP_PORTRANGE: ok 4 [01000000]",
				"bind port 0: ok",
				"port: 50001",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE HIGH: ok",
				"get IP_PORTRANGE: ok 4 [01000000]",
				"bind port 0: EADDRNOTAVAIL",
				"port: 0",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE LOW: ok",
				"bind port 0: ok",
				"port: 1023",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE LOW: ok",
				"bind port 0: ok",
				"port: 1022",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_PORTRANGE LOW: ok",
				"wire sendto from an unbound socket: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[6c6f77] sport=1021",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				u := linuxUDP(e)
				u.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				u.Bind(harness.Sockaddr(netip.IPv4Unspecified(), 1021)) // the port FreeBSD's LOW range gives
				_, err := u.SendMsg([]byte("low"), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("sendto from an unbound socket", err)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
			},
		},
		{
			Name: "freebsd/ip-bindany",
			Cite: "ip_ctloutput IP_BINDANY: priv_check(PRIV_NETINET_BINDANY) then an int, OPTSET(INP_BINDANY), read back 0/1; " +
				"in_pcbbind_setup: an address no interface has is EADDRNOTAVAIL unless INP_BINDANY; udp_output's " +
				"IP_SENDSRCADDR goes through the same check (Linux: IP_FREEBIND to bind, IP_TRANSPARENT to send from " +
				"a non-local IP_PKTINFO source)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				foreign := netip.MustParseAddr("198.18.0.77")
				e.Rec("bind 198.18.0.77", s.Bind(bsdSA(foreign, e.BasePort)))
				bsdGet(e, "get IP_BINDANY default", s, fb.IPPROTO_IP, fb.IP_BINDANY, 4)
				e.Rec("set IP_BINDANY 1 byte", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_BINDANY, []byte{1}))
				e.Rec("set IP_BINDANY", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_BINDANY, bsdInt(1)))
				bsdGet(e, "get IP_BINDANY", s, fb.IPPROTO_IP, fb.IP_BINDANY, 4)
				e.Rec("bind 198.18.0.77", s.Bind(bsdSA(foreign, e.BasePort)))
				_, err := s.SendMsg([]byte("any"), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send from the bound foreign address", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				u := bsdUDP(e, h)
				e.Rec("set IP_BINDANY", u.SetSockOpt(fb.IPPROTO_IP, fb.IP_BINDANY, bsdInt(1)))
				e.Rec("bind any", u.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort+2)))
				_, err = u.SendMsg([]byte("src"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_SENDSRCADDR, []byte{198, 18, 0, 78}), bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send with IP_SENDSRCADDR 198.18.0.78", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind 198.18.0.77: EADDRNOTAVAIL",
				"get IP_BINDANY default: ok 4 [00000000]",
				"set IP_BINDANY 1 byte: EINVAL",
				"set IP_BINDANY: ok",
				"get IP_BINDANY: ok 4 [01000000]",
				"bind 198.18.0.77: ok",
				"wire send from the bound foreign address: ok",
				"wire peer sees: src=198.18.0.77 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[616e79]",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_BINDANY: ok",
				"bind any: ok",
				"wire send with IP_SENDSRCADDR 198.18.0.78: ok",
				"wire peer sees: src=198.18.0.78 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[737263]",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				s.SetSockOpt(unix.SOL_IP, unix.IP_FREEBIND, harness.Int32(1))
				s.SetSockOpt(unix.SOL_IP, unix.IP_TRANSPARENT, harness.Int32(1))
				s.Bind(harness.Sockaddr(netip.MustParseAddr("198.18.0.77"), e.BasePort))
				_, err := s.SendMsg([]byte("any"), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send from the bound foreign address", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				u := linuxUDP(e)
				u.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				u.SetSockOpt(unix.SOL_IP, unix.IP_FREEBIND, harness.Int32(1))
				u.SetSockOpt(unix.SOL_IP, unix.IP_TRANSPARENT, harness.Int32(1))
				u.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort+2))
				var pi [12]byte
				copy(pi[4:8], []byte{198, 18, 0, 78})
				_, err = u.SendMsg([]byte("src"), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, pi[:]), harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send with IP_SENDSRCADDR 198.18.0.78", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
		{
			Name: "freebsd/ip-onesbcast",
			Cite: "ip_ctloutput IP_ONESBCAST: an int, OPTSET(INP_ONESBCAST), read back 0/1; udp_output passes IP_SENDONES; " +
				"ip_output: a destination in_broadcast() finds on the route's interface needs IP_ALLOWBROADCAST " +
				"(SO_BROADCAST, else EACCES), is not fragmented (EMSGSIZE over the interface MTU) and with IP_SENDONES " +
				"leaves with ip_dst INADDR_BROADCAST through that interface (Linux: a sendto 255.255.255.255 with " +
				"IP_PKTINFO naming the interface)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				e.Rec("bind any", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				e.Rec("set IP_ONESBCAST", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ONESBCAST, bsdInt(1)))
				bsdGet(e, "get IP_ONESBCAST", s, fb.IPPROTO_IP, fb.IP_ONESBCAST, 4)
				to := bsdSA(bcast, e.BasePort+1)
				_, err := s.SendMsg([]byte("nob"), nil, to, 0)
				e.Wire("send without SO_BROADCAST", err)
				e.Rec("set SO_BROADCAST", s.SetSockOpt(fb.SOL_SOCKET, fb.SO_BROADCAST, bsdInt(1)))
				_, err = s.SendMsg([]byte("ones"), nil, to, 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				_, err = s.SendMsg(make([]byte, 1473), nil, to, 0)
				e.Wire("send 1473 bytes", err)
				e.Rec("clear IP_ONESBCAST", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ONESBCAST, bsdInt(0)))
				_, err = s.SendMsg([]byte("dir"), nil, to, 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind any: ok",
				"set IP_ONESBCAST: ok",
				"get IP_ONESBCAST: ok 4 [01000000]",
				"wire send without SO_BROADCAST: EACCES",
				"set SO_BROADCAST: ok",
				"wire send: ok",
				"wire peer sees: src=198.18.0.2 dst=255.255.255.255 ttl=64 tos=0x0 df=false opts=[] udplen=12 payload=[6f6e6573]",
				"wire send 1473 bytes: EMSGSIZE",
				"clear IP_ONESBCAST: ok",
				"wire send: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.255 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[646972]",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				to := harness.Sockaddr(bcast, e.BasePort+1)
				_, err := s.SendMsg([]byte("nob"), nil, to, 0)
				e.Wire("send without SO_BROADCAST", err)
				s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, harness.Int32(1))
				var pi [12]byte
				binary.NativeEndian.PutUint32(pi[0:4], 2)
				_, err = s.SendMsg([]byte("ones"), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, pi[:]),
					harness.Sockaddr(netip.AddrFrom4([4]byte{255, 255, 255, 255}), e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DO))
				_, err = s.SendMsg(make([]byte, 1473), nil, to, 0)
				e.Wire("send 1473 bytes", err)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				_, err = s.SendMsg([]byte("dir"), nil, to, 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
	}
}
