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

// Groups are per scenario so IGMP retransmissions of one scenario cannot be
// mistaken for another's.
var (
	groupRecv   = netip.MustParseAddr("239.1.1.1")
	groupReport = netip.MustParseAddr("239.1.1.2")
	groupSource = netip.MustParseAddr("232.1.1.3")
	groupErrors = netip.MustParseAddr("239.1.1.4")
	groupLoop   = netip.MustParseAddr("239.1.1.5")
)

// mreq builds struct ip_mreq (8 bytes) or, with ifindex >= 0, ip_mreqn (12).
func mreq(group, iface netip.Addr, ifindex int) []byte {
	b := make([]byte, 8, 12)
	g, i := group.As4(), iface.As4()
	copy(b, g[:])
	copy(b[4:], i[:])
	if ifindex >= 0 {
		b = binary.NativeEndian.AppendUint32(b, uint32(ifindex))
	}
	return b
}

// mreqSource builds struct ip_mreq_source.
func mreqSource(group, iface, source netip.Addr) []byte {
	b := make([]byte, 12)
	g, i, s := group.As4(), iface.As4(), source.As4()
	copy(b, g[:])
	copy(b[4:], i[:])
	copy(b[8:], s[:])
	return b
}

// igmpRecord finds, in an IGMPv3 report, the group record for group with
// the given record type (0 = any) and renders it.
func igmpRecord(igmp []byte, group netip.Addr, recType byte) (string, bool) {
	if len(igmp) < 8 || igmp[0] != 0x22 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(igmp[6:8]))
	off := 8
	for i := 0; i < n && off+8 <= len(igmp); i++ {
		typ, aux, nsrc := igmp[off], int(igmp[off+1]), int(binary.BigEndian.Uint16(igmp[off+2:]))
		end := off + 8 + 4*nsrc + 4*aux
		if end > len(igmp) {
			return "", false
		}
		if netip.AddrFrom4([4]byte(igmp[off+4:off+8])) == group && (recType == 0 || typ == recType) {
			return fmt.Sprintf("record type=%d aux=%d sources=%x", typ, aux, igmp[off+8:off+8+4*nsrc]), true
		}
		off = end
	}
	return "", false
}

// captureIGMP waits (bounded) for an IGMPv3 report on the peer's IGMP tap
// that carries a record of recType for group, and records the IP header and
// that record.
// peerIGMPTap opens the peer's IGMP tap and joins 224.0.0.22 on it: the
// kernel delivers multicast only for groups the interface has joined.
func peerIGMPTap(e *harness.Env) harness.Sock {
	tap := peerTap(e, unix.IPPROTO_IGMP)
	e.Check("peer join 224.0.0.22", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(igmpv3Routers, e.PeerAddr, -1)))
	return tap
}

var igmpv3Routers = netip.MustParseAddr("224.0.0.22")

func captureIGMP(e *harness.Env, op string, tap harness.Sock, group netip.Addr, recType byte) {
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 2048)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+8 {
			continue
		}
		if rec, ok := igmpRecord(buf[ihl:n], group, recType); ok {
			e.Rec(op, ipHeaderNoLen(buf[:n]), "igmp type", buf[ihl], "csum ok", checksum(buf[ihl:n]) == 0, rec)
			return
		}
	}
	e.Rec(op, "no report")
}

