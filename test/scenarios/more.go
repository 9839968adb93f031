package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

var (
	groupReq = netip.MustParseAddr("239.1.1.6")
	groupMSF = netip.MustParseAddr("239.1.1.7")
	groupAll = netip.MustParseAddr("239.1.1.8")
)

// groupReq builds struct group_req / group_source_req (64-bit layout: u32
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

func moreScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "udp/broadcast-receive", Run: func(e *harness.Env) {
			anyS := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", anyS, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind any", anyS.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
			uni := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", uni, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind unicast", uni.Bind(harness.Sockaddr(e.DUTAddr, e.BasePort)))
			bc := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("SO_REUSEADDR", bc, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			e.Check("bind subnet broadcast", bc.Bind(harness.Sockaddr(subnetBC, e.BasePort)))
			p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.SetInt("peer SO_BROADCAST", p, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			e.Check("peer bind", p.Bind(harness.Sockaddr(e.PeerAddr, e.BasePort+1)))
			for _, dst := range []netip.Addr{subnetBC, limitedBC} {
				send(e, "peer send to "+dst.String(), p, []byte("bcast"), harness.Sockaddr(dst, e.BasePort), 0)
				time.Sleep(100 * time.Millisecond)
				for _, s := range []struct {
					op string
					s  harness.Sock
				}{{"any", anyS}, {"unicast", uni}, {"broadcast", bc}} {
					n, _, _, from, err := s.s.RecvMsg(make([]byte, 16), nil, unix.MSG_DONTWAIT)
					e.Rec("  "+s.op+" recv", err, n, e.SA(from))
				}
			}
		}},
		{Name: "udp/rcvbuf-overflow", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("SO_RCVBUF", s, unix.SOL_SOCKET, unix.SO_RCVBUF, 0)
			e.SetInt("SO_RXQ_OVFL", s, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			p := peerUDP(e, e.BasePort+1)
			for i := 0; i < 20; i++ {
				p.SendMsg(make([]byte, 100), nil, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			}
			time.Sleep(200 * time.Millisecond)
			got := 0
			var last string
			for i := 0; i < 25; i++ {
				oob := make([]byte, 64)
				_, oobn, _, _, err := s.RecvMsg(make([]byte, 200), oob, unix.MSG_DONTWAIT)
				if err != nil {
					break
				}
				got++
				last = harness.Cmsgs(oob[:oobn])
			}
			e.Rec("queued", got, "last cmsgs", last)
		}},
		{Name: "bind/freebind-transparent", Run: func(e *harness.Env) {
			for _, opt := range []struct {
				name string
				opt  int
			}{{"IP_FREEBIND", unix.IP_FREEBIND}, {"IP_TRANSPARENT", unix.IP_TRANSPARENT}} {
				for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
					s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
					e.SetInt(opt.name, s, unix.IPPROTO_IP, opt.opt, 1)
					e.Rec("bind foreign", s.Bind(harness.Sockaddr(foreign, e.BasePort)))
					recName(e, "getsockname", s)
					s.Close()
				}
			}
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("sysctl ip_nonlocal_bind", e.SetSysctl(e.DUT, "net.ipv4.ip_nonlocal_bind", "1"))
			e.Rec("bind foreign with sysctl", s.Bind(harness.Sockaddr(foreign, e.BasePort+1)))
		}},
		{Name: "sysctl/ip-default-ttl", Run: func(e *harness.Env) {
			e.Check("set ip_default_ttl", e.SetSysctl(e.DUT, "net.ipv4.ip_default_ttl", "33"))
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			s := dutUDP(e, 0)
			e.GetInt("IP_TTL", s, unix.IPPROTO_IP, unix.IP_TTL)
			send(e, "send", s, []byte("ttl"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			peerRecvCmsgs(e, "peer recv", p)
		}},
		{Name: "sysctl/ip-local-port-range", Run: func(e *harness.Env) {
			e.Check("set range", e.SetSysctl(e.DUT, "net.ipv4.ip_local_port_range", "20000 20001"))
			var ports []int
			for i := 0; i < 3; i++ {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				err := s.Bind(harness.Sockaddr(anyAddr, 0))
				e.Rec("bind port 0", err)
				if sa, err := s.GetSockName(); err == nil && len(sa) >= 4 {
					ports = append(ports, int(binary.BigEndian.Uint16(sa[2:4])))
				}
			}
			sort.Ints(ports)
			e.Rec("ports", fmt.Sprint(ports))
			v, err := e.DUT.GetSysctl("net.ipv4.ip_local_port_range")
			e.Rec("range", err, v)
			e.Rec("set inverted", e.SetSysctl(e.DUT, "net.ipv4.ip_local_port_range", "30000 20000") != nil)
		}},
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
