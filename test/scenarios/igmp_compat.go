package scenarios

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IGMPv1/v2 host compatibility: report suppression (igmp_heard_report)
// and the one timer per group that unsolicited reports and query answers
// share (igmp_mod_timer).
//
// Linux's delays are random (the join's repetition within 10 s, a query's
// answer within its max response time), so each scenario only counts what
// the DUT sends over windows where the outcome does not depend on the
// draw: another host's report is sent right after the DUT's first one,
// long before anything else of the DUT's can be due.
//
// The interface's IGMP version outlives a scenario (an older querier is
// remembered for QRV*QI+QRI, 260 s by default) and IGMPv1 wins over v2:
// run after an IGMPv1 querier scenario, the v2 ones here run in v1 mode
// (v1 reports, no leaves), the same on both hosts. Run alone
// (NETSANDBOX_CONFORMANCE_RUN='^igmp/') the v2 ones come first and see v2.

func compatGroup(n int) netip.Addr { return netip.AddrFrom4([4]byte{239, 1, 7, byte(n)}) }

// compatSetup opens the peer's IGMP tap (joined to g and 224.0.0.2, so it
// sees v1/v2 reports and leaves) and its querier socket, and sends a
// general query: IGMPv1 with code 0, else v2 with max response time
// code/10 s. Nothing of the scenario is joined yet, so nothing answers it.
func compatSetup(e *harness.Env, g netip.Addr, code byte) (tap, q harness.Sock) {
	tap = peerIGMPTap(e)
	e.Check("tap joins group", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
	e.Check("tap joins 224.0.0.2", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(allRoutersV2, e.PeerAddr, -1)))
	q = peerQuerier(e)
	send(e, fmt.Sprintf("general query code %d", code), q, igmpv2Message(0x11, code, anyAddr), harness.Sockaddr(allHosts, 0), 0)
	time.Sleep(50 * time.Millisecond)
	return tap, q
}

// dutIGMP collects what the DUT sends about g (v1/v2 reports, leaves,
// IGMPv3 records) until deadline, or until the first message when first
// is set, rendered as "type@dst" (an IGMPv3 report with g's record).
func dutIGMP(e *harness.Env, tap harness.Sock, g netip.Addr, deadline time.Time, first bool) []string {
	var got []string
	buf := make([]byte, 2048)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+8 || netip.AddrFrom4([4]byte(buf[12:16])) != e.DUTAddr {
			continue
		}
		m := buf[ihl:n]
		msg := fmt.Sprintf("%#x@%v", m[0], netip.AddrFrom4([4]byte(buf[16:20])))
		switch {
		case m[0] == 0x22:
			rec, ok := igmpRecord(m, g, 0)
			if !ok {
				continue
			}
			msg += " " + rec
		case netip.AddrFrom4([4]byte(m[4:8])) != g:
			continue
		}
		got = append(got, msg)
		if first {
			break
		}
	}
	return got
}

// joinReported joins g on the DUT and waits (up to 1 s) for its first
// report, which Linux sends a few milliseconds after the join.
func joinReported(e *harness.Env, tap harness.Sock, g netip.Addr) harness.Sock {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
	e.Rec("first report", dutIGMP(e, tap, g, time.Now().Add(time.Second), true))
	return s
}

// otherHostReport is another host's (the peer's) membership report for g,
// sent to g: v1 (0x12) or v2 (0x16).
func otherHostReport(e *harness.Env, q harness.Sock, typ byte, g netip.Addr) {
	send(e, fmt.Sprintf("other host's report %#x", typ), q, igmpv2Message(typ, 0, g), harness.Sockaddr(g, 0), 0)
}

func igmpCompatScenarios() []harness.Scenario {
	return []harness.Scenario{
		// Another host reported the group after this one: this host is
		// no longer its reporter, so leaving sends no leave.
		{Name: "igmp/v2-heard-report-no-leave", Run: func(e *harness.Env) {
			g := compatGroup(1)
			tap, q := compatSetup(e, g, 10)
			s := joinReported(e, tap, g)
			otherHostReport(e, q, 0x16, g)
			time.Sleep(50 * time.Millisecond)
			setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			e.Rec("DUT sent in 500 ms", dutIGMP(e, tap, g, time.Now().Add(500*time.Millisecond), false))
		}},
		// A group query is answered within 3 s unless another host's
		// report comes first: then neither the answer nor the join's
		// repetition is sent, and no leave either.
		{Name: "igmp/v2-heard-report-cancels-answer", Run: func(e *harness.Env) {
			g := compatGroup(2)
			tap, q := compatSetup(e, g, 10)
			s := joinReported(e, tap, g)
			send(e, "group query code 30", q, igmpv2Message(0x11, 30, g), harness.Sockaddr(g, 0), 0)
			otherHostReport(e, q, 0x16, g)
			e.Rec("DUT sent in 3.5 s", dutIGMP(e, tap, g, time.Now().Add(3500*time.Millisecond), false))
			setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			e.Rec("DUT sent in 500 ms", dutIGMP(e, tap, g, time.Now().Add(500*time.Millisecond), false))
		}},
		// A query (max response 1 s) while the join's repetition is
		// pending: one timer answers both, so one report in all, whether
		// the repetition was due before 1 s (kept) or after (replaced).
		{Name: "igmp/v2-query-absorbs-repeat", Run: func(e *harness.Env) {
			start := time.Now()
			g := compatGroup(3)
			tap, q := compatSetup(e, g, 10)
			joinReported(e, tap, g)
			send(e, "general query code 10", q, igmpv2Message(0x11, 10, anyAddr), harness.Sockaddr(allHosts, 0), 0)
			e.Rec("DUT sent until 8 s", dutIGMP(e, tap, g, start.Add(8*time.Second), false))
		}},
		// IGMPv1: another host's v1 report cancels the join's
		// repetition (due within 10 s; counted over most of it).
		{Name: "igmp/v1-heard-report", Run: func(e *harness.Env) {
			start := time.Now()
			g := compatGroup(4)
			tap, q := compatSetup(e, g, 0)
			s := joinReported(e, tap, g)
			otherHostReport(e, q, 0x12, g)
			e.Rec("DUT sent until 7.5 s", dutIGMP(e, tap, g, start.Add(7500*time.Millisecond), false))
			setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
			e.Rec("DUT sent in 300 ms", dutIGMP(e, tap, g, time.Now().Add(300*time.Millisecond), false))
		}},
		// IGMPv1 mode (a v1 querier is present): a v2 query is still
		// answered within its max response time, on the group's one
		// timer, in a v1 report; the repetition goes with it.
		{Name: "igmp/v1-mode-query-absorbs-repeat", Run: func(e *harness.Env) {
			start := time.Now()
			g := compatGroup(5)
			tap, q := compatSetup(e, g, 0)
			joinReported(e, tap, g)
			send(e, "v2 general query code 10", q, igmpv2Message(0x11, 10, anyAddr), harness.Sockaddr(allHosts, 0), 0)
			e.Rec("DUT sent until 8 s", dutIGMP(e, tap, g, start.Add(8*time.Second), false))
		}},
	}
}
