package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// MLD as a host speaks it (net/ipv6/mcast.c, RFC 3810, RFC 2710): the
// answers to a querier's MLDv2 general, group and group-and-source
// queries, and MLDv1 under force_mld_version=1. The peer plays the
// querier from a link-local address of its own with a raw ICMPv6 socket
// (hop limit 1, Router Alert in a sticky Hop-by-Hop header), as RFC 3810
// 6.2 wants of a query the host accepts. No MLDv1 query is sent: the
// interface would speak MLDv1 for the Older Version Querier Present
// Timeout (260 s), past the scenario.

var mldQuerierAddr = netip.MustParseAddr("fe80::99")

// mldQuerier is the peer's querier socket, from fe80::99 on eth0.
func mldQuerier(e *harness.Env) harness.Sock {
	q := e.Socket(e.Peer, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	e.Check("querier bind fe80::99%eth0", q.Bind(harness.Sockaddr6(mldQuerierAddr, 0, 2)))
	e.Check("querier IPV6_MULTICAST_IF", q.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_IF, harness.Int32(2)))
	e.Check("querier IPV6_MULTICAST_HOPS 1", q.SetSockOpt(unix.SOL_IPV6, unix.IPV6_MULTICAST_HOPS, harness.Int32(1)))
	// Hop-by-Hop: Router Alert (type 5, value 0: MLD) and a PadN.
	e.Check("querier IPV6_HOPOPTS router alert", q.SetSockOpt(unix.SOL_IPV6, unix.IPV6_HOPOPTS, []byte{0, 0, 5, 2, 0, 0, 1, 0}))
	return q
}

// mldv2Query is an MLDv2 query (RFC 3810 5.1) for group (:: for a
// general one) and sources, with max response code mrc (ms), QRV 2 and
// QQIC 125; the kernel fills in the checksum.
func mldv2Query(group netip.Addr, mrc uint16, sources ...netip.Addr) []byte {
	b := make([]byte, 28, 28+16*len(sources))
	b[0] = 130
	binary.BigEndian.PutUint16(b[4:], mrc)
	copy(b[8:], group.AsSlice())
	b[24], b[25] = 2, 125
	binary.BigEndian.PutUint16(b[26:], uint16(len(sources)))
	for _, s := range sources {
		b = append(b, s.AsSlice()...)
	}
	return b
}

// sendMLDQuery sends a query from the querier to dst on eth0.
func sendMLDQuery(e *harness.Env, op string, q harness.Sock, dst netip.Addr, msg []byte) {
	_, err := q.SendMsg(msg, nil, harness.Sockaddr6(dst, 0, 2), 0)
	e.Check(op, err)
}

