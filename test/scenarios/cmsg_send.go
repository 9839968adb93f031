package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// cmsgSendScenarios: sendmsg control messages and per-packet options on raw, ping and TCP sockets, and IP_RECVFRAGSIZE.
func cmsgSendScenarios() []harness.Scenario {
	s := recvFragsizeScenarios()
	s = append(s, rawPingSendCmsgScenarios()...)
	s = append(s, tcpPingIPOptionScenarios()...)
	return s
}

// fragSizes are datagram payloads around the peer's 1500-byte link MTU:
// one that fits, the largest that fits (1472 + 8 + 20), and ones that the
// peer splits into fragments of various last sizes.
var fragSizes = []int{64, 1472, 1473, 3000, 5000}

// recvRaw reads one packet from a raw socket with a read buffer of n bytes
// and records the length, flags and control messages.
func recvRaw(e *harness.Env, op string, s harness.Sock, n, flags int) {
	harness.WaitReadable(s, 2*time.Second)
	buf, oob := make([]byte, n), make([]byte, 256)
	m, oobn, fl, from, err := s.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, m, e.SA(from), fl, harness.Cmsgs(oob[:oobn]))
}

func recvFragsizeScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/recvfragsize-udp-peer", Run: func(e *harness.Env) {
			// The peer fragments at its 1500-byte MTU: only the datagrams
			// that came in pieces carry the largest piece's IP length.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range fragSizes {
				send(e, "peer send", p, make([]byte, n), to, 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
		}},
		{Name: "cmsg/recvfragsize-udp-far", Run: func(e *harness.Env) {
			// From behind the 1280-MTU link: the far host's fragments
			// pass the peer unchanged.
			f := farUDP(e, 0, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range []int{1000, 1252, 1253, 2000, 4000} {
				send(e, "far send", f, make([]byte, n), to, 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
			e.SetInt("far IP_MTU_DISCOVER DONT", f, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
			send(e, "far send DONT", f, make([]byte, 3000), to, 0)
			recvWithOOB(e, "recv", s, 64, 0)
		}},
		{Name: "cmsg/recvfragsize-order", Run: func(e *harness.Env) {
			// IP_RECVFRAGSIZE comes last of ip_cmsg_recv_offset's messages.
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			for _, o := range []struct {
				label string
				name  int
			}{{"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS},
				{"IP_RECVORIGDSTADDR", unix.IP_RECVORIGDSTADDR}, {"IP_RECVFRAGSIZE", unix.IP_RECVFRAGSIZE}} {
				e.SetInt(o.label, s, unix.IPPROTO_IP, o.name, 1)
			}
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, make([]byte, 2500), to, 0)
			recvWithOOB(e, "recv", s, 512, 0)
			// Room for everything but the last message: MSG_CTRUNC.
			send(e, "peer send", p, make([]byte, 2500), to, 0)
			recvWithOOB(e, "recv short oob", s, 120, 0)
		}},
		{Name: "cmsg/recvfragsize-all", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			enableAllRecvCmsgs(e, s)
			send(e, "peer send", p, make([]byte, 4000), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			recvWithOOB(e, "recv", s, 512, 0)
		}},
		{Name: "cmsg/recvfragsize-late-and-peek", Run: func(e *harness.Env) {
			// frag_max_size is kept with the datagram: the option may be
			// set after it arrived, and a peek reports it too.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, make([]byte, 3000), to, 0)
			harness.WaitReadable(s, 2*time.Second)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			recvWithOOB(e, "peek", s, 64, unix.MSG_PEEK)
			recvWithOOB(e, "recv", s, 64, 0)
			e.SetInt("IP_RECVFRAGSIZE 0", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 0)
			send(e, "peer send", p, make([]byte, 3000), to, 0)
			recvWithOOB(e, "recv off", s, 64, 0)
		}},
		{Name: "cmsg/recvfragsize-peer-ipoptions", Run: func(e *harness.Env) {
			// Options change the header length of the first fragment
			// (record route is not copied into the others).
			p := peerUDP(e, e.BasePort)
			e.Rec("peer IP_OPTIONS rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			for _, n := range []int{100, 3000} {
				send(e, "peer send", p, make([]byte, n), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
		}},
		{Name: "cmsg/recvfragsize-raw", Run: func(e *harness.Env) {
			// A raw socket gets the reassembled datagram with the same
			// message, also when its buffer is too short for the header.
			p := peerUDP(e, e.BasePort)
			u := dutUDP(e, e.BasePort+1)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.SetInt("raw IP_RECVFRAGSIZE", r, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			e.SetInt("raw IP_RECVTTL", r, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range []int{64, 3000} {
				send(e, "peer send", p, make([]byte, n), to, 0)
				recvRaw(e, "raw recv", r, 4096, 0)
				recvWithOOB(e, "udp recv", u, 64, 0)
			}
			send(e, "peer send", p, make([]byte, 2000), to, 0)
			recvRaw(e, "raw peek", r, 8, unix.MSG_PEEK)
			recvRaw(e, "raw recv short", r, 8, 0)
		}},
	}
}

// expProto is the protocol of the raw-socket send scenarios (RFC 3692
// experimentation), which no other scenario uses.
const expProto = 253

// peerProtoTap is a kernel raw socket on the peer receiving protocol proto.
func peerProtoTap(e *harness.Env, proto int) harness.Sock {
	return e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, proto)
}

// tapRecv records the header and payload of the next packet the peer's tap
// gets from the DUT (bounded wait), or that none came.
func tapRecv(e *harness.Env, op string, tap harness.Sock) {
	deadline := time.Now().Add(300 * time.Millisecond)
	buf := make([]byte, 2048)
	for i := 0; i < 16 && time.Now().Before(deadline); i++ {
		if r, _ := tap.Poll(unix.EPOLLIN, time.Until(deadline)); r == 0 {
			break
		}
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if buf[9] == unix.IPPROTO_ICMP && (n <= ihl || buf[ihl] != 8) {
			continue // only echo requests: other ICMP is not the DUT's send
		}
		e.Rec(op, ipHeaderNoID(buf[:n]), buf[ihl:n])
		return
	}
	e.Rec(op, "nothing")
}

// ipHeaderNoID is ipHeader without whether the IP ID is 0: gVisor's raw
// and ICMP endpoints send ID 0 with DF set where Linux numbers the
// datagram, a difference of their own that these scenarios do not pin.
func ipHeaderNoID(b []byte) string {
	var kept []string
	for _, f := range strings.Fields(ipHeader(b)) {
		if !strings.HasPrefix(f, "id0=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

// sendCtl records sendmsg with control messages oob.
func sendCtl(e *harness.Env, op string, s harness.Sock, p, oob, to []byte) error {
	n, err := s.SendMsg(p, oob, to, 0)
	e.Rec(op, err, n)
	return err
}

// A ctlCase is one sendmsg's control messages and what the row is called.
type ctlCase struct {
	op  string
	oob []byte
}

// pingCtlSends sends an echo request with each case's control messages
// from a ping socket bound to ident BasePort, recording what the peer
// got and the reply.
func pingCtlSends(e *harness.Env, cases []ctlCase) {
	tap := peerProtoTap(e, unix.IPPROTO_ICMP)
	s := pingSock(e, e.BasePort)
	to := harness.Sockaddr(e.PeerAddr, 0)
	for i, tc := range cases {
		if sendCtl(e, "send "+tc.op, s, echoRequest(0, uint16(i), []byte("ping")), tc.oob, to) == nil {
			tapRecv(e, "  peer got", tap)
			pingReply(e, "  reply", s)
		}
	}
}

// ctlCases are the control messages every raw and ping send scenario
// tries, with what each should show on the wire.
func ctlCases(e *harness.Env) []ctlCase {
	return []ctlCase{
		{"no cmsg", nil},
		{"IP_TTL 9", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 9)},
		{"IP_TTL 0", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 0)},
		{"IP_TOS 0x20", cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x20)},
		{"IP_TOS 1 byte", cmsgTOSByte(0x10)},
		{"IP_TOS 256", cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 256)},
		{"TTL and TOS", append(cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 12), cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x08)...)},
		{"pktinfo spec_dst DUT", cmsgPktinfo(0, e.DUTAddr)},
		{"pktinfo ifindex eth0", cmsgPktinfo(2, anyAddr)},
		{"pktinfo ifindex lo", cmsgPktinfo(1, anyAddr)},
		{"pktinfo ifindex 99", cmsgPktinfo(99, anyAddr)},
		{"pktinfo spec_dst foreign", cmsgPktinfo(0, foreign)},
		{"pktinfo spec_dst loopback", cmsgPktinfo(0, loopback)},
		{"pktinfo spec_dst multicast", cmsgPktinfo(0, netip.MustParseAddr("239.1.2.3"))},
		{"pktinfo short", cmsgPktinfo(0, e.DUTAddr)[:unix.CmsgLen(8)]},
		{"pktinfo and TTL", append(cmsgPktinfo(2, e.DUTAddr), cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 3)...)},
	}
}

// cmsgTOSByte is an IP_TOS message carrying one byte.
func cmsgTOSByte(v byte) []byte {
	b := make([]byte, unix.CmsgSpace(1))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(1)))
	binary.NativeEndian.PutUint32(b[8:], unix.IPPROTO_IP)
	binary.NativeEndian.PutUint32(b[12:], unix.IP_TOS)
	b[unix.CmsgLen(0)] = v
	return b
}

