package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	fb "netsandbox/freebsd"
	"netsandbox/test/harness"
)

// FreeBSD is the FreeBSD ip(4) group: every scenario runs on a netsandbox
// DUT with FreeBSD-personality sockets and is checked against the record
// FreeBSD's source gives (Cite names the code: freebsd/freebsd-src,
// sys/netinet/ip_output.c ip_ctloutput, ip_input.c ip_savecontrol,
// udp_usrreq.c udp_output, in_pcb.c in_pcbbind_setup, kern/uipc_socket.c
// sooptcopyin/sooptcopyout, kern/uipc_syscalls.c kern_recvit/getsockaddr).
// Where Linux has an equivalent, the scenario's Linux function runs it on a
// kernel DUT and both runs must show the same wire lines. This list is its
// own registry, separate from All(): `netsandbox conformance` reports it as
// its own group.
func FreeBSD() []harness.BSDScenario {
	var all []harness.BSDScenario
	for _, g := range [][]harness.BSDScenario{freebsdPlainScenarios(), freebsdRecvScenarios(), freebsdBindScenarios(), freebsdRawScenarios(), freebsdMcastScenarios()} {
		all = append(all, g...)
	}
	return all
}

func bsdUDP(e *harness.Env, h harness.BSDHost) harness.Sock {
	s, err := h.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	e.Check("bsd socket(AF_INET,SOCK_DGRAM,0)", err)
	return s
}

func linuxUDP(e *harness.Env) harness.Sock {
	return e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
}