// ipHeaderNoLen is ipHeader without the total length, which depends on how
// many records a report happens to combine.
func ipHeaderNoLen(b []byte) string {
	var kept []string
	for _, f := range strings.Fields(ipHeader(b)) {
		if !strings.HasPrefix(f, "len=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

func mcastScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/join-and-receive", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			e.Rec("IP_ADD_MEMBERSHIP", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupRecv, e.DUTAddr, -1)))
			time.Sleep(100 * time.Millisecond) // let the join reach the wire first
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("peer IP_MULTICAST_IF", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
			send(e, "peer send to group", p, []byte("to group"), harness.Sockaddr(groupRecv, e.BasePort), 0)
			peerRecvCmsgs(e, "recv", s)
			e.Rec("IP_DROP_MEMBERSHIP", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq(groupRecv, e.DUTAddr, -1)))
			send(e, "peer send after drop", p, []byte("late"), harness.Sockaddr(groupRecv, e.BasePort), 0)
			r, err := s.Poll(unix.EPOLLIN, 300*time.Millisecond)
			e.Rec("poll after drop", err, r)
		}},
		{Name: "mcast/igmpv3-reports", Run: func(e *harness.Env) {
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("join", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupReport, anyAddr, 2)))
			captureIGMP(e, "peer saw join", tap, groupReport, 4)
			e.Rec("leave", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, mreq(groupReport, anyAddr, 2)))
			captureIGMP(e, "peer saw leave", tap, groupReport, 3)
		}},
		{Name: "mcast/source-specific-report", Run: func(e *harness.Env) {
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_ADD_SOURCE_MEMBERSHIP", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(groupSource, e.DUTAddr, e.PeerAddr)))
			captureIGMP(e, "peer saw", tap, groupSource, 0)
			e.Rec("add again", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(groupSource, e.DUTAddr, e.PeerAddr)))
			e.Rec("drop other source", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(groupSource, e.DUTAddr, e.DUTAddr)))
			e.Rec("ASM join of the same group", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupSource, e.DUTAddr, -1)))
			e.Rec("drop source", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_DROP_SOURCE_MEMBERSHIP, mreqSource(groupSource, e.DUTAddr, e.PeerAddr)))
			captureIGMP(e, "peer saw", tap, groupSource, 6)
		}},
		{Name: "mcast/membership-errors", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			set := func(op string, name int, v []byte) { e.Rec(op, s.SetSockOpt(unix.IPPROTO_IP, name, v)) }
			good := mreq(groupErrors, e.DUTAddr, -1)
			set("add short", unix.IP_ADD_MEMBERSHIP, good[:7])
			set("add unicast group", unix.IP_ADD_MEMBERSHIP, mreq(e.PeerAddr, e.DUTAddr, -1))
			set("add foreign interface address", unix.IP_ADD_MEMBERSHIP, mreq(groupErrors, foreign, -1))
			set("add bad ifindex", unix.IP_ADD_MEMBERSHIP, mreq(groupErrors, anyAddr, 99))
			set("drop not joined", unix.IP_DROP_MEMBERSHIP, good)
			set("add", unix.IP_ADD_MEMBERSHIP, good)
			set("add again", unix.IP_ADD_MEMBERSHIP, good)
			set("add again by ifindex", unix.IP_ADD_MEMBERSHIP, mreq(groupErrors, anyAddr, 2))
			set("add source on ASM group", unix.IP_ADD_SOURCE_MEMBERSHIP, mreqSource(groupErrors, e.DUTAddr, e.PeerAddr))
			set("block source", unix.IP_BLOCK_SOURCE, mreqSource(groupErrors, e.DUTAddr, e.PeerAddr))
			set("block again", unix.IP_BLOCK_SOURCE, mreqSource(groupErrors, e.DUTAddr, e.PeerAddr))
			set("unblock", unix.IP_UNBLOCK_SOURCE, mreqSource(groupErrors, e.DUTAddr, e.PeerAddr))
			set("unblock again", unix.IP_UNBLOCK_SOURCE, mreqSource(groupErrors, e.DUTAddr, e.PeerAddr))
			set("drop", unix.IP_DROP_MEMBERSHIP, good)
			set("drop again", unix.IP_DROP_MEMBERSHIP, good)
			t := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.Rec("tcp add", t.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, good))
		}},
		{Name: "mcast/multicast-if-and-route", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			to := harness.Sockaddr(groupLoop, e.BasePort)
			send(e, "send without route", s, []byte("x"), to, 0)
			get := func(op string, l int) {
				buf := make([]byte, l)
				n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, buf)
				e.Rec(op, err, n, buf[:min(max(n, 0), l)])
			}
			get("get IP_MULTICAST_IF", 4)
			for _, v := range [][]byte{
				mreq(anyAddr, e.DUTAddr, -1)[4:8], mreq(anyAddr, e.DUTAddr, -1), mreq(anyAddr, anyAddr, 2),
				mreq(anyAddr, anyAddr, 1), mreq(anyAddr, foreign, -1)[4:8], mreq(anyAddr, anyAddr, 77), {1, 2},
			} {
				e.Rec(fmt.Sprintf("set IP_MULTICAST_IF %x", v), s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, v))
				get("  get", 4)
			}
			e.Rec("set by address", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8]))
			get("get len 12", 12)
			get("get len 2", 2)
			send(e, "send with IP_MULTICAST_IF", s, []byte("x"), to, 0)
			recName(e, "getsockname", s)
		}},
		{Name: "mcast/loopback", Run: func(e *harness.Env) {
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", r.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.Rec("join", r.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupLoop, e.DUTAddr, -1)))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("IP_MULTICAST_IF", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.DUTAddr, -1)[4:8]))
			to := harness.Sockaddr(groupLoop, e.BasePort)
			send(e, "send looped", s, []byte("loop"), to, 0)
			e.RecvDgram("recv own", r, 16, 0)
			e.SetInt("IP_MULTICAST_LOOP 0", s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
			send(e, "send not looped", s, []byte("noloop"), to, 0)
			rr, err := r.Poll(unix.EPOLLIN, 300*time.Millisecond)
			e.Rec("poll", err, rr)
		}},
	}
}

