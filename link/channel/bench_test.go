package channel

import (
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// BenchmarkJoinUDPRoundTrip measures one UDP request and answer between two
// gVisor stacks over a joined wire: four frame crossings per op.
func BenchmarkJoinUDPRoundTrip(b *testing.B) {
	epA, epB := New(1500, macA), New(1500, macB)
	sa := newGvisorStack(b, epA, netip.MustParsePrefix("10.9.0.1/24"))
	sb := newGvisorStack(b, epB, netip.MustParsePrefix("10.9.0.2/24"))
	stop := Join(epA, epB)
	defer stop()
	addrA, addrB := netip.MustParseAddrPort("10.9.0.1:4000"), netip.MustParseAddrPort("10.9.0.2:5000")
	cb, err := gonet.DialUDP(sb, ptr(fullAddr(addrB)), ptr(fullAddr(addrA)), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer cb.Close()
	ca, err := gonet.DialUDP(sa, ptr(fullAddr(addrA)), ptr(fullAddr(addrB)), ipv4.ProtocolNumber)
	if err != nil {
		b.Fatal(err)
	}
	defer ca.Close()
	msg, buf := make([]byte, 64), make([]byte, 128)
	ca.SetDeadline(time.Now().Add(time.Minute))
	cb.SetDeadline(time.Now().Add(time.Minute))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := ca.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := cb.Read(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := cb.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := ca.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
