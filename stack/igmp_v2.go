package stack

import (
	"math/rand/v2"
	"time"
)

// initialReportDelay bounds the delay of the first IGMPv1/v2 report after
// a join (Linux's IGMP_INITIAL_REPORT_DELAY, HZ/5). A group left before it
// ran out was never reported, so its leave is not announced either.
const initialReportDelay = 200 * time.Millisecond

// stateChangedV2 reports a change while an older querier is present:
// IGMPv1/v2 know only joins and leaves. A join is reported after a short
// random delay and repeated igmp_qrv times in all, each within the
// unsolicited report interval (RFC 2236 3); a leave cancels what is still
// pending and, in IGMPv2, is announced if this host reported the group.
// Called with ctl held.
func (s *Stack) stateChangedV2(st *igmpIf, k mcKey, g *ifGroup, oldMode FilterMode, oldSet srcSet, newMode FilterMode) {
	wasIn := oldMode == McastExclude || len(oldSet) > 0
	_, newSet := g.state()
	isIn := g.users > 0 && (newMode == McastExclude || len(newSet) > 0)
	s.forgetIdle(k, g)
	switch {
	case isIn && !wasIn:
		g.v2Left = max(s.sysctl.Int("net.ipv4.igmp_qrv"), 1)
		s.armV2(st, k, g, initialReportDelay)
	case wasIn && !isIn:
		reporter := g.reporter
		if g.v2T != nil {
			g.v2T.Stop()
		}
		g.v2Left, g.reporter = 0, false
		if reporter && st.version() == 2 {
			s.sendIGMP(k.ifindex, allRouters, v2Message(igmpLeave, k.group))
		}
	}
}

// armV2 (re)starts a group's unsolicited report timer, at least two
// milliseconds out as Linux's is at least two jiffies.
func (s *Stack) armV2(st *igmpIf, k mcKey, g *ifGroup, within time.Duration) {
	d := time.Duration(rand.Int64N(int64(within))) + 2*time.Millisecond
	if g.v2T == nil {
		g.v2T = time.AfterFunc(d, func() { s.v2Expired(st, k, g) })
		return
	}
	g.v2T.Reset(d)
}

// v2Expired sends a group's unsolicited report and schedules the next one.
// A group left, or replaced by a new membership of the same group, in the
// meantime is not reported.
func (s *Stack) v2Expired(st *igmpIf, k mcKey, g *ifGroup) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed || g.users == 0 || g.v2Left == 0 || m.groups[k] != g {
		m.ctl.Unlock()
		return
	}
	g.v2Left--
	v := st.version()
	if v == 3 {
		// The older querier has gone quiet: IGMPv3 reports the group's
		// state, as Linux's timer does then.
		g.v2Left = 0
		rec := currentState(k, g)
		m.ctl.Unlock()
		s.sendV3(k.ifindex, []igmpRecord{rec})
		return
	}
	if g.v2Left > 0 {
		s.armV2(st, k, g, v2UnsolicitedIvl)
	}
	g.reporter = true
	m.ctl.Unlock()
	s.sendV12(k.ifindex, v, k.group)
}
