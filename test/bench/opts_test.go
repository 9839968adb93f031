package bench

import (
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

func udpSocket(b *testing.B) endpoint.Socket {
	s, err := stack.New(stack.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	so, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { so.Close() })
	return so
}

// BenchmarkSetsockoptIPTTL is setsockopt(IP_TTL) on a netsandbox UDP socket.
func BenchmarkSetsockoptIPTTL(b *testing.B) {
	so := udpSocket(b)
	val := []byte{64, 0, 0, 0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		val[0] = byte(1 + i%255)
		if err := so.SetSockOpt(unix.SOL_IP, unix.IP_TTL, val); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetsockoptIPTTL is getsockopt(IP_TTL) on a netsandbox UDP socket.
func BenchmarkGetsockoptIPTTL(b *testing.B) {
	so := udpSocket(b)
	buf := make([]byte, 4)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := so.GetSockOpt(unix.SOL_IP, unix.IP_TTL, buf); err != nil || n != 4 {
			b.Fatalf("getsockopt: %d, %v", n, err)
		}
	}
}

// BenchmarkSetsockoptIPTTLKernel and BenchmarkGetsockoptIPTTLKernel are
// the same calls on a kernel socket (a system call each).
func BenchmarkSetsockoptIPTTLKernel(b *testing.B) {
	fd := kernelUDP(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TTL, 1+i%255); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetsockoptIPTTLKernel(b *testing.B) {
	fd := kernelUDP(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := unix.GetsockoptInt(fd, unix.SOL_IP, unix.IP_TTL); err != nil {
			b.Fatal(err)
		}
	}
}

func kernelUDP(b *testing.B) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	return fd
}

// BenchmarkCmsgBuilder encodes the control messages of a typical UDP
// recvmsg (IP_PKTINFO, IP_TTL, IP_TOS) into a caller's buffer.
func BenchmarkCmsgBuilder(b *testing.B) {
	buf := make([]byte, 256)
	pktinfo := make([]byte, 12)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cb := options.NewCmsgBuilder(buf)
		cb.Put(unix.SOL_IP, unix.IP_PKTINFO, pktinfo)
		cb.PutInt32(unix.SOL_IP, unix.IP_TTL, 64)
		cb.Put(unix.SOL_IP, unix.IP_TOS, []byte{0})
		if cb.Len() != 80 || cb.Flags() != 0 {
			b.Fatalf("built %d bytes, flags %#x", cb.Len(), cb.Flags())
		}
	}
}
