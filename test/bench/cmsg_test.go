package bench

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// The datagram benchmarks with IP_PKTINFO, IP_RECVTTL and IP_RECVTOS on at
// the receiver: what a DNS server or a traceroute reads per datagram.

// BenchmarkUDPCmsgNetsandbox is BenchmarkUDPNetsandbox with the three
// receive control messages on; recvmsg writes them into the caller's oob
// buffer.
func BenchmarkUDPCmsgNetsandbox(b *testing.B) {
	tx, rx, dst := nsUDPPair(b)
	one := []byte{1, 0, 0, 0}
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL, unix.IP_RECVTOS} {
		if err := rx.SetSockOpt(unix.SOL_IP, o, one); err != nil {
			b.Fatal(err)
		}
	}
	p, buf, oob := make([]byte, payloadSize), make([]byte, 2048), make([]byte, 128)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := tx.SendMsg(p, nil, dst, 0); err != nil {
			b.Fatal(err)
		}
		n, oobn, _, _, err := rx.RecvMsg(buf, oob, 0)
		if err != nil || n != payloadSize || oobn != cmsgBytes {
			b.Fatalf("recvmsg: %d, %d, %v", n, oobn, err)
		}
	}
}

// cmsgBytes is the room IP_PKTINFO, IP_TTL and IP_TOS take.
var cmsgBytes = options.CmsgSpace(12) + options.CmsgSpace(4) + options.CmsgSpace(1)

// BenchmarkUDPCmsgGvisor is BenchmarkUDPGvisor with gVisor's receive
// options for the same three messages on (SocketOptions), and the values
// it returns encoded into an oob buffer as a socket layer must
// (options.CmsgBuilder, which allocates nothing).
func BenchmarkUDPCmsgGvisor(b *testing.B) {
	oob := make([]byte, 128)
	gvisorUDPRoundTrips(b, func(so *tcpip.SocketOptions) {
		so.SetReceivePacketInfo(true)
		so.SetReceiveTTL(true)
		so.SetReceiveTOS(true)
	}, func(res tcpip.ReadResult) {
		if n := encodeGvisorCmsgs(oob, &res.ControlMessages); n != cmsgBytes {
			b.Fatalf("cmsgs: %d bytes", n)
		}
	})
}

// encodeGvisorCmsgs writes gVisor's received IP_PKTINFO, IP_TTL and IP_TOS
// into oob in Linux's order.
func encodeGvisorCmsgs(oob []byte, cm *tcpip.ReceivableControlMessages) int {
	cb := options.NewCmsgBuilder(oob)
	if cm.HasIPPacketInfo {
		pi := options.InPktinfo{
			IfIndex: int32(cm.PacketInfo.NIC),
			SpecDst: netip.AddrFrom4(cm.PacketInfo.LocalAddr.As4()),
			Addr:    netip.AddrFrom4(cm.PacketInfo.DestinationAddr.As4()),
		}
		enc := pi.Encode()
		cb.Put(unix.SOL_IP, unix.IP_PKTINFO, enc[:])
	}
	if cm.HasTTL {
		cb.PutInt32(unix.SOL_IP, unix.IP_TTL, int32(cm.TTL))
	}
	if cm.HasTOS {
		tos := [1]byte{cm.TOS}
		cb.Put(unix.SOL_IP, unix.IP_TOS, tos[:])
	}
	return cb.Len()
}

// cpuTime is the process's CPU time so far (user and system, all threads).
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startCPU starts measuring; the returned func reports cpu-ns/op, the
// CPU time the whole process spent per datagram (both stacks, the wire's
// goroutine, the collector). Unlike ns/op it does not grow with other
// load on the machine, which shares its cores with other work.
func startCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}