// mcastGroupAPIScenarios pin the protocol-independent membership API
// (MCAST_JOIN_GROUP), IP_MSFILTER and IP_MULTICAST_ALL.
func mcastGroupAPIScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/group-req", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			set := func(op string, name int, v []byte) { e.Rec(op, s.SetSockOpt(unix.IPPROTO_IP, name, v)) }
			set("MCAST_JOIN_GROUP short", unix.MCAST_JOIN_GROUP, groupReqBytes(2, groupReq, netip.Addr{})[:100])
			set("MCAST_JOIN_GROUP", unix.MCAST_JOIN_GROUP, groupReqBytes(2, groupReq, netip.Addr{}))
			set("MCAST_JOIN_GROUP again", unix.MCAST_JOIN_GROUP, groupReqBytes(2, groupReq, netip.Addr{}))
			set("MCAST_BLOCK_SOURCE", unix.MCAST_BLOCK_SOURCE, groupReqBytes(2, groupReq, e.PeerAddr))
			set("MCAST_UNBLOCK_SOURCE", unix.MCAST_UNBLOCK_SOURCE, groupReqBytes(2, groupReq, e.PeerAddr))
			set("MCAST_LEAVE_GROUP", unix.MCAST_LEAVE_GROUP, groupReqBytes(2, groupReq, netip.Addr{}))
			set("MCAST_JOIN_GROUP ifindex 0", unix.MCAST_JOIN_GROUP, groupReqBytes(0, groupReq, netip.Addr{}))
			set("MCAST_JOIN_SOURCE_GROUP", unix.MCAST_JOIN_SOURCE_GROUP, groupReqBytes(2, groupSource, e.PeerAddr))
			set("MCAST_LEAVE_SOURCE_GROUP", unix.MCAST_LEAVE_SOURCE_GROUP, groupReqBytes(2, groupSource, e.PeerAddr))
			set("MCAST_JOIN_GROUP inet6 family", unix.MCAST_JOIN_GROUP, func() []byte {
				b := groupReqBytes(2, groupReq, netip.Addr{})
				binary.NativeEndian.PutUint16(b[8:], unix.AF_INET6)
				return b
			}())
		}},
		{Name: "mcast/msfilter", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			get := func(op string, l int) {
				buf := ipMsfilter(groupMSF, e.DUTAddr, 0)
				buf = append(buf, make([]byte, max(0, l-len(buf)))...)[:l]
				n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, buf)
				e.Rec(op, err, n, buf) // whole buffer: sources may lie past optlen
			}
			get("get not joined", 20)
			e.Rec("set include 2 not joined", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_INCLUDE, e.PeerAddr, foreign)))
			e.Rec("join", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupMSF, e.DUTAddr, -1)))
			get("get joined", 20)
			e.Rec("set include 2", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_INCLUDE, e.PeerAddr, foreign)))
			get("get", 24)
			get("get short", 16)
			{
				// imsf_numsrc on input says how many sources fit.
				buf := ipMsfilter(groupMSF, e.DUTAddr, 0, anyAddr, anyAddr)
				n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, buf)
				e.Rec("get with room for 2", err, n, buf)
				buf = ipMsfilter(groupMSF, e.DUTAddr, 0, anyAddr)
				n, err = s.GetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, buf)
				e.Rec("get with room for 1", err, n, buf)
			}
			get("get room for one", 20)
			e.Rec("set exclude 0", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_EXCLUDE)))
			get("get", 24)
			e.Rec("set bad mode", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, 7)))
			e.Rec("set short", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_INCLUDE)[:15]))
			bad := ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_INCLUDE, e.PeerAddr)
			binary.NativeEndian.PutUint32(bad[12:], 5) // numsrc beyond the buffer
			e.Rec("set numsrc too big", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, bad))
			e.Rec("set include 0 (leave)", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MSFILTER, ipMsfilter(groupMSF, e.DUTAddr, unix.MCAST_INCLUDE)))
			get("get after leave", 20)
		}},
		{Name: "mcast/multicast-all", Run: func(e *harness.Env) {
			joined := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", joined, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind", joined.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			e.Rec("join", joined.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupAll, e.DUTAddr, -1)))
			other := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", other, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind", other.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			time.Sleep(100 * time.Millisecond)
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("peer IP_MULTICAST_IF", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
			check := func(op string) {
				send(e, "peer send", p, []byte(op), harness.Sockaddr(groupAll, e.BasePort), 0)
				time.Sleep(100 * time.Millisecond)
				for _, s := range []struct {
					op string
					s  harness.Sock
				}{{"joined", joined}, {"other", other}} {
					n, _, _, _, err := s.s.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
					e.Rec("  "+op+" "+s.op, err, n)
				}
			}
			check("multicast_all=1")
			e.SetInt("other IP_MULTICAST_ALL 0", other, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
			check("multicast_all=0")
		}},
	}
}