// pingReply records the echo reply a ping socket got, or that none came.
func pingReply(e *harness.Env, op string, s harness.Sock) {
	if r, _ := s.Poll(unix.EPOLLIN, 300*time.Millisecond); r == 0 {
		e.Rec(op, "nothing")
		return
	}
	e.RecvDgram(op, s, 256, 0)
}

func rawPingSendCmsgScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/send-raw-ctl", Run: func(e *harness.Env) {
			// raw_sendmsg: ip_cmsg_send's TTL, TOS and pktinfo build the
			// header ip_append_data writes.
			tap := peerProtoTap(e, unix.IPPROTO_ICMP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			to := harness.Sockaddr(e.PeerAddr, 0)
			for i, tc := range ctlCases(e) {
				if sendCtl(e, "send "+tc.op, s, echoRequest(0x3e3e, uint16(i), []byte("raw")), tc.oob, to) == nil {
					tapRecv(e, "  peer got", tap)
				}
			}
		}},
		{Name: "cmsg/send-raw-pktinfo-bound", Run: func(e *harness.Env) {
			// A bound or connected raw socket: spec_dst still replaces
			// the source, 0.0.0.0 lets the route choose.
			tap := peerProtoTap(e, unix.IPPROTO_ICMP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.Rec("bind", s.Bind(harness.Sockaddr(e.DUTAddr, 0)))
			to := harness.Sockaddr(e.PeerAddr, 0)
			for _, tc := range []struct {
				op  string
				oob []byte
			}{
				{"spec_dst any", cmsgPktinfo(0, anyAddr)},
				{"spec_dst loopback", cmsgPktinfo(0, loopback)},
			} {
				if sendCtl(e, "send "+tc.op, s, echoRequest(0x3e3f, 1, []byte(tc.op)), tc.oob, to) == nil {
					tapRecv(e, "  peer got", tap)
				}
			}
			e.Rec("connect", s.Connect(to))
			if sendCtl(e, "send connected TTL 7", s, echoRequest(0x3e3f, 2, nil), cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 7), nil) == nil {
				tapRecv(e, "  peer got", tap)
			}
			if sendCtl(e, "send connected pktinfo", s, echoRequest(0x3e3f, 3, nil), cmsgPktinfo(2, anyAddr), nil) == nil {
				tapRecv(e, "  peer got", tap)
			}
		}},
		{Name: "cmsg/send-raw-hdrincl-ctl", Run: func(e *harness.Env) {
			// With IP_HDRINCL the caller's header is sent as it is: TTL
			// and TOS messages change nothing; pktinfo picks the route
			// and a zero source.
			tap := peerProtoTap(e, expProto)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			to := harness.Sockaddr(e.PeerAddr, 0)
			pkt := quoteProto(expProto, anyAddr, e.PeerAddr, []byte("hdrincl"))
			pkt[8] = 33
			for _, tc := range ctlCases(e) {
				if sendCtl(e, "send "+tc.op, s, pkt, tc.oob, to) == nil {
					tapRecv(e, "  peer got", tap)
				}
			}
		}},
		{Name: "cmsg/send-ping-ctl", Run: func(e *harness.Env) {
			// ping_v4_sendmsg takes the same messages; the reply comes
			// back to the socket.
			pingCtlSends(e, ctlCases(e))
		}},
		{Name: "cmsg/send-ping-unbound-ctl", Run: func(e *harness.Env) {
			// The first send binds an ephemeral ident; the reply still
			// finds the socket.
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			if sendCtl(e, "send TOS", s, echoRequest(0, 1, []byte("x")), cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x04), harness.Sockaddr(e.PeerAddr, 0)) == nil {
				harness.WaitReadable(s, 2*time.Second)
				buf := make([]byte, 64)
				n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				e.Rec("reply", err, n, n >= 8 && buf[0] == 0 && string(buf[8:n]) == "x")
			}
		}},
		{Name: "cmsg/send-ping-retopts", Run: func(e *harness.Env) {
			// IP_RETOPTS on a ping socket: the options go into this
			// request's header (the peer echoes them back).
			tap := peerProtoTap(e, unix.IPPROTO_ICMP)
			s := pingSock(e, e.BasePort)
			to := harness.Sockaddr(e.PeerAddr, 0)
			for i, opts := range [][]byte{
				{7, 7, 4, 0, 0, 0, 0, 0},                // record route, one slot
				{1, 1, 1, 1},                            // NOPs
				{7, 2},                                  // bad length
				{},                                      // empty: none
				{130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // security (CIPSO-less): needs CAP_NET_RAW
			} {
				if sendCtl(e, fmt.Sprintf("send opts %x", opts), s, echoRequest(0, uint16(i), []byte("o")), retoptsCmsg(opts), to) == nil {
					tapRecv(e, "  peer got", tap)
					pingReply(e, "  reply", s)
				}
			}
		}},
		{Name: "cmsg/send-raw-ping-unicast-if", Run: func(e *harness.Env) {
			// IP_UNICAST_IF (ifindex in network order) steers unicast
			// sends of raw and ping sockets too.
			tap := peerProtoTap(e, unix.IPPROTO_ICMP)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			p := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("ping bind", p.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			to := harness.Sockaddr(e.PeerAddr, 0)
			for _, s := range []harness.Sock{r, p} {
				for _, idx := range []uint32{2, 1, 99, 0} {
					e.Rec(fmt.Sprintf("IP_UNICAST_IF %d", idx), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(idx)))
					getOptBytes(e, "  get", s, unix.IPPROTO_IP, unix.IP_UNICAST_IF, 4)
					e.Rec("  short", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(idx)[:2]))
					if s == r {
						if sendCtl(e, "  send", s, echoRequest(0x3e40, uint16(idx), []byte("uc")), nil, to) == nil {
							tapRecv(e, "  peer got", tap)
						}
					} else if sendCtl(e, "  send", s, echoRequest(0, uint16(idx), []byte("uc")), nil, to) == nil {
						pingReply(e, "  reply", s)
					}
				}
				e.Rec("IP_UNICAST_IF lo", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(1)))
				if s == r {
					if sendCtl(e, "  send pktinfo eth0 over it", s, echoRequest(0x3e40, 9, []byte("uc2")), cmsgPktinfo(2, anyAddr), to) == nil {
						tapRecv(e, "  peer got", tap)
					}
				} else if sendCtl(e, "  send pktinfo eth0 over it", s, echoRequest(0, 77, []byte("uc2")), cmsgPktinfo(2, anyAddr), to) == nil {
					pingReply(e, "  reply", s)
				}
				e.Rec("  reset", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_UNICAST_IF, ifindexBE(0)))
			}
		}},
	}
}

