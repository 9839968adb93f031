package stack

import (
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
)

// TestUnsolicitedIvlKnobs: unsolicited_report_interval reads the
// interface's own v2 knob while it speaks IGMPv1/v2 (forced or by a
// querier heard) and its v3 knob otherwise; conf/all's intervals never
// count. Looked at from inside because the default intervals (1 s, 10 s)
// are random spans too long to measure from outside.
func TestUnsolicitedIvlKnobs(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	idx, err := s.AddInterface("eth0", channel.New(16, 1500, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	set := func(name, v string) {
		t.Helper()
		if err := s.Sysctl().Set(name, v); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	m := &s.mc
	check := func(what string, wantV int, want time.Duration) {
		t.Helper()
		m.ctl.Lock()
		defer m.ctl.Unlock()
		st := m.ifState(idx, false)
		if v, ivl := s.igmpVersion(st), s.unsolicitedIvl(st); v != wantV || ivl != want {
			t.Errorf("%s: version %d, interval %v; want %d, %v", what, v, ivl, wantV, want)
		}
	}
	check("defaults", 3, time.Second)
	set("net.ipv4.conf.all.igmpv3_unsolicited_report_interval", "5")
	set("net.ipv4.conf.all.igmpv2_unsolicited_report_interval", "6")
	check("conf/all intervals", 3, time.Second)
	set("net.ipv4.conf.default.igmpv3_unsolicited_report_interval", "250")
	check("conf/default, interface with an address", 3, time.Second)
	set("net.ipv4.conf.eth0.igmpv3_unsolicited_report_interval", "250")
	check("own v3 interval", 3, 250*time.Millisecond)
	set("net.ipv4.conf.eth0.force_igmp_version", "2")
	check("forced 2", 2, 10*time.Second)
	set("net.ipv4.conf.eth0.igmpv2_unsolicited_report_interval", "1500")
	check("forced 2, own v2 interval", 2, 1500*time.Millisecond)
	set("net.ipv4.conf.eth0.force_igmp_version", "0")
	m.ctl.Lock()
	m.ifState(idx, false).v1Until = time.Now().Add(time.Minute)
	m.ctl.Unlock()
	check("v1 querier heard", 1, 1500*time.Millisecond)
	set("net.ipv4.conf.eth0.force_igmp_version", "2")
	check("v1 querier heard, forced 2", 1, 1500*time.Millisecond)
	set("net.ipv4.conf.eth0.igmpv2_unsolicited_report_interval", "-7")
	check("negative interval", 1, time.Millisecond)
	set("net.ipv4.conf.eth0.igmpv2_unsolicited_report_interval", "2147483647")
	check("largest interval", 1, 2147483647*time.Millisecond)
}
