package scenarios

import (
	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IPv6 memberships of AF_INET6 TCP, raw and ping sockets: the same
// ipv6_mc_socklist as UDP's (net/ipv6/mcast.c serves every kind), so
// the MCAST_* options and IPV6_JOIN_GROUP keep their errno rules and
// filters there too; only IPV6_ADD_MEMBERSHIP refuses TCP (EPROTO).

// mcastKindOps runs the membership options on s, a socket of kind.
func mcastKindOps(e *harness.Env, kind string, s harness.Sock) {
	g, g2 := mgroup6(40), mgroup6(41)
	set := func(op string, name int, v []byte) { setIPv6(e, kind+" "+op, s, name, v) }
	set("IPV6_JOIN_GROUP", unix.IPV6_JOIN_GROUP, mreq6(g, 2))
	set("IPV6_LEAVE_GROUP", unix.IPV6_LEAVE_GROUP, mreq6(g, 2))
	set("MCAST_JOIN_GROUP", unix.MCAST_JOIN_GROUP, groupReq6(2, g))
	set("MCAST_JOIN_GROUP again", unix.MCAST_JOIN_GROUP, groupReq6(2, g))
	set("MCAST_BLOCK_SOURCE s1", unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, g, msrc1))
	getFilter6(e, kind+" MSFILTER after BLOCK", s, 2, g, 4)
	set("MCAST_JOIN_SOURCE_GROUP on an EXCLUDE group", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, msrc2))
	set("MCAST_UNBLOCK_SOURCE s1", unix.MCAST_UNBLOCK_SOURCE, groupSourceReq6(2, g, msrc1))
	set("MCAST_LEAVE_GROUP", unix.MCAST_LEAVE_GROUP, groupReq6(2, g))
	set("MCAST_LEAVE_GROUP again", unix.MCAST_LEAVE_GROUP, groupReq6(2, g))
	set("MCAST_JOIN_SOURCE_GROUP g2 s1", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g2, msrc1))
	set("MCAST_JOIN_SOURCE_GROUP g2 s2", unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g2, msrc2))
	getFilter6(e, kind+" MSFILTER g2", s, 2, g2, 4)
	set("MCAST_MSFILTER g2 EXCLUDE s3", unix.MCAST_MSFILTER, groupFilter6(2, g2, unix.MCAST_EXCLUDE, msrc3))
	getFilter6(e, kind+" MSFILTER g2 after", s, 2, g2, 4)
	getFilter6(e, kind+" MSFILTER not joined", s, 2, g, 4)
	set("MCAST_LEAVE_SOURCE_GROUP g2 s3", unix.MCAST_LEAVE_SOURCE_GROUP, groupSourceReq6(2, g2, msrc3))
	set("MCAST_MSFILTER g2 INCLUDE none", unix.MCAST_MSFILTER, groupFilter6(2, g2, unix.MCAST_INCLUDE))
	getFilter6(e, kind+" MSFILTER g2 left", s, 2, g2, 4)
}

func ipv6McastKindScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/mcast-options-tcp-raw", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			for _, k := range sweepKinds6 {
				if k.typ == unix.SOCK_STREAM || k.typ == unix.SOCK_RAW {
					mcastKindOps(e, k.name, e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto))
				}
			}
		}},
		{Name: "ipv6/mcast-options-ping", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
			mcastKindOps(e, "ping6", s)
		}},
	}
}
