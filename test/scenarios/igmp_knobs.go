package scenarios

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// The interface's IGMP conf knobs (devinet.c, igmp.c): force_igmp_version
// (1 or 2 in conf/all or on the interface makes it speak IGMPv1/v2, as if
// such a querier were present; IGMPv1 wins) and the unsolicited report
// intervals (the interface's own igmpv2_ one while it speaks IGMPv1/v2,
// its igmpv3_ one otherwise; conf/all's count for nothing).
//
// Each scenario counts what the DUT sends over a window whose outcome does
// not depend on the random delays: the intervals are set short (100 ms, or
// the shortest with a negative value), so every repetition is due well
// within it, or at 2^31-1 ms, so none is.
//
// The interface's IGMP version outlives a scenario: run after the
// igmp/v1-* scenarios (within QRV*QI+QRI, 260 s by default) it speaks
// IGMPv1 on both hosts, and a v1 querier wins over force_igmp_version=2,
// so igmp/knob-force-v2 then records v1 reports and no leave, and the
// unforced scenarios see v1 reports where a fresh interface sends IGMPv3
// state changes. The counts do not change. Run alone
// (NETSANDBOX_CONFORMANCE_RUN='^igmp/knob') the interface speaks IGMPv3.
//
// eth0 has an address on both hosts, so conf/default never reaches its
// knobs (Linux pins every conf knob of an interface given an address,
// ipv4_devconf_setall); conf/default's values only seed new interfaces.
// No scenario reads conf/lo: the harness's mirroring writes the netsandbox
// DUT's lo knobs.

func knobGroup(n int) netip.Addr { return netip.AddrFrom4([4]byte{239, 1, 8, byte(n)}) }

func confKnob(dev, k string) string { return "net.ipv4.conf." + dev + "." + k }

var igmpConfKnobs = []string{"force_igmp_version", "igmpv2_unsolicited_report_interval", "igmpv3_unsolicited_report_interval"}

// knobSet sets conf knobs (dev, knob, value triples) for the scenario.
func knobSet(e *harness.Env, kv ...string) {
	for i := 0; i+2 < len(kv); i += 3 {
		n := confKnob(kv[i], kv[i+1])
		e.Check(n+"="+kv[i+2], e.SetSysctl(e.DUT, n, kv[i+2]))
	}
}

// knobTap opens the peer's IGMP tap, joined to g and 224.0.0.2 too so it
// sees v1/v2 reports and leaves; nothing is queried.
func knobTap(e *harness.Env, g netip.Addr) harness.Sock {
	tap := peerIGMPTap(e)
	e.Check("tap joins group", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(g, e.PeerAddr, -1)))
	e.Check("tap joins 224.0.0.2", tap.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq(allRoutersV2, e.PeerAddr, -1)))
	time.Sleep(20 * time.Millisecond)
	return tap
}

