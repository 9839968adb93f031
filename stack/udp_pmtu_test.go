package stack_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// Each IP_MTU_DISCOVER mode puts DF, the IP ID and the EMSGSIZE limit where
// Linux does (measured on the kernel: wire/udp-pmtudisc-modes).
func TestUDPPMTUModes(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	cases := []struct {
		mode      stack.PMTUMode
		connected bool
		df, id0   bool
	}{
		{stack.PMTUDont, false, false, false},
		{stack.PMTUWant, false, true, false},
		{stack.PMTUDo, false, true, true},
		{stack.PMTUDo, true, true, false},
		{stack.PMTUProbe, false, true, true},
		{stack.PMTUInterface, false, false, false},
		{stack.PMTUOmit, false, false, false},
	}
	for _, c := range cases {
		m := stack.UDPSend{Src: ap("10.0.0.1:1234"), Dst: ap("10.0.0.2:9"), PMTU: c.mode, Connected: c.connected, Payload: []byte("abc")}
		if err := s.SendUDP(&m); err != nil {
			t.Fatalf("mode %d: %v", c.mode, err)
		}
		ip := header.IPv4(readFrame(t, ch))
		df := ip.Flags()&header.IPv4FlagDontFragment != 0
		if df != c.df || (ip.ID() == 0) != c.id0 || !ip.IsChecksumValid() {
			t.Errorf("mode %d connected %v: df=%v id=%d csum ok=%v, want df=%v id0=%v", c.mode, c.connected, df, ip.ID(), ip.IsChecksumValid(), c.df, c.id0)
		}
		if u := header.UDP(ip.Payload()); u.DestinationPort() != 9 || string(u.Payload()) != "abc" {
			t.Errorf("mode %d: bad UDP %x", c.mode, ip.Payload())
		}

		// 1473 bytes do not fit a 1500 MTU.
		m.Payload = make([]byte, 1473)
		err := s.SendUDP(&m)
		refuse := c.mode == stack.PMTUDo || c.mode == stack.PMTUProbe || c.mode == stack.PMTUInterface
		if refuse != errors.Is(err, unix.EMSGSIZE) || !refuse && err != nil {
			t.Errorf("mode %d, 1473 bytes: %v (want EMSGSIZE: %v)", c.mode, err, refuse)
		}
		if !refuse {
			// Fragmented, without DF.
			for range 2 {
				ip := header.IPv4(readFrame(t, ch))
				if ip.Flags()&header.IPv4FlagDontFragment != 0 {
					t.Errorf("mode %d: fragment with DF", c.mode)
				}
			}
		}
	}
}