// cmsgSendPktinfoScenarios pin IP_PKTINFO on sendmsg.
func cmsgSendPktinfoScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/send-pktinfo", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			for _, tc := range []struct {
				op      string
				ifindex int
				spec    netip.Addr
			}{
				{"spec_dst DUT", 0, e.DUTAddr},
				{"ifindex eth0", 2, anyAddr},
				{"ifindex lo", 1, anyAddr},
				{"ifindex 99", 99, anyAddr},
				{"spec_dst foreign", 0, foreign},
				{"spec_dst loopback", 0, loopback},
			} {
				n, err := s.SendMsg([]byte(tc.op), cmsgPktinfo(tc.ifindex, tc.spec), to, 0)
				e.Rec("send "+tc.op, err, n)
				if err == nil {
					r, _ := p.Poll(unix.EPOLLIN, 300*time.Millisecond)
					if r != 0 {
						e.RecvDgram("  peer recv", p, 64, 0)
					} else {
						e.Rec("  peer got nothing")
					}
				}
			}
		}},
	}
}

// cmsgPktinfo builds an IP_PKTINFO control message (struct in_pktinfo).
func cmsgPktinfo(ifindex int, specDst netip.Addr) []byte {
	b := make([]byte, unix.CmsgSpace(12))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(12)))
	binary.NativeEndian.PutUint32(b[8:], unix.IPPROTO_IP)
	binary.NativeEndian.PutUint32(b[12:], unix.IP_PKTINFO)
	binary.NativeEndian.PutUint32(b[16:], uint32(ifindex))
	a := specDst.As4()
	copy(b[20:], a[:])
	return b
}