func freebsdPlainScenarios() []harness.BSDScenario {
	return []harness.BSDScenario{
		{
			Name: "freebsd/ip-ttl-ip-tos-values",
			Cite: "ip_output.c ip_ctloutput SOPT_SET IP_TOS/IP_TTL: sooptcopyin(sopt, &optval, sizeof optval, sizeof optval) " +
				"(uipc_socket.c: valsize < minsize is EINVAL, extra bytes not read), inp_ip_ttl = optval and inp_ip_tos = optval " +
				"(u_char fields: the low byte, no range check); SOPT_GET: sooptcopyout(sopt, &optval, sizeof optval) copies " +
				"min(4, optlen) bytes; udp_attach: inp_ip_ttl = V_ip_defttl (64)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				bsdGet(e, "get IP_TTL default", s, fb.IPPROTO_IP, fb.IP_TTL, 4)
				bsdGet(e, "get IP_TOS default", s, fb.IPPROTO_IP, fb.IP_TOS, 4)
				e.Rec("set IP_TTL 1 byte", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, []byte{7}))
				e.Rec("set IP_TOS 3 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TOS, []byte{7, 0, 0}))
				e.Rec("set IP_TTL 6 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, []byte{33, 0, 0, 0, 9, 9}))
				bsdGet(e, "get IP_TTL", s, fb.IPPROTO_IP, fb.IP_TTL, 4)
				e.Rec("set IP_TTL 0x1ff", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, bsdInt(0x1ff)))
				bsdGet(e, "get IP_TTL", s, fb.IPPROTO_IP, fb.IP_TTL, 4)
				e.Rec("set IP_TTL -1", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, bsdInt(-1)))
				bsdGet(e, "get IP_TTL 1-byte buffer", s, fb.IPPROTO_IP, fb.IP_TTL, 1)
				bsdGet(e, "get IP_TTL 8-byte buffer", s, fb.IPPROTO_IP, fb.IP_TTL, 8)
				e.Rec("set IP_TOS 0x1b8", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TOS, bsdInt(0x1b8)))
				bsdGet(e, "get IP_TOS", s, fb.IPPROTO_IP, fb.IP_TOS, 4)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"get IP_TTL default: ok 4 [40000000]",
				"get IP_TOS default: ok 4 [00000000]",
				"set IP_TTL 1 byte: EINVAL",
				"set IP_TOS 3 bytes: EINVAL",
				"set IP_TTL 6 bytes: ok",
				"get IP_TTL: ok 4 [21000000]",
				"set IP_TTL 0x1ff: ok",
				"get IP_TTL: ok 4 [ff000000]",
				"set IP_TTL -1: ok",
				"get IP_TTL 1-byte buffer: ok 1 [ff]",
				"get IP_TTL 8-byte buffer: ok 4 [ff000000]",
				"set IP_TOS 0x1b8: ok",
				"get IP_TOS: ok 4 [b8000000]",
			},
		},
		{
			Name: "freebsd/ip-ttl-ip-tos-wire",
			Cite: "udp_output: ip_ttl = inp_ip_ttl, ip_tos = tos (inp_ip_tos), DF only with INP_DONTFRAG",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				e.Rec("set IP_TTL 33", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, bsdInt(33)))
				e.Rec("set IP_TOS 0x28", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TOS, bsdInt(0x28)))
				_, err := s.SendMsg([]byte("ttl"), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"set IP_TTL 33: ok",
				"set IP_TOS 0x28: ok",
				"wire send: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=33 tos=0x28 df=false opts=[] udplen=11 payload=[74746c]",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := linuxUDP(e)
				s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort))
				s.SetSockOpt(unix.SOL_IP, unix.IP_TTL, harness.Int32(33))
				s.SetSockOpt(unix.SOL_IP, unix.IP_TOS, harness.Int32(0x28))
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				_, err := s.SendMsg([]byte("ttl"), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
		{
			Name: "freebsd/ip-ttl-zero-wire",
			Cite: "ip_ctloutput IP_TTL: inp_ip_ttl = optval with no range check, so 0 is kept; udp_output copies it into ip_ttl " +
				"(Linux has no equivalent: its IP_TTL refuses 0)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				e.Rec("set IP_TTL 0", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_TTL, bsdInt(0)))
				bsdGet(e, "get IP_TTL", s, fb.IPPROTO_IP, fb.IP_TTL, 4)
				_, err := s.SendMsg([]byte("zero"), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"set IP_TTL 0: ok",
				"get IP_TTL: ok 4 [00000000]",
				"wire send: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=0 tos=0x0 df=false opts=[] udplen=12 payload=[7a65726f]",
			},
		},
		{
			Name: "freebsd/ip-minttl",
			Cite: "ip_ctloutput IP_MINTTL: optval >= 0 && optval <= MAXTTL else EINVAL; udp_input drops a datagram whose " +
				"ip_ttl is below inp_ip_minttl (no Linux equivalent: Linux's IP_MINTTL is checked by TCP only, and a kernel " +
				"UDP socket with it gets both datagrams)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("set IP_MINTTL 256", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MINTTL, bsdInt(256)))
				e.Rec("set IP_MINTTL -1", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MINTTL, bsdInt(-1)))
				e.Rec("set IP_MINTTL 64", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MINTTL, bsdInt(64)))
				bsdGet(e, "get IP_MINTTL", s, fb.IPPROTO_IP, fb.IP_MINTTL, 4)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				minTTLTraffic(e, s, func(p []byte) (int, []byte, error) {
					n, _, _, from, err := s.RecvMsg(p, nil, fb.MSG_DONTWAIT)
					return n, from, err
				})
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_MINTTL 256: EINVAL",
				"set IP_MINTTL -1: EINVAL",
				"set IP_MINTTL 64: ok",
				"get IP_MINTTL: ok 4 [40000000]",
				"bind: ok",
				"wire delivered: [40]",
				"wire delivered: EAGAIN",
			},
		},
		{
			Name: "freebsd/ip-options",
			Cite: "ip_ctloutput IP_OPTIONS: valsize > MLEN is EMSGSIZE; ip_pcbopts: length not a multiple of 4 is EINVAL, " +
				"the stored mbuf (returned by getsockopt) is the first-hop address (0.0.0.0 without a source route) " +
				"followed by the options, a source route's first hop moved out in front; an empty value clears them " +
				"(getsockopt sopt_valsize = 0); ip_output inserts the options (Linux: IP_OPTIONS with the same bytes)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				e.Rec("set 3 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_OPTIONS, []byte{1, 1, 1}))
				e.Rec("set 225 bytes", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_OPTIONS, make([]byte, 225)))
				e.Rec("set LSRR", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_OPTIONS, []byte{1, 0x83, 11, 4, 198, 18, 0, 1, 198, 19, 0, 2}))
				bsdGet(e, "get", s, fb.IPPROTO_IP, fb.IP_OPTIONS, 64)
				e.Rec("set NOP NOP NOP EOL", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_OPTIONS, []byte{1, 1, 1, 0}))
				bsdGet(e, "get", s, fb.IPPROTO_IP, fb.IP_OPTIONS, 64)
				bsdGet(e, "get 2-byte buffer", s, fb.IPPROTO_IP, fb.IP_OPTIONS, 2)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				_, err := s.SendMsg([]byte("opt"), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				e.Rec("clear", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_OPTIONS, nil))
				bsdGet(e, "get", s, fb.IPPROTO_IP, fb.IP_OPTIONS, 64)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set 3 bytes: EINVAL",
				"set 225 bytes: EMSGSIZE",
				"set LSRR: ok",
				"get: ok 12 [c612000101830704c6130002]",
				"set NOP NOP NOP EOL: ok",
				"get: ok 8 [0000000001010100]",
				"get 2-byte buffer: ok 2 [0000]",
				"bind: ok",
				"wire send: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[01010100] udplen=11 payload=[6f7074]",
				"clear: ok",
				"get: ok 0 []",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, []byte{1, 1, 1, 0})
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort))
				_, err := s.SendMsg([]byte("opt"), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
				e.Wire("send", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
		{
			Name: "freebsd/ip-dontfrag",
			Cite: "ip_ctloutput IP_DONTFRAG: OPTSET(INP_DONTFRAG), read back 0/1; udp_output: INP_DONTFRAG sets IP_DF; " +
				"ip_output: a datagram over the route's MTU with IP_DF is EMSGSIZE, without it is fragmented " +
				"(Linux: IP_MTU_DISCOVER IP_PMTUDISC_DO and IP_PMTUDISC_DONT)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s := bsdUDP(e, h)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				bsdGet(e, "get IP_DONTFRAG default", s, fb.IPPROTO_IP, fb.IP_DONTFRAG, 4)
				e.Rec("set IP_DONTFRAG 7", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_DONTFRAG, bsdInt(7)))
				bsdGet(e, "get IP_DONTFRAG", s, fb.IPPROTO_IP, fb.IP_DONTFRAG, 4)
				dontFragTraffic(e, tap, func(n int) error {
					_, err := s.SendMsg(make([]byte, n), nil, bsdSA(e.PeerAddr, e.BasePort+1), 0)
					return err
				}, func(on bool) {
					v := int32(0)
					if on {
						v = 1
					}
					s.SetSockOpt(fb.IPPROTO_IP, fb.IP_DONTFRAG, bsdInt(v))
				})
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"get IP_DONTFRAG default: ok 4 [00000000]",
				"set IP_DONTFRAG 7: ok",
				"get IP_DONTFRAG: ok 4 [01000000]",
				"wire send 1472: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x0 df=true opts=[] udplen=1480 payload=[00000000000000000000000000000000]",
				"wire send 1473: EMSGSIZE",
				"wire send 1473 without DF: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[] udplen=1481 payload=[00000000000000000000000000000000]",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := linuxUDP(e)
				s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort))
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DO))
				dontFragTraffic(e, tap, func(n int) error {
					_, err := s.SendMsg(make([]byte, n), nil, harness.Sockaddr(e.PeerAddr, e.BasePort+1), 0)
					return err
				}, func(on bool) {
					v := int32(unix.IP_PMTUDISC_DONT)
					if on {
						v = unix.IP_PMTUDISC_DO
					}
					s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(v))
				})
			},
		},
		{
			Name: "freebsd/unknown-option-and-level",
			Cite: "ip_ctloutput: an IPPROTO_IP name it does not know is ENOPROTOOPT (its default case; ip(4)'s ERRORS " +
				"section says EINVAL, the source decides), a level other than IPPROTO_IP is EINVAL (udp_ctloutput passes " +
				"levels other than IPPROTO_UDP to it; 1 is IPPROTO_ICMP on FreeBSD); sosetopt at SOL_SOCKET (0xffff): " +
				"SO_BROADCAST is an int, sooptcopyin's EINVAL for less, and sogetopt answers so_options & SO_BROADCAST (0x20)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("set IP 22", s.SetSockOpt(fb.IPPROTO_IP, 22, bsdInt(1)))
				bsdGet(e, "get IP 22", s, fb.IPPROTO_IP, 22, 4)
				e.Rec("set IP 200", s.SetSockOpt(fb.IPPROTO_IP, 200, bsdInt(1)))
				e.Rec("set level 1", s.SetSockOpt(1, fb.IP_TTL, bsdInt(1)))
				bsdGet(e, "get level 1", s, 1, fb.IP_TTL, 4)
				e.Rec("set SO_BROADCAST 2 bytes", s.SetSockOpt(fb.SOL_SOCKET, fb.SO_BROADCAST, []byte{1, 0}))
				e.Rec("set SO_BROADCAST", s.SetSockOpt(fb.SOL_SOCKET, fb.SO_BROADCAST, bsdInt(5)))
				bsdGet(e, "get SO_BROADCAST", s, fb.SOL_SOCKET, fb.SO_BROADCAST, 4)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP 22: ENOPROTOOPT",
				"get IP 22: ENOPROTOOPT",
				"set IP 200: ENOPROTOOPT",
				"set level 1: EINVAL",
				"get level 1: EINVAL",
				"set SO_BROADCAST 2 bytes: EINVAL",
				"set SO_BROADCAST: ok",
				"get SO_BROADCAST: ok 4 [20000000]",
			},
		},
		{
			Name: "freebsd/sockaddr-in",
			Cite: "kern/uipc_syscalls.c getsockaddr: sa_len = namelen (the caller's sin_len byte is not read); udp_bind -> " +
				"in_pcbbind_setup: sa_len != sizeof(*sin) is EINVAL, the family check is under #ifdef notdef (not made); " +
				"in_getsockaddr hands back sin_len 16, AF_INET",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				sa := bsdSA(e.DUTAddr, e.BasePort)
				e.Rec("bind 15 bytes", s.Bind(sa[:15]))
				e.Rec("bind 17 bytes", s.Bind(append(append([]byte(nil), sa...), 0)))
				sa[0], sa[1] = 0, 28 // sin_len 0, AF_INET6: neither is read
				e.Rec("bind sin_len 0 family 28", s.Bind(sa))
				got, err := s.GetSockName()
				e.Rec("getsockname", err, bsdSAString(e, got))
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind 15 bytes: EINVAL",
				"bind 17 bytes: EINVAL",
				"bind sin_len 0 family 28: ok",
				"getsockname: ok bsd-inet:16:198.18.0.2:base+0",
			},
		},
	}
}

