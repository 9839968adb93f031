package bench

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// tcpChunk is what one iteration of the TCP benchmark moves.
const tcpChunk = 64 << 10

// BenchmarkTCPBulkNetsandbox moves tcpChunk bytes per iteration from a
// connected netsandbox TCP socket on stack A to the accepted socket on
// stack B (blocking sendmsg, then recvmsg until all arrived), over the
// same 1500-byte channel wire as the UDP benchmarks: about 45 segments
// and their ACKs per iteration, each through the IPv4 wrapper.
func BenchmarkTCPBulkNetsandbox(b *testing.B) {
	la, lb := joinedLinks(b)
	sa, sb := nsStack(b, la, addrA), nsStack(b, lb, addrB)
	ln, err := endpoint.New(sb, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	dst := options.SockaddrIn(netip.AddrPortFrom(addrB, 9001))
	if err := ln.Bind(dst); err != nil {
		b.Fatal(err)
	}
	if err := ln.Listen(1); err != nil {
		b.Fatal(err)
	}
	tx, err := endpoint.New(sa, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	if err := tx.Connect(dst); err != nil {
		b.Fatal(err)
	}
	rx, _, err := ln.Accept(0)
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	p, buf := make([]byte, tcpChunk), make([]byte, tcpChunk)
	b.SetBytes(tcpChunk)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if n, err := tx.SendMsg(p, nil, nil, 0); err != nil || n != tcpChunk {
			b.Fatalf("sendmsg: %d, %v", n, err)
		}
		for got := 0; got < tcpChunk; {
			n, _, _, _, err := rx.RecvMsg(buf[got:], nil, 0)
			if err != nil || n == 0 {
				b.Fatalf("recvmsg: %d, %v", n, err)
			}
			got += n
		}
	}
}
