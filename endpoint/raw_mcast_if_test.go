package endpoint

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"

	"netsandbox/stack"
)

// TestRawMulticastIFWithIPOptions: a raw socket's group datagram leaves
// through IP_MULTICAST_IF's interface with its address (raw_sendmsg's
// mc_index and mc_addr) whichever path builds the header: gVisor's, an
// IP_TOS message's (sendWithControl) or IP_OPTIONS' (sendRawWithOptions).
func TestRawMulticastIFWithIPOptions(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	nic := func(name, addr string) (*channel.Endpoint, int) {
		ch := channel.New(16, 1500, "")
		idx, err := s.AddInterface(name, ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddAddress(idx, netip.MustParsePrefix(addr)); err != nil {
			t.Fatal(err)
		}
		return ch, idx
	}
	ch0, idx0 := nic("eth0", "10.0.0.1/24")
	ch1, idx1 := nic("eth1", "10.1.0.1/24")
	if err := s.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.0.254"), idx0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts []byte // IP_OPTIONS
		tos  bool   // an IP_TOS message
	}{
		{name: "plain"},
		{name: "IP_TOS message", tos: true},
		{name: "IP_OPTIONS", opts: []byte{7, 7, 4, 0, 0, 0, 0, 0}},
	} {
		so, err := New(s, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
		if err != nil {
			t.Fatal(err)
		}
		if err := so.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, lmreqn(netip.IPv4Unspecified(), int32(idx1))); err != nil {
			t.Fatal(err)
		}
		if c.opts != nil {
			if err := so.SetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, c.opts); err != nil {
				t.Fatal(err)
			}
		}
		var oob []byte
		if c.tos {
			oob = cmsgBytes(unix.SOL_IP, unix.IP_TOS, []byte{0x10, 0, 0, 0})
		}
		if _, err := so.SendMsg(make([]byte, 16), oob, sa("239.1.2.3:0"), 0); err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		so.Close()
		if p := ch0.Read(); p != nil {
			p.DecRef()
			t.Errorf("%s: the datagram left through eth0, not IP_MULTICAST_IF's eth1", c.name)
			continue
		}
		p := ch1.Read()
		if p == nil {
			t.Errorf("%s: nothing left through eth1", c.name)
			continue
		}
		v := p.ToView()
		if src := header.IPv4(v.AsSlice()).SourceAddress(); src.String() != "10.1.0.1" {
			t.Errorf("%s: source %s, want eth1's 10.1.0.1", c.name, src)
		}
		v.Release()
		p.DecRef()
	}
}