// knobJoinLeave joins g on the DUT, records what it sends in 600 ms, then
// leaves and records what it sends in 400 ms.
func knobJoinLeave(e *harness.Env, tap harness.Sock, g netip.Addr) {
	s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
	setIP(e, "join", s, unix.IP_ADD_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
	e.Rec("DUT sent in 600 ms after the join", dutIGMP(e, tap, g, time.Now().Add(600*time.Millisecond), false))
	setIP(e, "leave", s, unix.IP_DROP_MEMBERSHIP, mreq(g, e.DUTAddr, -1))
	e.Rec("DUT sent in 400 ms after the leave", dutIGMP(e, tap, g, time.Now().Add(400*time.Millisecond), false))
}

const longestIvl = "2147483647" // ms: no repetition within any window here

func igmpKnobScenarios() []harness.Scenario {
	return []harness.Scenario{
		// Defaults, proc_dointvec's parse (any int, negative ones
		// included; beyond an int or not a number EINVAL), and
		// conf/default not reaching eth0 (it has an address).
		{Name: "igmp/knob-values", Run: func(e *harness.Env) {
			for _, dev := range []string{"all", "default", "eth0"} {
				for _, k := range igmpConfKnobs {
					sysctlReads(e, confKnob(dev, k))
				}
			}
			sysctlWrites(e, confKnob("eth0", "force_igmp_version"), "1", "3", "-1", "0x10 9", "010", "abc",
				"2147483648", "-2147483648", "0")
			sysctlWrites(e, confKnob("all", "igmpv3_unsolicited_report_interval"), "0", "-5", "abc", "4294967296",
				"2147483647", "1000")
			sysctlWrites(e, confKnob("eth0", "igmpv2_unsolicited_report_interval"), "1x")
			sysctlWrites(e, confKnob("default", "igmpv2_unsolicited_report_interval"), "123")
			sysctlWrites(e, confKnob("default", "igmpv3_unsolicited_report_interval"), "77")
			sysctlWrites(e, confKnob("default", "force_igmp_version"), "2")
			for _, k := range igmpConfKnobs {
				sysctlReads(e, confKnob("eth0", k), confKnob("all", k))
			}
			sysctlReads(e, confKnob("eth9", "force_igmp_version"))
		}},
		// force_igmp_version=2 on eth0: v2 reports, repeated within the
		// v2 interval (100 ms; the v3 one is never due), and a leave. A
		// v1 querier heard lately wins: v1 reports, no leave.
		{Name: "igmp/knob-force-v2", Run: func(e *harness.Env) {
			g := knobGroup(1)
			knobSet(e, "eth0", "force_igmp_version", "2",
				"eth0", "igmpv2_unsolicited_report_interval", "100",
				"eth0", "igmpv3_unsolicited_report_interval", longestIvl)
			knobJoinLeave(e, knobTap(e, g), g)
		}},
		// conf/all's force_igmp_version=1 counts for eth0 and wins over
		// eth0's 2: v1 reports, no leave; a negative v2 interval repeats
		// at once.
		{Name: "igmp/knob-force-v1-all", Run: func(e *harness.Env) {
			g := knobGroup(2)
			knobSet(e, "all", "force_igmp_version", "1",
				"eth0", "force_igmp_version", "2",
				"eth0", "igmpv2_unsolicited_report_interval", "-1")
			knobJoinLeave(e, knobTap(e, g), g)
		}},
		// Both intervals 100 ms: the join's state change (IGMPv3) or
		// report (v1/v2) is repeated within the window, and so is the
		// leave's IGMPv3 state change.
		{Name: "igmp/knob-short-intervals", Run: func(e *harness.Env) {
			g := knobGroup(3)
			knobSet(e, "eth0", "igmpv2_unsolicited_report_interval", "100",
				"eth0", "igmpv3_unsolicited_report_interval", "100")
			knobJoinLeave(e, knobTap(e, g), g)
		}},
		// Only the v3 interval short, and force_igmp_version=3 (in
		// conf/all and on eth0), which forces nothing: in IGMPv3 the
		// state changes are repeated within the window; in v1/v2 (an
		// older querier heard) the report is not.
		{Name: "igmp/knob-v3-interval-only", Run: func(e *harness.Env) {
			g := knobGroup(4)
			knobSet(e, "all", "force_igmp_version", "3",
				"eth0", "force_igmp_version", "3",
				"eth0", "igmpv2_unsolicited_report_interval", longestIvl,
				"eth0", "igmpv3_unsolicited_report_interval", "100")
			knobJoinLeave(e, knobTap(e, g), g)
		}},
		// conf/all's intervals count for nothing: eth0's (never due)
		// decide, so nothing is repeated.
		{Name: "igmp/knob-all-intervals-ignored", Run: func(e *harness.Env) {
			g := knobGroup(5)
			knobSet(e, "all", "igmpv2_unsolicited_report_interval", "100",
				"all", "igmpv3_unsolicited_report_interval", "100",
				"eth0", "igmpv2_unsolicited_report_interval", longestIvl,
				"eth0", "igmpv3_unsolicited_report_interval", longestIvl)
			knobJoinLeave(e, knobTap(e, g), g)
		}},
	}
}
