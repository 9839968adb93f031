package scenarios

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

var (
	groupQuery = netip.MustParseAddr("239.1.1.10")
	allHosts   = netip.MustParseAddr("224.0.0.1")
)

// igmpv3Query builds an IGMPv3 query (RFC 3376 4.1) for group (unspecified
// = general query) with a max response code of maxResp tenths of a second.
func igmpv3Query(group netip.Addr, maxResp byte) []byte {
	b := make([]byte, 12)
	b[0], b[1] = 0x11, maxResp
	g := group.As4()
	copy(b[4:], g[:])
	b[8], b[9] = 2, 125 // QRV 2, QQIC 125 s
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// peerQuerier opens a raw IGMP socket on the peer that sends queries the
// way a querier does: TTL 1, Router Alert, out of eth0.
func peerQuerier(e *harness.Env) harness.Sock {
	q := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_IGMP)
	e.Check("querier IP_MULTICAST_IF", q.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq(anyAddr, e.PeerAddr, -1)[4:8]))
	e.Check("querier IP_MULTICAST_TTL", q.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, harness.Int32(1)))
	e.Check("querier IP_OPTIONS router alert", q.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{0x94, 4, 0, 0}))
	e.Check("querier IP_MULTICAST_LOOP 0", q.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, harness.Int32(0)))
	return q
}

func querierScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "mcast/igmpv3-query-response", Run: func(e *harness.Env) {
			tap := peerIGMPTap(e)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("join", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(groupQuery, e.DUTAddr, -1)))
			captureIGMP(e, "peer saw join", tap, groupQuery, 4)
			q := peerQuerier(e)
			// Let the join's retransmission pass so the answers below can
			// only be answers to the queries.
			captureIGMP(e, "peer saw join again", tap, groupQuery, 4)
			send(e, "general query", q, igmpv3Query(anyAddr, 5), harness.Sockaddr(allHosts, 0), 0)
			captureIGMP(e, "peer saw current state", tap, groupQuery, 2)
			send(e, "group query", q, igmpv3Query(groupQuery, 5), harness.Sockaddr(groupQuery, 0), 0)
			captureIGMP(e, "peer saw current state", tap, groupQuery, 2)
		}},
	}
}