// minTTLTraffic has the peer send one datagram with TTL 63 and one with 64
// to the DUT's BasePort and records, as wire lines, what the socket is
// handed.
func minTTLTraffic(e *harness.Env, s harness.Sock, recv func([]byte) (int, []byte, error)) {
	p := bsdPeerUDP(e, e.BasePort+2)
	if p == nil {
		return
	}
	for _, ttl := range []int32{63, 64} {
		p.SetSockOpt(unix.SOL_IP, unix.IP_TTL, harness.Int32(ttl))
		p.SendMsg([]byte{byte(ttl)}, nil, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 3; i++ {
		s.Poll(unix.EPOLLIN, 300*time.Millisecond)
		buf := make([]byte, 16)
		n, _, err := recv(buf)
		if err != nil {
			e.Wire("delivered", err)
			return
		}
		e.Wire("delivered", buf[:n])
	}
}

// dontFragTraffic sends 1472 payload bytes (a 1500-byte datagram), 1473
// (over the MTU) with DF asked, then 1473 without it.
func dontFragTraffic(e *harness.Env, tap *wireTap, send func(int) error, setDF func(bool)) {
	e.Wire("send 1472", send(1472))
	tap.expect(e, "peer sees", e.BasePort+1)
	e.Wire("send 1473", send(1473))
	setDF(false)
	e.Wire("send 1473 without DF", send(1473))
	tap.expect(e, "peer sees", e.BasePort+1)
}
