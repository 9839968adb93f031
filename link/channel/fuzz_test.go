package channel

import (
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// FuzzInject writes arbitrary frames into gVisor stacks through the wire,
// one with Ethernet framing and one bare IP. Whatever the stacks send back
// must be a well-formed frame from them: Ethernet from the stack's MAC, or
// an IP packet of the right version.
func FuzzInject(f *testing.F) {
	peer, local := netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")
	echo := echoRequest(peer, local, 1, 1, []byte("seed"))
	eth := make([]byte, header.EthernetMinimumSize, header.EthernetMinimumSize+len(echo))
	header.Ethernet(eth).Encode(&header.EthernetFields{SrcAddr: macA, DstAddr: macB, Type: header.IPv4ProtocolNumber})
	f.Add(append(eth, echo...))
	f.Add(echo)
	f.Add(echo[:header.IPv4MinimumSize])
	f.Add([]byte{0x46, 0, 0, 24, 0, 0, 0, 0, 64, 1, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2, 1, 1, 1, 1})

	raw, ether := New(1500, ""), New(1500, macB)
	newGvisorStack(f, raw, netip.MustParsePrefix("10.9.0.2/24"))
	newGvisorStack(f, ether, netip.MustParsePrefix("10.9.0.2/24"))

	f.Fuzz(func(t *testing.T, frame []byte) {
		raw.Inject(frame)
		ether.Inject(frame)
		for out, ok := raw.TryRead(); ok; out, ok = raw.TryRead() {
			if v := header.IPVersion(out); v != header.IPv4Version {
				t.Fatalf("bare-IP stack sent a frame of IP version %d: %x", v, out)
			}
		}
		for out, ok := ether.TryRead(); ok; out, ok = ether.TryRead() {
			if len(out) < header.EthernetMinimumSize || header.Ethernet(out).SourceAddress() != macB {
				t.Fatalf("Ethernet stack sent a frame not from its MAC: %x", out)
			}
		}
	})
}