// cmsgData builds one control message carrying data.
func cmsgData(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(len(data))))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// withCmsgLen is b with its first message's cmsg_len set to n.
func withCmsgLen(b []byte, n int) []byte {
	b = append([]byte(nil), b...)
	binary.NativeEndian.PutUint64(b, uint64(n))
	return b
}

// solSocketCases are the SOL_SOCKET send messages of __sock_cmsg_send
// (net/core/sock.c), each alone and mixed with SOL_IP ones that
// ip_cmsg_send takes: SCM_RIGHTS and SCM_CREDENTIALS are Unix-domain and
// skipped whatever they carry; SO_MARK and SO_PRIORITY need exactly 4
// bytes (the DUT has CAP_NET_ADMIN); SCM_TXTIME needs SO_TXTIME on the
// socket; SO_TIMESTAMPING takes only SOF_TIMESTAMPING_TX_* record flags;
// SCM_TS_OPT_ID needs SOF_TIMESTAMPING_OPT_ID on the socket; any other
// type is EINVAL, as is a message whose cmsg_len is below a header or past
// the buffer.
func solSocketCases(e *harness.Env) []ctlCase {
	ttl7 := cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 7)
	tos10 := cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x10)
	rights := cmsgInt(unix.SOL_SOCKET, unix.SCM_RIGHTS, 0)
	mark := cmsgInt(unix.SOL_SOCKET, unix.SO_MARK, 5)
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	return []ctlCase{
		{"SCM_RIGHTS fd 0", rights},
		{"SCM_RIGHTS empty", cmsgData(unix.SOL_SOCKET, unix.SCM_RIGHTS, nil)},
		{"SCM_RIGHTS 3 bytes", cmsgData(unix.SOL_SOCKET, unix.SCM_RIGHTS, []byte{1, 2, 3})},
		{"SCM_CREDENTIALS", cmsgData(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, make([]byte, 12))},
		{"SCM_CREDENTIALS 4 bytes", cmsgInt(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, 1)},
		{"SO_MARK 5", mark},
		{"SO_MARK 2 bytes", cmsgData(unix.SOL_SOCKET, unix.SO_MARK, []byte{5, 0})},
		{"SO_MARK 8 bytes", cmsgData(unix.SOL_SOCKET, unix.SO_MARK, make([]byte, 8))},
		{"SO_PRIORITY 3", cmsgInt(unix.SOL_SOCKET, unix.SO_PRIORITY, 3)},
		{"SO_PRIORITY 7", cmsgInt(unix.SOL_SOCKET, unix.SO_PRIORITY, 7)},
		{"SO_PRIORITY 1 byte", cmsgData(unix.SOL_SOCKET, unix.SO_PRIORITY, []byte{3})},
		{"SCM_TXTIME without SO_TXTIME", cmsgData(unix.SOL_SOCKET, unix.SCM_TXTIME, make([]byte, 8))},
		{"SCM_TXTIME 4 bytes", cmsgInt(unix.SOL_SOCKET, unix.SCM_TXTIME, 0)},
		{"SO_TIMESTAMPING 0", cmsgInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, 0)},
		{"SO_TIMESTAMPING_NEW 0", cmsgInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING_NEW, 0)},
		{"SO_TIMESTAMPING RX_SOFTWARE", cmsgInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, unix.SOF_TIMESTAMPING_RX_SOFTWARE)},
		{"SO_TIMESTAMPING OPT_ID", cmsgInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, unix.SOF_TIMESTAMPING_OPT_ID)},
		{"SO_TIMESTAMPING 2 bytes", cmsgData(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, []byte{0, 0})},
		{"SCM_TS_OPT_ID without OPT_ID", cmsgInt(unix.SOL_SOCKET, unix.SCM_TS_OPT_ID, 1)},
		{"SCM_DEVMEM_DMABUF", cmsgInt(unix.SOL_SOCKET, unix.SCM_DEVMEM_DMABUF, 1)},
		{"SCM_DEVMEM_DMABUF 8 bytes", cmsgData(unix.SOL_SOCKET, unix.SCM_DEVMEM_DMABUF, make([]byte, 8))},
		{"SOL_SOCKET type 99", cmsgInt(unix.SOL_SOCKET, 99, 1)},
		{"SCM_TIMESTAMP", cmsgData(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, make([]byte, 16))},
		{"IP_PROTOCOL 17", cmsgInt(unix.IPPROTO_IP, unix.IP_PROTOCOL, 17)},
		{"IP_PROTOCOL 0", cmsgInt(unix.IPPROTO_IP, unix.IP_PROTOCOL, 0)},
		{"TTL, RIGHTS, TOS", cat(ttl7, rights, tos10)},
		{"RIGHTS, CREDENTIALS, MARK, TTL", cat(rights, cmsgData(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, make([]byte, 12)), mark, ttl7)},
		{"pktinfo DUT, MARK", cat(cmsgPktinfo(0, e.DUTAddr), mark)},
		{"TTL, type 99", cat(ttl7, cmsgInt(unix.SOL_SOCKET, 99, 1))},
		{"type 99, TTL 0", cat(cmsgInt(unix.SOL_SOCKET, 99, 1), cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 0))},
		{"RIGHTS cmsg_len 15", withCmsgLen(rights, 15)},
		{"RIGHTS cmsg_len past end", withCmsgLen(rights, len(rights)+1)},
		{"RIGHTS cut after header", rights[:unix.CmsgLen(0)+2]},
		{"MARK, 8 trailing bytes", append(append([]byte(nil), mark...), make([]byte, 8)...)},
		{"TTL, RIGHTS cut", cat(ttl7, rights[:12])},
	}
}

