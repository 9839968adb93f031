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

// rawUDPDatagram builds an IPv4 header (ip_id 0, source 0.0.0.0: the
// kernel picks them) with a UDP header (checksum 0) and payload; ip_len
// and ip_off are written with put (host order for FreeBSD, network order
// for Linux), ip_len as given.
func rawUDPDatagram(put func([]byte, uint16), ipLen, ipOff uint16, ttl, tos byte, dst netip.Addr, sport, dport int, payload []byte) []byte {
	b := make([]byte, 28+len(payload))
	b[0], b[1] = 0x45, tos
	put(b[2:4], ipLen)
	put(b[6:8], ipOff)
	b[8], b[9] = ttl, unix.IPPROTO_UDP
	copy(b[16:20], dst.AsSlice())
	binary.BigEndian.PutUint16(b[20:], uint16(sport))
	binary.BigEndian.PutUint16(b[22:], uint16(dport))
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return b
}

func freebsdRawScenarios() []harness.BSDScenario {
	return []harness.BSDScenario{
		{
			Name: "freebsd/raw-ip-hdrincl",
			Cite: "raw_ip.c rip_attach leaves INP_HDRINCL off (IPPROTO_RAW too); rip_ctloutput IP_HDRINCL: an int, read back " +
				"as inp_flags & INP_HDRINCL (8); other sockets: ip_ctloutput's ENOPROTOOPT; rip_output (FreeBSD 8): ip_len over " +
				"the bytes written or below the header is EINVAL, ip_id 0 gets ip_newid(), ip_output (IP_RAWOUTPUT) fills " +
				"source 0.0.0.0 and sends ip_len/ip_off, given in host order, in network order (Linux: IP_HDRINCL with " +
				"both fields in network order)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				u := bsdUDP(e, h)
				e.Rec("UDP set IP_HDRINCL", u.SetSockOpt(fb.IPPROTO_IP, fb.IP_HDRINCL, bsdInt(1)))
				s, err := h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				e.Check("bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP)", err)
				bsdGet(e, "get IP_HDRINCL default", s, fb.IPPROTO_IP, fb.IP_HDRINCL, 4)
				e.Rec("set IP_HDRINCL 1 byte", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_HDRINCL, []byte{1}))
				e.Rec("set IP_HDRINCL", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_HDRINCL, bsdInt(5)))
				bsdGet(e, "get IP_HDRINCL", s, fb.IPPROTO_IP, fb.IP_HDRINCL, 4)
				host := binary.LittleEndian.PutUint16
				to := bsdSA(e.PeerAddr, 0)
				d := rawUDPDatagram(host, 31, 0x4000, 33, 0x10, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("hdr"))
				_, err = s.SendMsg(d, nil, to, 0)
				e.Wire("send ip_len 31 DF", err)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
				d = rawUDPDatagram(host, 32, 0, 33, 0, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("big"))
				_, err = s.SendMsg(d, nil, to, 0)
				e.Rec("send ip_len over the length", err)
				d = rawUDPDatagram(host, 19, 0, 33, 0, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("low"))
				_, err = s.SendMsg(d, nil, to, 0)
				e.Rec("send ip_len below the header", err)
				d = rawUDPDatagram(host, 30, 0, 9, 0, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("abX"))
				binary.BigEndian.PutUint16(d[24:], 10) // the UDP length of "ab"
				n, err := s.SendMsg(d, nil, to, 0)
				e.Rec("send ip_len 30 of 31 bytes", err, n)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_DGRAM,0): ok",
				"UDP set IP_HDRINCL: ENOPROTOOPT",
				"bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP): ok",
				"get IP_HDRINCL default: ok 4 [00000000]",
				"set IP_HDRINCL 1 byte: EINVAL",
				"set IP_HDRINCL: ok",
				"get IP_HDRINCL: ok 4 [08000000]",
				"wire send ip_len 31 DF: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=33 tos=0x10 df=true opts=[] udplen=11 payload=[686472] sport=base+0",
				"send ip_len over the length: EINVAL",
				"send ip_len below the header: EINVAL",
				"send ip_len 30 of 31 bytes: ok 31",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.1 ttl=9 tos=0x0 df=false opts=[] udplen=10 payload=[6162] sport=base+0",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				s.SetSockOpt(unix.SOL_IP, unix.IP_HDRINCL, harness.Int32(1))
				net := binary.BigEndian.PutUint16
				to := harness.Sockaddr(e.PeerAddr, 0)
				d := rawUDPDatagram(net, 31, 0x4000, 33, 0x10, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("hdr"))
				_, err := s.SendMsg(d, nil, to, 0)
				e.Wire("send ip_len 31 DF", err)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
				d = rawUDPDatagram(net, 30, 0, 9, 0, e.PeerAddr, e.BasePort, e.BasePort+1, []byte("ab"))
				binary.BigEndian.PutUint16(d[24:], 10)
				s.SendMsg(d, nil, to, 0)
				tap.expectPorts(e, "peer sees", e.BasePort+1, true)
			},
		},
		{
			Name: "freebsd/raw-recv-control-and-minttl",
			Cite: "raw_ip.c rip_input (FreeBSD 8): a datagram under inp_ip_minttl is not appended; with INP_CONTROLOPTS " +
				"ip_savecontrol adds IP_RECVDSTADDR and IP_RECVTTL as for UDP (no Linux equivalent for the drop: Linux's " +
				"IP_MINTTL is TCP's)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				s, err := h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				e.Check("bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP)", err)
				e.Rec("set IP_RECVDSTADDR", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVDSTADDR, bsdInt(1)))
				e.Rec("set IP_RECVTTL", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_RECVTTL, bsdInt(1)))
				e.Rec("set IP_MINTTL 64", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_MINTTL, bsdInt(64)))
				peerSend(e, e.BasePort+2, e.DUTAddr, e.BasePort, 63, 0, []byte("63"))
				peerSend(e, e.BasePort+3, e.DUTAddr, e.BasePort, 64, 0, []byte("64"))
				time.Sleep(200 * time.Millisecond)
				for i := 0; i < 2; i++ {
					s.Poll(unix.EPOLLIN, 300*time.Millisecond)
					p, oob := make([]byte, 128), make([]byte, 128)
					n, oobn, fl, from, err := s.RecvMsg(p, oob, fb.MSG_DONTWAIT)
					if err != nil {
						e.Rec("recvmsg", err)
						continue
					}
					e.Rec("recvmsg", n, fmt.Sprintf("flags=%#x ttl=%d payload=%q", fl, p[8], p[28:n]), bsdSAString(e, from), bsdCmsgs(h, oob[:oobn]))
				}
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP): ok",
				"set IP_RECVDSTADDR: ok",
				"set IP_RECVTTL: ok",
				"set IP_MINTTL 64: ok",
				"recvmsg: 30 flags=0x0 ttl=64 payload=\"64\" bsd-inet:16:198.18.0.1:0 {len=20 0/7/c6120002 len=17 0/65/40}",
				"recvmsg: EAGAIN",
			},
		},
		{
			Name: "freebsd/raw-broadcast-onesbcast",
			Cite: "raw_ip.c rip_output (FreeBSD 8): flags always carry IP_ALLOWBROADCAST (a raw socket sends to a broadcast " +
				"address without SO_BROADCAST, which reads back 0), INP_ONESBCAST adds IP_SENDONES; ip_output: a broadcast " +
				"over the interface MTU is EMSGSIZE, with IP_SENDONES ip_dst becomes INADDR_BROADCAST (Linux: a raw socket " +
				"with SO_BROADCAST, the second datagram sent to 255.255.255.255 with IP_PKTINFO naming the interface)",
			BSD: func(e *harness.Env, h harness.BSDHost) {
				tap := tapUDP(e, e.Peer)
				s, err := h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				e.Check("bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP)", err)
				bsdGet(e, "get SO_BROADCAST", s, fb.SOL_SOCKET, fb.SO_BROADCAST, 4)
				udp := func(payload []byte) []byte {
					b := make([]byte, 8+len(payload))
					binary.BigEndian.PutUint16(b[0:], uint16(e.BasePort))
					binary.BigEndian.PutUint16(b[2:], uint16(e.BasePort+1))
					binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
					copy(b[8:], payload)
					return b
				}
				to := bsdSA(netip.MustParseAddr("198.18.0.255"), 0)
				_, err = s.SendMsg(udp([]byte("dir")), nil, to, 0)
				e.Wire("send to 198.18.0.255", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				e.Rec("set IP_ONESBCAST", s.SetSockOpt(fb.IPPROTO_IP, fb.IP_ONESBCAST, bsdInt(1)))
				_, err = s.SendMsg(udp([]byte("ones")), nil, to, 0)
				e.Wire("send to 198.18.0.255 with IP_ONESBCAST", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				_, err = s.SendMsg(udp(make([]byte, 1473)), nil, to, 0)
				e.Wire("send 1501 bytes", err)
			},
			Want: []string{
				"bsd socket(AF_INET,SOCK_RAW,IPPROTO_UDP): ok",
				"get SO_BROADCAST: ok 4 [00000000]",
				"wire send to 198.18.0.255: ok",
				"wire peer sees: src=198.18.0.2 dst=198.18.0.255 ttl=64 tos=0x0 df=false opts=[] udplen=11 payload=[646972]",
				"set IP_ONESBCAST: ok",
				"wire send to 198.18.0.255 with IP_ONESBCAST: ok",
				"wire peer sees: src=198.18.0.2 dst=255.255.255.255 ttl=64 tos=0x0 df=false opts=[] udplen=12 payload=[6f6e6573]",
				"wire send 1501 bytes: EMSGSIZE",
			},
			Linux: func(e *harness.Env) {
				tap := tapUDP(e, e.Peer)
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
				s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BROADCAST, harness.Int32(1))
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT))
				udp := func(payload []byte) []byte {
					b := make([]byte, 8+len(payload))
					binary.BigEndian.PutUint16(b[0:], uint16(e.BasePort))
					binary.BigEndian.PutUint16(b[2:], uint16(e.BasePort+1))
					binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
					copy(b[8:], payload)
					return b
				}
				_, err := s.SendMsg(udp([]byte("dir")), nil, harness.Sockaddr(netip.MustParseAddr("198.18.0.255"), 0), 0)
				e.Wire("send to 198.18.0.255", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				var pi [12]byte
				binary.NativeEndian.PutUint32(pi[0:4], 2)
				_, err = s.SendMsg(udp([]byte("ones")), options.AppendCmsg(nil, unix.SOL_IP, unix.IP_PKTINFO, pi[:]),
					harness.Sockaddr(netip.AddrFrom4([4]byte{255, 255, 255, 255}), 0), 0)
				e.Wire("send to 198.18.0.255 with IP_ONESBCAST", err)
				tap.expect(e, "peer sees", e.BasePort+1)
				s.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DO))
				_, err = s.SendMsg(udp(make([]byte, 1473)), nil, harness.Sockaddr(netip.MustParseAddr("198.18.0.255"), 0), 0)
				e.Wire("send 1501 bytes", err)
			},
		},
	}
}
