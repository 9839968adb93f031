package endpoint

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// fullLink is a device whose transmit queue is always full.
type fullLink struct{ *channel.Endpoint }

func (fullLink) WritePackets(gstack.PacketBufferList) (int, tcpip.Error) {
	return 0, &tcpip.ErrNoBufferSpace{}
}

// A datagram a full device queue drops is, as in udp_send_skb, reported
// as sent and counted in SndbufErrors, unless the socket asked for errors
// (IP_RECVERR), which gets ENOBUFS.
func TestUDPFullDeviceQueue(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	idx, err := s.AddInterface("eth0", fullLink{channel.New(1, 1500, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("10.9.0.1/24")); err != nil {
		t.Fatal(err)
	}
	for _, recvErr := range []bool{false, true} {
		u, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if recvErr {
			if err := u.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, intOpt(1)); err != nil {
				t.Fatal(err)
			}
		}
		before := s.Stats().UDPSndbufErrors.Load()
		var enobufs int
		for i := 0; i < 4; i++ {
			n, err := u.SendMsg([]byte("x"), nil, sa("10.9.0.2:9"), 0)
			switch {
			case err == unix.ENOBUFS:
				enobufs++
			case err != nil || n != 1:
				t.Fatalf("recverr %v: send %d: %d, %v", recvErr, i, n, err)
			}
		}
		counted := s.Stats().UDPSndbufErrors.Load() - before
		if recvErr && (enobufs == 0 || counted != 0) {
			t.Errorf("with IP_RECVERR: %d ENOBUFS, %d counted; want some ENOBUFS, none counted", enobufs, counted)
		}
		if !recvErr && (enobufs != 0 || counted == 0) {
			t.Errorf("without IP_RECVERR: %d ENOBUFS, %d counted; want none, some counted", enobufs, counted)
		}
		u.Close()
	}
}
