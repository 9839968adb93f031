package stack

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// A group has one report timer, as Linux's im->timer: it carries the
// IGMPv1/v2 unsolicited reports after a join and the answer to any query
// that is answered per group (every v1/v2 query, and group-specific v3
// ones). Sharing it is what lets a query absorb a pending repetition and a
// report heard from another host cancel whatever is pending.

// timerSlack is what Linux adds to every group timer (two jiffies).
const timerSlack = 2 * time.Millisecond

// startGroupTimer is igmp_start_timer: (re)start the group's timer to run
// out at a random time within the given span. Called with ctl held.
func (s *Stack) startGroupTimer(st *igmpIf, k mcKey, g *ifGroup, within time.Duration) {
	d := time.Duration(rand.Int64N(int64(max(within, time.Millisecond)))) + timerSlack
	if g.t != nil {
		g.t.Stop()
	}
	g.tGen++
	gen := g.tGen
	g.tOn, g.tAt = true, time.Now().Add(d)
	g.t = time.AfterFunc(d, func() { s.groupTimerExpired(st, k, g, gen) })
}

// modGroupTimer is igmp_mod_timer, for a query: a pending report that
// runs out within the query's max response time answers it; otherwise
// the timer restarts within it. Either way no unsolicited repetition is
// left. Called with ctl held.
func (s *Stack) modGroupTimer(st *igmpIf, k mcKey, g *ifGroup, maxDelay time.Duration) {
	g.unsolicit = 0
	if g.tOn && time.Until(g.tAt) < maxDelay {
		return
	}
	s.startGroupTimer(st, k, g, maxDelay)
}

// stopGroupTimer is igmp_stop_timer: nothing stays pending, and the group
// counts as not reported by this host (so no IGMPv2 leave for it). Called
// with ctl held.
func (g *ifGroup) stopGroupTimer() {
	if g.t != nil {
		g.t.Stop()
	}
	g.tGen++
	g.tOn, g.reporter, g.unsolicit = false, false, 0
	g.queriedSrc = nil
}

// groupTimerExpired is igmp_timer_expire: send the group's report in the
// version the interface speaks now, and schedule the next unsolicited one
// while any is left.
func (s *Stack) groupTimerExpired(st *igmpIf, k mcKey, g *ifGroup, gen uint64) {
	m := &s.mc
	m.ctl.Lock()
	if m.closed || gen != g.tGen || !g.tOn || g.users == 0 || m.groups[k] != g {
		m.ctl.Unlock()
		return
	}
	g.tOn = false
	v := s.igmpVersion(st)
	if g.unsolicit > 0 {
		g.unsolicit--
		if g.unsolicit > 0 {
			s.startGroupTimer(st, k, g, s.unsolicitedIvl(st))
		}
	}
	g.reporter = true
	if v < 3 {
		m.ctl.Unlock()
		s.sendV12(st, v, k.group)
		return
	}
	rec, ok := groupAnswer(k, g)
	g.queriedSrc = nil
	m.ctl.Unlock()
	if ok {
		s.sendV3(st, []igmpRecord{rec})
	}
}

// groupAnswer is the IGMPv3 record a group's timer sends: the current
// state, or for a group-and-source-specific query in INCLUDE mode IS_IN
// of the queried sources the interface wants (RFC 3376 5.2). ok is false
// when nothing asked for is wanted.
func groupAnswer(k mcKey, g *ifGroup) (igmpRecord, bool) {
	rec := currentState(k, g)
	if g.queriedSrc != nil && g.mode() == McastExclude {
		// Linux (igmp_xmarksources) answers a source query in EXCLUDE
		// mode with the whole current state, and not at all when every
		// queried source is excluded.
		all := true
		for a := range g.queriedSrc {
			all = all && g.listed(a)
		}
		if all {
			rec = igmpRecord{typ: igmpIsIn, group: k.group}
		}
	} else if g.queriedSrc != nil {
		rec = igmpRecord{typ: igmpIsIn, group: k.group}
		wanted := make(srcSet)
		for a := range g.queriedSrc {
			if g.allows(a) {
				var seq uint64 = 1 << 62 // sources the group never listed go last
				if c := g.sources[a]; c != nil {
					seq = c.seq
				}
				wanted[a] = seq
			}
		}
		rec.sources = listOrder(wanted)
	}
	return rec, rec.typ != igmpIsIn || len(rec.sources) > 0
}

// heardReport is igmp_heard_report: another host's IGMPv1/v2 membership
// report for a group this interface has joined stands for this host's
// too, so its pending report is cancelled, and it no longer counts as the
// group's reporter. IGMPv3 reports are not heard (routers track every
// host in v3).
func (s *Stack) heardReport(ifindex int, group netip.Addr) {
	k := mcKey{ifindex, group}
	if !group.IsMulticast() || !reportable(k) {
		return
	}
	m := &s.mc
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if m.closed {
		return
	}
	m.mu.RLock()
	g := m.groups[k]
	m.mu.RUnlock()
	if g == nil || g.users == 0 {
		return
	}
	g.stopGroupTimer()
}
