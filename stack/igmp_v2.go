package stack

import "time"

// initialReportDelay bounds the random delay of the first IGMPv1/v2
// report after a join: Linux's IGMP_INITIAL_REPORT_DELAY is one jiffy, so
// the report leaves after the timer's slack (one jiffy here, as
// timerSlack counts HZ=1000). A group left before it ran out was never
// reported, so its leave is not announced either.
const initialReportDelay = time.Millisecond

// stateChangedV2 reports a change while an older querier is present:
// IGMPv1/v2 know only joins and leaves. A join is reported after a short
// random delay and repeated igmp_qrv times in all, each within the
// unsolicited report interval (RFC 2236 3), on the group's timer
// (igmp_timer.go); a leave cancels what is still pending and, in IGMPv2,
// is announced if this host is the group's reporter. Called with ctl held.
func (s *Stack) stateChangedV2(st *igmpIf, k mcKey, g *ifGroup, oldMode FilterMode, oldSet srcSet, newMode FilterMode) {
	wasIn := oldMode == McastExclude || len(oldSet) > 0
	_, newSet := g.state()
	isIn := g.users > 0 && (newMode == McastExclude || len(newSet) > 0)
	s.forgetIdle(k, g)
	switch {
	case isIn && !wasIn && st.v6:
		// MLDv1 (igmp6_join_group): one report at once, one more
		// within the unsolicited report interval, whatever mld_qrv.
		g.stopGroupTimer()
		g.reporter, g.unsolicit = true, 1
		s.startGroupTimer(st, k, g, s.unsolicitedIvl(st))
		s.sendV12(st, 2, k.group)
	case isIn && !wasIn:
		g.stopGroupTimer()
		g.unsolicit = s.defaultQRV(st)
		s.startGroupTimer(st, k, g, initialReportDelay)
	case wasIn && !isIn:
		reporter := g.reporter
		g.stopGroupTimer()
		if reporter && s.igmpVersion(st) == 2 {
			s.sendLeave(st, k.group)
		}
	}
}