// mldGroupRecords is mldRecords over several groups, each record named
// by its group's index in groups ("g0 IS_IN [s1]"); sorted, when the
// order heard depends on how fast the DUT's calls came one after another.
func mldGroupRecords(s harness.Sock, groups []netip.Addr, d time.Duration, sorted bool) string {
	idx := map[netip.Addr]int{}
	for i, g := range groups {
		idx[g] = i
	}
	out := drainMLD(s, d, func(r mldRecord) string {
		if i, ok := idx[r.group]; ok {
			return fmt.Sprintf("g%d %s", i, r)
		}
		return ""
	})
	if sorted {
		sort.Strings(out)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// mldRecord is one group record of an MLDv2 report.
type mldRecord struct {
	typ   byte
	group netip.Addr
	srcs  []string
}

var mldRecordNames = map[byte]string{1: "IS_IN", 2: "IS_EX", 3: "TO_IN", 4: "TO_EX", 5: "ALLOW", 6: "BLOCK"}

func (r mldRecord) String() string {
	return fmt.Sprintf("%s [%s]", mldRecordNames[r.typ], strings.Join(r.srcs, " "))
}

// mldReportRecords decodes the records of an MLDv2 report b (as far as b
// holds them).
func mldReportRecords(b []byte) []mldRecord {
	var recs []mldRecord
	off := 8
	for range int(binary.BigEndian.Uint16(b[6:8])) {
		if off+20 > len(b) {
			break
		}
		r := mldRecord{typ: b[off], group: netip.AddrFrom16([16]byte(b[off+4 : off+20]))}
		aux, ns := int(b[off+1]), int(binary.BigEndian.Uint16(b[off+2:]))
		for i := range ns {
			if o := off + 20 + 16*i; o+16 <= len(b) {
				r.srcs = append(r.srcs, netip.AddrFrom16([16]byte(b[o:o+16])).String())
			}
		}
		recs = append(recs, r)
		off += 20 + 16*ns + 4*aux
	}
	return recs
}

// drainMLD reads the tap for d and returns, each once in the order first
// heard, what name makes of the records of the MLDv2 reports heard ("":
// not wanted); retransmissions repeat records at random times.
func drainMLD(s harness.Sock, d time.Duration, name func(mldRecord) string) []string {
	var out []string
	seen := map[string]bool{}
	end := time.Now().Add(d)
	buf := make([]byte, 2048)
	for time.Now().Before(end) {
		harness.WaitReadable(s, time.Until(end))
		n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 8 || buf[0] != 143 {
			continue
		}
		for _, r := range mldReportRecords(buf[:n]) {
			if k := name(r); k != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// mldReportHas tells whether an MLDv2 report has a record about g.
func mldReportHas(b []byte, g netip.Addr) bool {
	for _, r := range mldReportRecords(b) {
		if r.group == g {
			return true
		}
	}
	return false
}

// mldV1Messages lists the MLDv1 reports and dones about group the tap
// hears in d, in order ("REPORT from ::"), each one counted.
func mldV1Messages(s harness.Sock, group netip.Addr, d time.Duration) string {
	var out []string
	end := time.Now().Add(d)
	buf := make([]byte, 2048)
	for time.Now().Before(end) {
		harness.WaitReadable(s, time.Until(end))
		n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 24 || netip.AddrFrom16([16]byte(buf[8:24])) != group || len(from) < 24 {
			continue
		}
		src := netip.AddrFrom16([16]byte(from[8:24]))
		switch buf[0] {
		case 131:
			out = append(out, "REPORT from "+src.String())
		case 132:
			out = append(out, "DONE from "+src.String())
		case 143:
			out = append(out, "MLDv2 REPORT")
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func mldScenarios() []harness.Scenario {
	return []harness.Scenario{
		// INCLUDE {s1} on g0, EXCLUDE {s3} on g1: a general query is
		// answered with both current states in one report; a group
		// query with the group's; a group-and-source query in INCLUDE
		// mode with IS_IN of the asked sources that are included (none:
		// no answer), in EXCLUDE mode with the whole state unless every
		// asked source is excluded (mld_marksources).
		{Name: "ipv6/mld-query-answers", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e, mldQuerierAddr); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			tap := mldTap(e)
			q := mldQuerier(e)
			groups := []netip.Addr{mgroup6(40), mgroup6(41)}
			mldRecords(tap, netip.IPv6Unspecified(), 1000*time.Millisecond)
			s0 := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			s1 := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			setIPv6(e, "s0 JOIN_SOURCE_GROUP g0 s1", s0, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, groups[0], psrc1))
			setIPv6(e, "s1 IPV6_JOIN_GROUP g1", s1, unix.IPV6_JOIN_GROUP, mreq6(groups[1], 2))
			setIPv6(e, "s1 BLOCK_SOURCE g1 s3", s1, unix.MCAST_BLOCK_SOURCE, groupSourceReq6(2, groups[1], psrc3))
			// Each join's report may leave before the next call (runsc's
			// calls are slower) or be merged with it: sorted.
			e.Rec("state changes", mldGroupRecords(tap, groups, 1500*time.Millisecond, true))
			for _, c := range []struct {
				op       string
				dst, grp netip.Addr
				srcs     []netip.Addr
			}{
				{"general query", netip.MustParseAddr("ff02::1"), netip.IPv6Unspecified(), nil},
				{"g0 query", groups[0], groups[0], nil},
				{"g0 query s1 s2", groups[0], groups[0], []netip.Addr{psrc1, psrc2}},
				{"g0 query s2", groups[0], groups[0], []netip.Addr{psrc2}},
				{"g1 query", groups[1], groups[1], nil},
				{"g1 query s3", groups[1], groups[1], []netip.Addr{psrc3}},
				{"g1 query s1 s3", groups[1], groups[1], []netip.Addr{psrc1, psrc3}},
			} {
				sendMLDQuery(e, c.op, q, c.dst, mldv2Query(c.grp, 300, c.srcs...))
				e.Rec(c.op+": answers", mldGroupRecords(tap, groups, 700*time.Millisecond, false))
			}
		}},
		// The report's headers as the peer's kernel reads them: from ::
		// (the DUT has no link-local address), hop limit 1, a Hop-by-Hop
		// header with Router Alert 0 and a PadN, traffic class 0; and,
		// since a raw ICMPv6 socket checks it, a good checksum.
		{Name: "ipv6/mld-report-headers", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			tap := mldTap(e)
			for _, o := range []int{unix.IPV6_RECVHOPLIMIT, unix.IPV6_RECVHOPOPTS, unix.IPV6_RECVTCLASS} {
				e.Check(fmt.Sprintf("tap option %d", o), tap.SetSockOpt(unix.SOL_IPV6, o, harness.Int32(1)))
			}
			mldRecords(tap, netip.IPv6Unspecified(), 1000*time.Millisecond)
			g := mgroup6(43)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			setIPv6(e, "JOIN_SOURCE_GROUP s1", s, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc1))
			buf, oob := make([]byte, 2048), make([]byte, 512)
			for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
				harness.WaitReadable(tap, time.Until(end))
				n, oobn, _, from, err := tap.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
				if err != nil || n < 8 || buf[0] != 143 || !mldReportHas(buf[:n], g) {
					continue // another group's report (a left one's retransmission)
				}
				e.Rec("report from", netip.AddrFrom16([16]byte(from[8:24])))
				e.RecBytes("report control messages", oob[:oobn])
				break
			}
		}},
		// force_mld_version=1 on eth0: a join is reported with an MLDv1
		// report at once and once more within
		// mldv1_unsolicited_report_interval (here 200 ms), a leave with
		// a done to ff02::2, all from :: (the DUT has no link-local
		// address); source filters are not reported.
		{Name: "ipv6/mld-force-v1", Run: func(e *harness.Env) {
			if err := harness.EnableIPv6Link(e); err != nil {
				e.Check("IPv6 on the veth", err)
			}
			g := mgroup6(42)
			e.Check("force_mld_version=1", e.SetSysctl(e.DUT, "net.ipv6.conf.eth0.force_mld_version", "1"))
			e.Check("mldv1 interval 200", e.SetSysctl(e.DUT, "net.ipv6.conf.eth0.mldv1_unsolicited_report_interval", "200"))
			tap := mldTap(e)
			e.Check("tap joins the group", tap.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(g, 2)))
			e.Check("tap joins ff02::2", tap.SetSockOpt(unix.SOL_IPV6, unix.IPV6_JOIN_GROUP, mreq6(netip.MustParseAddr("ff02::2"), 2)))
			mldV1Messages(tap, g, 500*time.Millisecond)
			s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			setIPv6(e, "JOIN_SOURCE_GROUP s1", s, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc1))
			e.Rec("after the join", mldV1Messages(tap, g, 600*time.Millisecond))
			setIPv6(e, "JOIN_SOURCE_GROUP s2", s, unix.MCAST_JOIN_SOURCE_GROUP, groupSourceReq6(2, g, psrc2))
			e.Rec("after a second source", mldV1Messages(tap, g, 400*time.Millisecond))
			setIPv6(e, "MCAST_LEAVE_GROUP", s, unix.MCAST_LEAVE_GROUP, groupReq6(2, g))
			e.Rec("after the leave", mldV1Messages(tap, g, 400*time.Millisecond))
		}},
	}
}
