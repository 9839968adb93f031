package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	fb "netsandbox/freebsd"
	"netsandbox/options"
	"netsandbox/test/harness"
)

// peerSend has the kernel peer send payload to dst:port with ttl and tos.
func peerSend(e *harness.Env, from int, dst netip.Addr, port int, ttl, tos int32, payload []byte) {
	p := bsdPeerUDP(e, from)
	if p == nil {
		return
	}
	p.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, harness.Int32(1))
	p.SetSockOpt(unix.SOL_IP, unix.IP_TTL, harness.Int32(ttl))
	p.SetSockOpt(unix.SOL_IP, unix.IP_TOS, harness.Int32(tos))
	if _, err := p.SendMsg(payload, nil, harness.Sockaddr(dst, port), 0); err != nil {
		e.Rec("peer send", err)
	}
}

// linuxDelivered records, as a wire line, what a Linux socket was told of a
// datagram by IP_PKTINFO (the header destination if dst, the ifindex if
// ifx), IP_TTL and IP_TOS.
func linuxDelivered(e *harness.Env, s harness.Sock, dst, ifx bool) {
	s.Poll(unix.EPOLLIN, 2*time.Second)
	p, oob := make([]byte, 64), make([]byte, 256)
	n, oobn, _, from, err := s.RecvMsg(p, oob, unix.MSG_DONTWAIT)
	if err != nil {
		e.Wire("delivered", err)
		return
	}
	line := fmt.Sprintf("from=%s payload=[%x]", e.SA(from), p[:n])
	cp := options.NewCmsgParser(oob[:oobn])
	for m, ok := cp.Next(); ok; m, ok = cp.Next() {
		switch {
		case m.Level == unix.SOL_IP && m.Type == unix.IP_PKTINFO && len(m.Data) >= 12:
			if dst {
				line += fmt.Sprintf(" dst=%s", netip.AddrFrom4([4]byte(m.Data[8:12])))
			}
			if ifx {
				line += fmt.Sprintf(" ifindex=%d", binary.NativeEndian.Uint32(m.Data))
			}
		case m.Level == unix.SOL_IP && m.Type == unix.IP_TTL && len(m.Data) >= 4:
			line += fmt.Sprintf(" ttl=%d", m.Data[0])
		case m.Level == unix.SOL_IP && m.Type == unix.IP_TOS && len(m.Data) >= 1:
			line += fmt.Sprintf(" tos=%#x", m.Data[0])
		}
	}
	e.Wire("delivered", line)
}

// bsdDelivered receives on a FreeBSD-personality socket, records the control
// messages as FreeBSD wrote them, and records the same wire line
// linuxDelivered would from their contents.
func bsdDelivered(e *harness.Env, h harness.BSDHost, s harness.Sock, oobLen int) {
	s.Poll(unix.EPOLLIN, 2*time.Second)
	p, oob := make([]byte, 64), make([]byte, oobLen)
	n, oobn, fl, from, err := s.RecvMsg(p, oob, fb.MSG_DONTWAIT)
	if err != nil {
		e.Wire("delivered", err)
		return
	}
	e.Rec("recvmsg", n, fmt.Sprintf("flags=%#x oobn=%d", fl, oobn), bsdSAString(e, from), bsdCmsgs(h, oob[:oobn]))
	msgs, _ := fb.ParseCmsgs(oob[:oobn])
	var a netip.AddrPort
	if len(from) == fb.SizeofSockaddrIn {
		a, _ = fb.ParseSockaddrIn(from)
	}
	line := fmt.Sprintf("from=%s payload=[%x]", e.SA(harness.Sockaddr(a.Addr(), int(a.Port()))), p[:n])
	var dst, ifx string
	for _, m := range msgs {
		switch {
		case m.Type == fb.IP_RECVDSTADDR && len(m.Data) == 4:
			dst = netip.AddrFrom4([4]byte(m.Data)).String()
		case m.Type == fb.IP_RECVIF && len(m.Data) >= 4:
			ifx = fmt.Sprint(binary.LittleEndian.Uint16(m.Data[2:4]))
		}
	}
	if dst != "" {
		line += " dst=" + dst
	}
	if ifx != "" {
		line += " ifindex=" + ifx
	}
	for _, m := range msgs {
		switch {
		case m.Type == fb.IP_RECVTTL && len(m.Data) == 1:
			line += fmt.Sprintf(" ttl=%d", m.Data[0])
		case m.Type == fb.IP_RECVTOS && len(m.Data) == 1:
			line += fmt.Sprintf(" tos=%#x", m.Data[0])
		}
	}
	e.Wire("delivered", line)
}

