package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

var groupTTL = netip.MustParseAddr("239.1.1.9")

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

func extraScenarios() []harness.Scenario {
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
		{Name: "cmsg/recv-origdstaddr-and-opts", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_RECVORIGDSTADDR", s, unix.IPPROTO_IP, unix.IP_RECVORIGDSTADDR, 1)
			e.SetInt("IP_RECVOPTS", s, unix.IPPROTO_IP, unix.IP_RECVOPTS, 1)
			e.SetInt("IP_RETOPTS", s, unix.IPPROTO_IP, unix.IP_RETOPTS, 1)
			p := peerUDP(e, e.BasePort+1)
			send(e, "peer send plain", p, []byte("plain"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "recv", s)
			e.Rec("peer IP_OPTIONS rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
			send(e, "peer send with record route", p, []byte("rr"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "recv", s)
		}},
		{Name: "ipopt/minttl-filter", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_MINTTL 64", s, unix.IPPROTO_IP, unix.IP_MINTTL, 64)
			e.SetInt("IP_MINTTL 256", s, unix.IPPROTO_IP, unix.IP_MINTTL, 256)
			e.SetInt("IP_MINTTL -1", s, unix.IPPROTO_IP, unix.IP_MINTTL, -1)
			e.GetInt("get", s, unix.IPPROTO_IP, unix.IP_MINTTL)
			p := peerUDP(e, e.BasePort+1)
			for _, ttl := range []int32{10, 63, 64, 200} {
				e.SetInt(fmt.Sprintf("peer IP_TTL %d", ttl), p, unix.IPPROTO_IP, unix.IP_TTL, ttl)
				send(e, "peer send", p, []byte{byte(ttl)}, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			}
			time.Sleep(200 * time.Millisecond)
			for i := 0; i < 5; i++ {
				n, _, _, _, err := s.RecvMsg(make([]byte, 4), nil, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv", err)
					break
				}
				e.Rec("recv", n)
			}
		}},
		{Name: "mcast/ttl-on-wire", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			e.Check("peer join", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupTTL, e.PeerAddr, -1)))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_MULTICAST_IF", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8]))
			to := harness.Sockaddr(groupTTL, e.BasePort)
			send(e, "send default", s, []byte("m"), to, 0)
			capture(e, "peer saw", tap, e.BasePort)
			e.SetInt("IP_MULTICAST_TTL 5", s, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 5)
			e.SetInt("IP_TTL 99 (unicast only)", s, unix.IPPROTO_IP, unix.IP_TTL, 99)
			send(e, "send", s, []byte("m"), to, 0)
			capture(e, "peer saw", tap, e.BasePort)
		}},
		{Name: "ping/bound-identifier", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("bind id 4321", s.Bind(harness.Sockaddr(e.DUTAddr, 4321)))
			recName(e, "getsockname", s)
			send(e, "echo to peer", s, echoRequest(0, 9, []byte("id")), harness.Sockaddr(e.PeerAddr, 0), 0)
			harness.WaitReadable(s, 2*time.Second)
			buf := make([]byte, 64)
			n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err == nil && n >= 8 {
				e.Rec("reply", n, e.SA(from), buf[:n])
			} else {
				e.Rec("reply", err, n)
			}
			send(e, "send non-echo type", s, []byte{13, 0, 0, 0, 0, 0, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			send(e, "send echo with code 1", s, []byte{8, 1, 0, 0, 0, 0, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			send(e, "send short", s, []byte{8, 0, 0}, harness.Sockaddr(e.PeerAddr, 0), 0)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("second socket same id", t.Bind(harness.Sockaddr(e.DUTAddr, 4321)))
		}},
		{Name: "raw/receive-filtering", Run: func(e *harness.Env) {
			raw := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			bound := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.Rec("bind raw to loopback", bound.Bind(harness.Sockaddr(loopback, 0)))
			u := dutUDP(e, e.BasePort)
			p := peerUDP(e, e.BasePort+1)
			send(e, "peer send", p, []byte("seen raw"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			e.RecvDgram("udp recv", u, 64, 0)
			harness.WaitReadable(raw, time.Second)
			buf := make([]byte, 128)
			n, _, _, from, err := raw.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err == nil && n >= 28 {
				e.Rec("raw recv", n, e.SA(from), ipHeader(buf[:n]), buf[20:28], buf[28:n])
			} else {
				e.Rec("raw recv", err, n)
			}
			_, _, _, _, err = bound.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("raw bound elsewhere", err)
			icmpF := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			fbuf := make([]byte, 4)
			n, err = icmpF.GetSockOpt(unix.SOL_RAW, 1, fbuf) // ICMP_FILTER
			e.Rec("get ICMP_FILTER", err, n, fbuf)
			e.Rec("set ICMP_FILTER", icmpF.SetSockOpt(unix.SOL_RAW, 1, []byte{0xff, 0xff, 0xff, 0xfe}))
			n, err = icmpF.GetSockOpt(unix.SOL_RAW, 1, fbuf)
			e.Rec("get ICMP_FILTER", err, n, fbuf)
			e.Rec("ICMP_FILTER on udp raw", raw.SetSockOpt(unix.SOL_RAW, 1, fbuf))
		}},
	}
}
