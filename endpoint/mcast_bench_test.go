package endpoint

import (
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/options"
)

// benchDatagram is an IPv4/UDP datagram from 10.9.0.2:4000 to dst:5000.
func benchDatagram(dst netip.Addr) []byte {
	const payload = 32
	n := header.IPv4MinimumSize + header.UDPMinimumSize + payload
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(n), TTL: 1, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 9, 0, 2}), DstAddr: tcpip.AddrFrom4(dst.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	header.UDP(b[header.IPv4MinimumSize:]).Encode(&header.UDPFields{SrcPort: 4000, DstPort: 5000, Length: header.UDPMinimumSize + payload})
	return b
}

// BenchmarkMulticastSourceFilter measures one datagram from the link to
// recvmsg on a socket whose membership excludes n other sources (the host
// filter and the socket filter both consult them), beside the same path
// for a unicast datagram ("unfiltered"). The cost must not grow with n.
func BenchmarkMulticastSourceFilter(b *testing.B) {
	cases := []int{-1, 1, 10, 1000, 100000}
	for _, n := range cases {
		name := "unfiltered"
		if n >= 0 {
			name = "sources=" + strconv.Itoa(n)
		}
		b.Run(name, func(b *testing.B) {
			s := newStack(b, 0, map[string]string{
				"net.ipv4.igmp_max_msf": "200000",
				"net.core.optmem_max":   "2000000",
				"net.core.rmem_default": "16777216",
				"net.core.rmem_max":     "16777216",
			})
			ch := channel.New(16, 1500, "")
			idx, err := s.AddInterface("eth0", ch)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.AddAddress(idx, netip.MustParsePrefix("10.9.0.1/24")); err != nil {
				b.Fatal(err)
			}
			so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer so.Close()
			if err := so.Bind(sa("0.0.0.0:5000")); err != nil {
				b.Fatal(err)
			}
			dst := netip.MustParseAddr("10.9.0.1")
			if n >= 0 {
				dst = netip.MustParseAddr("239.5.5.5")
				f := options.IPMsfilter{Multiaddr: dst, Interface: netip.MustParseAddr("10.9.0.1"), Fmode: unix.MCAST_EXCLUDE}
				for i := range n {
					f.Sources = append(f.Sources, netip.AddrFrom4([4]byte{172, 16 + byte(i>>16), byte(i >> 8), byte(i)}))
				}
				if err := so.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(dst, int32(idx))); err != nil {
					b.Fatal(err)
				}
				if err := so.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, options.AppendIPMsfilter(nil, f, uint32(n))); err != nil {
					b.Fatal(fmt.Errorf("IP_MSFILTER with %d sources: %w", n, err))
				}
				// Let the state-change reports (the last within about a second,
				// robustness times) finish: they are not per-datagram cost.
				time.Sleep(2500 * time.Millisecond)
			}
			runtime.GC()
			frame := benchDatagram(dst)
			buf := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
				ch.InjectInbound(header.IPv4ProtocolNumber, pkt)
				pkt.DecRef()
				if _, _, _, _, err := so.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err != nil {
					b.Fatalf("datagram not delivered: %v", err)
				}
			}
		})
	}
}