// sockCmsgSendScenarios pin the SOL_SOCKET messages of sendmsg on UDP, raw,
// ping and TCP sockets: what each is answered and what goes out.
func sockCmsgSendScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/send-sol-socket-udp", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("peer IP_RECVTOS", p, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			for _, tc := range solSocketCases(e) {
				if sendCtl(e, "send "+tc.op, s, []byte(tc.op), tc.oob, to) == nil {
					peerRecvCmsgs(e, "  peer got", p)
				}
			}
			r, err := s.Poll(0, 0)
			e.Rec("poll after", err, r)
		}},
		{Name: "cmsg/send-sol-socket-udp-tx-timestamp", Run: func(e *harness.Env) {
			// A SO_TIMESTAMPING message asking for a software or
			// scheduler transmit timestamp.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			oob := cmsgInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, unix.SOF_TIMESTAMPING_TX_SOFTWARE|unix.SOF_TIMESTAMPING_TX_SCHED)
			if sendCtl(e, "send TX_SOFTWARE|TX_SCHED", s, []byte("stamp"), oob, to) == nil {
				peerRecvCmsgs(e, "  peer got", p)
			}
			r, err := s.Poll(0, 200*time.Millisecond)
			e.Rec("poll after", err, r)
			// The queued packets start with the link header (random
			// MACs) and carry the IP ID: only lengths and messages are
			// recorded.
			buf, oob := make([]byte, 2048), make([]byte, 256)
			for i := 0; i < 3; i++ {
				n, oobn, fl, _, err := s.RecvMsg(buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("errqueue", err)
					break
				}
				e.Rec("errqueue", n, fmt.Sprintf("flags=%#x", fl), harness.Cmsgs(oob[:oobn]))
			}
		}},
		{Name: "cmsg/send-sol-socket-raw", Run: func(e *harness.Env) {
			tap := peerProtoTap(e, unix.IPPROTO_ICMP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			to := harness.Sockaddr(e.PeerAddr, 0)
			for i, tc := range solSocketCases(e) {
				if sendCtl(e, "send "+tc.op, s, echoRequest(0x3e40, uint16(i), []byte("raw")), tc.oob, to) == nil {
					tapRecv(e, "  peer got", tap)
				}
			}
		}},
		{Name: "cmsg/send-sol-socket-ping", Run: func(e *harness.Env) { pingCtlSends(e, solSocketCases(e)) }},
		{Name: "cmsg/send-sol-socket-unprivileged", Run: func(e *harness.Env) {
			// Without CAP_NET_RAW and CAP_NET_ADMIN: SO_MARK, and
			// SO_PRIORITY above 6, are EPERM (the first failing message
			// decides).
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			u := e.Unprivileged(e.DUT, unix.CAP_NET_RAW, unix.CAP_NET_ADMIN)
			mark := cmsgInt(unix.SOL_SOCKET, unix.SO_MARK, 5)
			bad := cmsgInt(unix.SOL_SOCKET, 99, 1)
			cases := []struct {
				op  string
				oob []byte
			}{
				{"SO_MARK 5", mark},
				{"SO_MARK 2 bytes", cmsgData(unix.SOL_SOCKET, unix.SO_MARK, []byte{5, 0})},
				{"SO_PRIORITY 6", cmsgInt(unix.SOL_SOCKET, unix.SO_PRIORITY, 6)},
				{"SO_PRIORITY 7", cmsgInt(unix.SOL_SOCKET, unix.SO_PRIORITY, 7)},
				{"SCM_RIGHTS", cmsgInt(unix.SOL_SOCKET, unix.SCM_RIGHTS, 0)},
				{"MARK, type 99", append(append([]byte(nil), mark...), bad...)},
				{"type 99, MARK", append(append([]byte(nil), bad...), mark...)},
			}
			ping := e.Socket(u, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("bind ident", ping.Bind(harness.Sockaddr(loopback, e.BasePort)))
			for i, tc := range cases {
				if sendCtl(e, "ping send "+tc.op, ping, echoRequest(0, uint16(i), []byte("lo")), tc.oob, harness.Sockaddr(loopback, 0)) == nil {
					pingReply(e, "  reply", ping)
				}
			}
			us := e.Socket(u, unix.AF_INET, unix.SOCK_DGRAM, 0)
			ur := e.Socket(u, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("udp bind", ur.Bind(harness.Sockaddr(loopback, e.BasePort+2)))
			for _, tc := range cases {
				if sendCtl(e, "udp send "+tc.op, us, []byte("u"), tc.oob, harness.Sockaddr(loopback, e.BasePort+2)) == nil {
					e.RecvDgram("  got", ur, 16, 0)
				}
			}
			l := e.Socket(u, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("listen bind", l.Bind(harness.Sockaddr(loopback, e.BasePort+1)))
			e.Check("listen", l.Listen(1))
			t := e.Socket(u, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Check("connect", t.Connect(harness.Sockaddr(loopback, e.BasePort+1)))
			a, _, err := l.Accept(0)
			e.Check("accept", err)
			sent := 0
			for _, tc := range cases {
				n, err := t.SendMsg([]byte("x"), tc.oob, nil, 0)
				e.Rec("tcp send "+tc.op, err, n)
				if err == nil {
					sent += n
				}
			}
			recvStream(e, "tcp peer got", a, sent)
		}},
		{Name: "cmsg/send-sol-socket-tcp", Run: func(e *harness.Env) {
			// tcp_sendmsg looks only at SOL_SOCKET messages
			// (sock_cmsg_send) and answers any failure EINVAL.
			s, a := tcpPair(e)
			sent := 0
			for _, tc := range solSocketCases(e) {
				n, err := s.SendMsg([]byte("x"), tc.oob, nil, 0)
				e.Rec("send "+tc.op, err, n)
				if err == nil {
					sent += n
				}
			}
			recvStream(e, "peer got", a, sent)
		}},
	}
}