// mcastTTLWireScenarios check IP_MULTICAST_TTL on the wire.
func mcastTTLWireScenarios() []harness.Scenario {
	return []harness.Scenario{
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
	}
}

var (
	groupReq = netip.MustParseAddr("239.1.1.6")
	groupMSF = netip.MustParseAddr("239.1.1.7")
	groupAll = netip.MustParseAddr("239.1.1.8")
)

// groupReqBytes builds struct group_req / group_source_req (64-bit layout: u32
// interface, 4 bytes padding, sockaddr_storage group[, source]).
func groupReqBytes(ifindex int, group netip.Addr, source netip.Addr) []byte {
	n := 8 + 128
	if source.IsValid() {
		n += 128
	}
	b := make([]byte, n)
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	copy(b[8:], harness.Sockaddr(group, 0))
	if source.IsValid() {
		copy(b[136:], harness.Sockaddr(source, 0))
	}
	return b
}

// ipMsfilter builds struct ip_msfilter with the given sources.
func ipMsfilter(group, iface netip.Addr, mode uint32, sources ...netip.Addr) []byte {
	b := make([]byte, 16+4*max(1, len(sources)))
	g, i := group.As4(), iface.As4()
	copy(b, g[:])
	copy(b[4:], i[:])
	binary.NativeEndian.PutUint32(b[8:], mode)
	binary.NativeEndian.PutUint32(b[12:], uint32(len(sources)))
	for k, s := range sources {
		a := s.As4()
		copy(b[16+4*k:], a[:])
	}
	return b
}

var groupTTL = netip.MustParseAddr("239.1.1.9")
