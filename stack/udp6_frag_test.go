package stack_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestUDP6PathMTUFragments: with ::1's path MTU at 1400, datagrams larger
// than it are fragmented under DONT, WANT and OMIT's device MTU is not
// reached; DO is refused above the path MTU, PROBE and INTERFACE above
// the device's; IPV6_MTU (FragSize) lowers the MTU a send is held to
// but fragments only what exceeds the path MTU, as Linux 6.18 does. The
// receiver gets every datagram whole.
func TestUDP6PathMTUFragments(t *testing.T) {
	s := newStack(t, stack.Config{})
	rec := newRecorder()
	b, err := s.UDPBind(rec, ap("[::1]:5000"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	lo := ap("[::1]:5000").Addr()
	s.LearnPMTU6(lo, 1400)
	for i, c := range []struct {
		mode     stack.PMTUMode
		frag     int
		dontFrag bool
		n        int
		want     error
		mtu      int
		pkts     int // IP packets the loopback received
	}{
		{stack.PMTUWant, 0, false, 3000, nil, 1400, 3},
		{stack.PMTUDont, 0, false, 1353, nil, 1400, 2},
		{stack.PMTUWant, 1300, false, 3000, nil, 1300, 3},
		{stack.PMTUWant, 1300, false, 1352, nil, 1300, 1}, // within the path MTU: whole
		{stack.PMTUWant, 1283, false, 60000, nil, 1283, 49},
		{stack.PMTUDo, 0, false, 1352, nil, 1400, 1},
		{stack.PMTUDo, 0, false, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUDo, 1300, false, 1300, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUDo, 1500, false, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUProbe, 0, false, 3000, nil, 65536, 1},
		{stack.PMTUProbe, 1500, false, 3000, unix.EMSGSIZE, 1500, 0},
		{stack.PMTUInterface, 1300, false, 1300, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUInterface, 0, false, 65500, unix.EMSGSIZE, 65536, 0},
		{stack.PMTUOmit, 1300, false, 3000, nil, 1300, 1},
		{stack.PMTUWant, 0, true, 1353, unix.EMSGSIZE, 1400, 0},
		{stack.PMTUWant, 1300, true, 1253, unix.EMSGSIZE, 1300, 0},
		{stack.PMTUWant, 1300, true, 1252, nil, 1300, 1},
	} {
		p := bytes.Repeat([]byte{byte(i + 1)}, c.n)
		m := &stack.UDPSend{Src: ap("[::1]:4000"), Dst: ap("[::1]:5000"), PMTU: c.mode, FragSize: c.frag, DontFrag: c.dontFrag, Payload: p}
		if mtu, err := s.SendMTU6(m); err != nil || mtu != c.mtu {
			t.Errorf("case %d: SendMTU6 %d %v, want %d", i, mtu, err, c.mtu)
		}
		before := s.Gvisor().Stats().IP.PacketsReceived.Value()
		if err := s.SendUDP(m); err != c.want {
			t.Fatalf("case %d: send %v, want %v", i, err, c.want)
		}
		if got := int(s.Gvisor().Stats().IP.PacketsReceived.Value() - before); got != c.pkts {
			t.Errorf("case %d: %d packets, want %d", i, got, c.pkts)
		}
		if c.want != nil {
			continue
		}
		if d := rec.next(t); !bytes.Equal(d.Payload, p) {
			t.Fatalf("case %d: received %d bytes", i, len(d.Payload))
		}
	}
}
