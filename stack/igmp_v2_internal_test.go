package stack

import (
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
)

// TestIGMPv2LeaveStopsRepetition: once a reported group is left, its
// pending repetition (due within 10 s) is cancelled, as Linux's
// igmp_group_dropped stops the group timer. Looked at from inside because
// waiting out the interval would take 10 s; test/mdb's TestBridgeMDBIGMPv2
// waits it out against a bridge.
func TestIGMPv2LeaveStopsRepetition(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := channel.New(64, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("239.1.2.4")
	m := &s.mc
	m.ctl.Lock()
	st := m.ifState(idx, false)
	st.v2Until = time.Now().Add(time.Minute)
	m.ctl.Unlock()
	if err := s.McastIncGroup(idx, group, McastExclude); err != nil {
		t.Fatal(err)
	}
	m.ctl.Lock()
	g := m.groups[mcKey{idx, group}]
	m.ctl.Unlock()
	reported := false
	for deadline := time.Now().Add(time.Second); !reported && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m.ctl.Lock()
		reported = g.reporter && g.unsolicit == 1
		m.ctl.Unlock()
	}
	if !reported {
		t.Fatal("no first v2 report within 1 s (or no repetition pending)")
	}
	s.McastDecGroup(idx, group)
	m.ctl.Lock()
	defer m.ctl.Unlock()
	if g.unsolicit != 0 || g.reporter || g.tOn || g.t.Stop() {
		t.Errorf("after the leave: %d repetitions left, reporter %v, timer still running", g.unsolicit, g.reporter)
	}
}
