package stack_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

// Linux's IGMP conf knobs (devinet.c, igmp.c): force_igmp_version and the
// unsolicited report intervals, in conf/all, conf/default and per
// interface.

const (
	knobForce = "force_igmp_version"
	knobV2Ivl = "igmpv2_unsolicited_report_interval"
	knobV3Ivl = "igmpv3_unsolicited_report_interval"
)

func confName(dev, knob string) string { return "net.ipv4.conf." + dev + "." + knob }

func setKnob(t *testing.T, s *stack.Stack, dev, knob, v string) {
	t.Helper()
	if err := s.Sysctl().Set(confName(dev, knob), v); err != nil {
		t.Fatalf("set %s=%q: %v", confName(dev, knob), v, err)
	}
}

func knob(t *testing.T, s *stack.Stack, dev, k string) string {
	t.Helper()
	v, err := s.Sysctl().Get(confName(dev, k))
	if err != nil {
		t.Fatalf("get %s: %v", confName(dev, k), err)
	}
	return v
}

// TestIGMPKnobValues: the defaults (0, 10000 ms, 1000 ms) in conf/all,
// conf/default and on each interface, and proc_dointvec's parse: any int,
// negative ones included; a value beyond an int or not a number is EINVAL
// and changes nothing; values after the first are ignored.
func TestIGMPKnobValues(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	for _, dev := range []string{"all", "default", "lo", "eth0"} {
		for k, want := range map[string]string{knobForce: "0", knobV2Ivl: "10000", knobV3Ivl: "1000"} {
			if got := knob(t, s, dev, k); got != want {
				t.Errorf("%s = %q, want %q", confName(dev, k), got, want)
			}
		}
	}
	for _, c := range []struct{ in, want string }{
		{"3", "3"}, {"-5", "-5"}, {"-2147483648", "-2147483648"}, {"2147483647", "2147483647"},
		{"0x10 9", "16"}, {" 7\n", "7"},
	} {
		setKnob(t, s, "eth0", knobV3Ivl, c.in)
		if got := knob(t, s, "eth0", knobV3Ivl); got != c.want {
			t.Errorf("after writing %q: %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"2147483648", "-2147483649", "abc", "1x"} {
		if err := s.Sysctl().Set(confName("all", knobForce), bad); !errors.Is(err, unix.EINVAL) {
			t.Errorf("writing %q: %v, want EINVAL", bad, err)
		}
	}
	if got := knob(t, s, "all", knobForce); got != "0" {
		t.Errorf("after refused writes: %q, want 0", got)
	}
}

// TestIGMPKnobDefaultCopied: a write to conf/default reaches every
// interface whose own knob was never written: a refused or an empty write
// to the interface's knob counts as written (devinet_conf_proc sets the
// knob's state bit whatever proc_dointvec returned), and giving the
// interface an address makes all its knobs count as written (lo has
// 127.0.0.1 from the start); conf/all is not copied anywhere; a new
// interface starts from conf/default.
func TestIGMPKnobDefaultCopied(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	if _, err := s.AddInterface("eth1", channel.New(16, 1500, "")); err != nil {
		t.Fatalf("AddInterface eth1: %v", err)
	}
	eth3, err := s.AddInterface("eth3", channel.New(16, 1500, ""))
	if err != nil {
		t.Fatalf("AddInterface eth3: %v", err)
	}
	if err := s.Sysctl().Set(confName("eth1", knobV3Ivl), "abc"); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("bad write: %v, want EINVAL", err)
	}
	setKnob(t, s, "eth1", knobV2Ivl, "") // empty: no change, but written
	setKnob(t, s, "eth3", knobForce, "0")
	setKnob(t, s, "all", knobForce, "1")
	setKnob(t, s, "default", knobForce, "2")
	setKnob(t, s, "default", knobV2Ivl, "88")
	setKnob(t, s, "default", knobV3Ivl, "77")
	if err := s.AddAddress(eth3, netip.MustParsePrefix("10.0.3.1/24")); err != nil {
		t.Fatal(err)
	}
	setKnob(t, s, "default", knobV3Ivl, "66")
	for _, c := range []struct{ dev, k, want string }{
		{"eth0", knobForce, "0"}, {"eth0", knobV2Ivl, "10000"}, {"eth0", knobV3Ivl, "1000"},
		{"lo", knobForce, "0"}, {"lo", knobV2Ivl, "10000"}, {"lo", knobV3Ivl, "1000"},
		{"eth1", knobForce, "2"}, {"eth1", knobV2Ivl, "10000"}, {"eth1", knobV3Ivl, "1000"},
		{"eth3", knobForce, "0"}, {"eth3", knobV2Ivl, "88"}, {"eth3", knobV3Ivl, "77"},
		{"all", knobForce, "1"}, {"all", knobV2Ivl, "10000"}, {"all", knobV3Ivl, "1000"},
	} {
		if got := knob(t, s, c.dev, c.k); got != c.want {
			t.Errorf("%s = %q, want %q", confName(c.dev, c.k), got, c.want)
		}
	}
	// A new interface takes conf/default's values, and its knobs that
	// conf/default's were ever written start pinned (inetdev_init copies
	// the state bits as well).
	if _, err := s.AddInterface("eth2", channel.New(16, 1500, "")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sysctl().Set("net.ipv4.conf.default.igmpv3_unsolicited_report_interval", "55"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{knobForce: "2", knobV2Ivl: "88", knobV3Ivl: "66"} {
		if got := knob(t, s, "eth2", k); got != want {
			t.Errorf("new interface: %s = %q, want %q", k, got, want)
		}
	}
}

// joinTypes joins mcGroup on the interface and returns the types of the
// IGMP messages sent within d.
func joinTypes(t *testing.T, s *stack.Stack, ch *channel.Endpoint, idx int, d time.Duration) []byte {
	t.Helper()
	if err := s.McastIncGroup(idx, mcGroup, stack.McastExclude); err != nil {
		t.Fatal(err)
	}
	_, types := countIGMP(ch, d)
	return types
}

// TestForceIGMPVersion2: the interface's force_igmp_version 2 makes it
// speak IGMPv2 with no querier heard: a join is reported with a v2 report
// (repeated within igmpv2_unsolicited_report_interval, 50 ms here), a
// leave announced.
func TestForceIGMPVersion2(t *testing.T) {
	t.Parallel()
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	setKnob(t, s, "eth0", knobForce, "2")
	setKnob(t, s, "eth0", knobV2Ivl, "50")
	if types := joinTypes(t, s, ch, idx, 500*time.Millisecond); string(types) != "\x16\x16" {
		t.Fatalf("after the join: %x, want two v2 reports (16 16)", types)
	}
	s.McastDecGroup(idx, mcGroup)
	if _, igmp := nextIGMP(t, ch, 300*time.Millisecond); igmp[0] != 0x17 {
		t.Fatalf("after the leave: type %#x, want a leave (0x17)", igmp[0])
	}
}

// TestForceIGMPVersion1ByAll: conf/all's force_igmp_version 1 counts for
// every interface: v1 reports, and no leave.
func TestForceIGMPVersion1ByAll(t *testing.T) {
	t.Parallel()
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	setKnob(t, s, "all", knobForce, "1")
	setKnob(t, s, "eth0", knobV2Ivl, "30")
	if types := joinTypes(t, s, ch, idx, 500*time.Millisecond); string(types) != "\x12\x12" {
		t.Fatalf("after the join: %x, want two v1 reports (12 12)", types)
	}
	s.McastDecGroup(idx, mcGroup)
	noIGMP(t, ch, 300*time.Millisecond)
}

// TestForceIGMPVersion1BeatsDeviceV2: IGMP_V1_SEEN is asked first, so
// conf/all's 1 wins over the interface's 2.
func TestForceIGMPVersion1BeatsDeviceV2(t *testing.T) {
	t.Parallel()
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	setKnob(t, s, "eth0", knobForce, "2")
	setKnob(t, s, "all", knobForce, "1")
	if types := joinTypes(t, s, ch, idx, 300*time.Millisecond); len(types) == 0 || types[0] != 0x12 {
		t.Fatalf("after the join: %x, want a v1 report first", types)
	}
}

// TestForceIGMPVersionOtherValues: 3, and any value but 1 and 2, forces
// nothing: a join is an IGMPv3 state change, retransmitted within
// igmpv3_unsolicited_report_interval (40 ms here), robustness 2 times.
func TestForceIGMPVersionOtherValues(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"3", "-1", "4"} {
		s := newStack(t, stack.Config{})
		ch, idx := attach(t, s, "10.0.0.1/24")
		setKnob(t, s, "all", knobForce, v)
		setKnob(t, s, "eth0", knobForce, v)
		setKnob(t, s, "eth0", knobV3Ivl, "40")
		if types := joinTypes(t, s, ch, idx, 400*time.Millisecond); string(types) != "\x22\x22" {
			t.Errorf("force %s: after the join %x, want two v3 reports (22 22)", v, types)
		}
	}
}

// TestIGMPv3UnsolicitedIntervalShortest: 0 and negative intervals give the
// shortest one (Linux uses at least one jiffy; msecs_to_jiffies reads a
// negative value as infinite, which is negative again as an int).
func TestIGMPv3UnsolicitedIntervalShortest(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "-1", "-2147483648"} {
		s := newStack(t, stack.Config{})
		ch, idx := attach(t, s, "10.0.0.1/24")
		setKnob(t, s, "eth0", knobV3Ivl, v)
		if types := joinTypes(t, s, ch, idx, 150*time.Millisecond); string(types) != "\x22\x22" {
			t.Errorf("interval %s: after the join %x, want two v3 reports (22 22)", v, types)
		}
	}
}

// TestIGMPv2IntervalInOlderQuerierMode: with an IGMPv2 querier heard (not
// forced), the join's repetition follows igmpv2_unsolicited_report_interval;
// igmpv3_unsolicited_report_interval does not count.
func TestIGMPv2IntervalInOlderQuerierMode(t *testing.T) {
	t.Parallel()
	s := newStack(t, stack.Config{})
	ch, idx := attach(t, s, "10.0.0.1/24")
	setKnob(t, s, "eth0", knobV2Ivl, "30")
	setKnob(t, s, "eth0", knobV3Ivl, "600000")
	inject(ch, v12Query(1, mcGroup)) // a v2 querier; nothing joined yet
	noIGMP(t, ch, 50*time.Millisecond)
	if types := joinTypes(t, s, ch, idx, 400*time.Millisecond); string(types) != "\x16\x16" {
		t.Fatalf("after the join: %x, want two v2 reports (16 16)", types)
	}
}