func freebsdRecvScenarios() []harness.BSDScenario {
	bcast := netip.MustParseAddr("198.18.0.255")
	return []harness.BSDScenario{
		{
			Name: "freebsd/ip-recvdstaddr-ip-recvttl",
			Cite: "ip_ctloutput IP_RECVDSTADDR/IP_RECVTTL: OPTSET, read back 0/1; ip_input.c ip_savecontrol: IP_RECVDSTADDR " +
				"is sbcreatecontrol(&ip->ip_dst, sizeof(struct in_addr)) (the header's destination: the broadcast address " +
				"for a broadcast), then IP_RECVTTL one u_char; each message CMSG_SPACE long (16-byte header on amd64) " +
				"(Linux: IP_PKTINFO's ipi_addr and IP_RECVTTL)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("set IP_RECVDSTADDR", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVDSTADDR, bsdInt(1)))
				e.Rec("set IP_RECVTTL", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVTTL, bsdInt(9)))
				bsdGet(e, "get IP_RECVTTL", s, fb.IPPROTO_IP, fb.IP_RECVTTL, 4)
				e.Rec("bind", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				peerSend(e, e.BasePort+2, e.DUTAddr, e.BasePort, 17, 0, []byte("u"))
				bsdDelivered(e, h, s, 256)
				peerSend(e, e.BasePort+3, bcast, e.BasePort, 1, 0, []byte("b"))
				bsdDelivered(e, h, s, 256)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_RECVDSTADDR: ok",
				"set IP_RECVTTL: ok",
				"get IP_RECVTTL: ok 4 [01000000]",
				"bind: ok",
				"recvmsg: 1 flags=0x0 oobn=48 bsd-inet:16:198.18.0.1:base+2 {len=20 0/7/c6120002 len=17 0/65/11}",
				"wire delivered: from=inet:198.18.0.1:eph1 payload=[75] dst=198.18.0.2 ttl=17",
				"recvmsg: 1 flags=0x0 oobn=48 bsd-inet:16:198.18.0.1:base+3 {len=20 0/7/c61200ff len=17 0/65/01}",
				"wire delivered: from=inet:198.18.0.1:eph2 payload=[62] dst=198.18.0.255 ttl=1",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_PKTINFO, harness.Int32(1))
				s.SetSockOpt(unix.SOL_IP, unix.IP_RECVTTL, harness.Int32(1))
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				peerSend(e, e.BasePort+2, e.DUTAddr, e.BasePort, 17, 0, []byte("u"))
				linuxDelivered(e, s, true, false)
				peerSend(e, e.BasePort+3, bcast, e.BasePort, 1, 0, []byte("b"))
				linuxDelivered(e, s, true, false)
			},
		},
		{
			Name: "freebsd/ip-recvif-ip-recvtos",
			Cite: "ip_savecontrol: IP_RECVIF is the receiving interface's link address, struct sockaddr_dl of sdl_len bytes " +
				"(net/if.c if_attach_internal: 8 + IFNAMSIZ + if_addrlen, at least sizeof(struct sockaddr_dl) = 54, " +
				"rounded to 8: 56; sdl_index, sdl_type IFT_ETHER, name then MAC from ether_ifattach), after IP_RECVTTL and " +
				"before IP_RECVTOS (one u_char, ip_tos) (Linux: IP_PKTINFO's ipi_ifindex and IP_RECVTOS)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				e.Rec("set IP_RECVIF", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVIF, bsdInt(1)))
				e.Rec("set IP_RECVTOS", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVTOS, bsdInt(1)))
				e.Rec("set IP_RECVTTL", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVTTL, bsdInt(1)))
				bsdGet(e, "get IP_RECVIF", s, fb.IPPROTO_IP, fb.IP_RECVIF, 4)
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				peerSend(e, e.BasePort+2, e.DUTAddr, e.BasePort, 64, 0xb8, []byte("if"))
				bsdDelivered(e, h, s, 256)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"set IP_RECVIF: ok",
				"set IP_RECVTOS: ok",
				"set IP_RECVTTL: ok",
				"get IP_RECVIF: ok 4 [01000000]",
				"bind: ok",
				"recvmsg: 2 flags=0x0 oobn=120 bsd-inet:16:198.18.0.1:base+2 {len=17 0/65/40 len=72 0/20/sdl(len=56 family=18 index=2 type=0x6 nlen=4 alen=6 slen=0 name=\"eth0\" addr=mac(eth0) restzero=true) len=17 0/68/b8}",
				"wire delivered: from=inet:198.18.0.1:eph1 payload=[6966] ifindex=2 ttl=64 tos=0xb8",
			},
			Linux: func(e *harness.Env) {
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_PKTINFO, harness.Int32(1))
				s.SetSockOpt(unix.SOL_IP, unix.IP_RECVTOS, harness.Int32(1))
				s.SetSockOpt(unix.SOL_IP, unix.IP_RECVTTL, harness.Int32(1))
				s.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort))
				peerSend(e, e.BasePort+2, e.DUTAddr, e.BasePort, 64, 0xb8, []byte("if"))
				linuxDelivered(e, s, false, true)
			},
		},
		{
			Name: "freebsd/recv-control-truncated",
			Cite: "kern/uipc_syscalls.c kern_recvit: each control mbuf (CMSG_SPACE bytes) is copied while room is left; " +
				"a shorter remainder gets its first bytes and MSG_CTRUNC (0x20), msg_controllen the bytes copied; " +
				"soreceive_dgram drops the control of a datagram read with no control buffer",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s := bsdUDP(e, h)
				s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVDSTADDR, bsdInt(1))
				s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVTTL, bsdInt(1))
				e.Rec("bind", s.Bind(bsdSA(e.DUTAddr, e.BasePort)))
				for i, n := range []int{0, 20, 24, 30} {
					peerSend(e, e.BasePort+2+i, e.DUTAddr, e.BasePort, 64, 0, []byte{byte(n)})
					s.Poll(unix.EPOLLIN, 2*time.Second)
					p, oob := make([]byte, 8), make([]byte, n)
					got, oobn, fl, _, err := s.RecvMsg(p, oob, fb.MSG_DONTWAIT)
					e.Rec(fmt.Sprintf("recvmsg controllen %d", n), err, got, fmt.Sprintf("flags=%#x", fl), oob[:oobn])
				}
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind: ok",
				"recvmsg controllen 0: ok 1 flags=0x0 []",
				"recvmsg controllen 20: ok 1 flags=0x20 [14000000000000000700000000000000c6120002]",
				"recvmsg controllen 24: ok 1 flags=0x0 [14000000000000000700000000000000c612000200000000]",
				"recvmsg controllen 30: ok 1 flags=0x20 [14000000000000000700000000000000c612000200000000110000000000]",
			},
		},
		{
			Name: "freebsd/ip-sendsrcaddr",
			Cite: "udp_output: control messages of other levels are skipped, IP_SENDSRCADDR must be CMSG_LEN(sizeof(struct " +
				"in_addr)) and IP_TOS CMSG_LEN(1) (EINVAL), any other IPPROTO_IP type is ENOPROTOOPT; with a source: no local " +
				"port is EINVAL, in_pcbbind_setup: a socket bound to an address is EINVAL, an address no interface has is " +
				"EADDRNOTAVAIL; IP_SENDSRCADDR = IP_RECVDSTADDR, so a received message can be sent back as is " +
				"(Linux: IP_PKTINFO with ipi_spec_dst)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				src := fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_SENDSRCADDR, e.DUTAddr.AsSlice())
				to := bsdSA(e.PeerAddr, e.BasePort+1)
				s := bsdUDP(e, h)
				_, err := s.SendMsg([]byte("a"), src, to, 0)
				e.Rec("send unbound", err)
				e.Rec("bind any", s.Bind(bsdSA(netip.IPv4Unspecified(), e.BasePort)))
				_, err = s.SendMsg([]byte("a"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_SENDSRCADDR, []byte{198, 18, 0, 9}), to, 0)
				e.Rec("send from 198.18.0.9", err)
				_, err = s.SendMsg([]byte("a"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_SENDSRCADDR, []byte{0, 0, 0, 0}), to, 0)
				e.Rec("send from 0.0.0.0", err)
				_, err = s.SendMsg([]byte("a"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_SENDSRCADDR, []byte{198, 18, 0, 2, 0}), to, 0)
				e.Rec("send 5-byte address", err)
				_, err = s.SendMsg([]byte("a"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_TTL, []byte{1}), to, 0)
				e.Rec("send IP_TTL message", err)
				_, err = s.SendMsg([]byte("a"), []byte{1, 2, 3}, to, 0)
				e.Rec("send 3-byte control", err)
				other := fb.AppendCmsg(nil, 0x29, 1, []byte{1, 2, 3, 4}) // another level: skipped
				_, err = s.SendMsg([]byte("src"), append(other, src...), to, 0)
				e.Wire("send with IP_SENDSRCADDR", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				_, err = s.SendMsg([]byte("tos"), fb.AppendCmsg(nil, fb.IPPROTO_IP, fb.IP_TOS, []byte{0x48}), to, 0)
				e.Wire("send with IP_TOS", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				b := bsdUDP(e, h)
				e.Rec("bind address", b.Bind(bsdSA(e.DUTAddr, e.BasePort+2)))
				_, err = b.SendMsg([]byte("a"), src, to, 0)
				e.Rec("send on a socket bound to an address", err)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"send unbound: EINVAL",
				"bind any: ok",
				"send from 198.18.0.9: EADDRNOTAVAIL",
				"send from 0.0.0.0: EINVAL",
				"send 5-byte address: EINVAL",
				"send IP_TTL message: ENOPROTOOPT",
				"send 3-byte control: EINVAL",
				"wire send with IP_SENDSRCADDR: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[737263]",
				"wire send with IP_TOS: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=64 tos=0x48 df=false opts=[] udplen=11 payload=[746f73]",
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"bind address: ok",
				"send on a socket bound to an address: EINVAL",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				to := harness.Sockaddr(e.PeerAddr, e.BasePort+1)
				s := linuxUDP(e)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				s.Bind(harness.Sockaddr(netip.IPv4Unspecified(), e.BasePort))
				var pi [12]byte
				copy(pi[4:8], e.DUTAddr.AsSlice())
				_, err := s.SendMsg([]byte("src"), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, pi[:]), to, 0)
				e.Wire("send with IP_SENDSRCADDR", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				_, err = s.SendMsg([]byte("tos"), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_TOS, harness.Int32(0x48)), to, 0)
				e.Wire("send with IP_TOS", err)
				tap.expect(e, "peer sees", e.BasePort+1)
			},
		},
	}
}
