package gateway

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// tcpSegment is a TCP segment from the sandbox's address and port sport
// to dst.
func tcpSegment(dst netip.AddrPort, sport uint16, seq, ack uint32, flags header.TCPFlags) []byte {
	b := make([]byte, header.TCPMinimumSize)
	tcp := header.TCP(b)
	tcp.Encode(&header.TCPFields{SrcPort: sport, DstPort: dst.Port(), SeqNum: seq, AckNum: ack,
		DataOffset: header.TCPMinimumSize, Flags: flags, WindowSize: 64240})
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, tcpip.AddrFrom4(testSandbox.Addr().As4()),
		tcpip.AddrFrom4(dst.Addr().As4()), uint16(len(b)))
	tcp.SetChecksum(^checksum.Checksum(b, sum))
	return b
}

// TestTCPNoResetForReset: a SYN to an open port gets its SYN-ACK; the RST
// the sandbox answers it with (its kernel knows no such connection) ends
// the half-open connection and gets nothing back (RFC 9293 3.10.7: a reset
// is never answered).
func TestTCPNoResetForReset(t *testing.T) {
	l := hostTCPEcho(t)
	dst := netip.AddrPortFrom(testGateway, uint16(l.Addr().(*net.TCPAddr).Port))
	p := newPair(t, Config{AllowHostLoopback: true})
	s, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const sport, iss = 40123, 1000
	send := func(seg []byte) {
		if _, err := s.SendMsg(seg, nil, options.SockaddrIn(netip.AddrPortFrom(dst.Addr(), 0)), 0); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the flags of the segments to sport seen during wait.
	read := func(wait time.Duration, until header.TCPFlags) (segs []header.TCP) {
		deadline := time.Now().Add(wait)
		buf := make([]byte, 2048)
		for time.Now().Before(deadline) {
			if ev, _ := s.Wait(unix.EPOLLIN, deadline); ev == 0 {
				break
			}
			n, _, _, _, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil || n < 20 {
				continue
			}
			ihl := int(buf[0]&0xf) * 4
			if n < ihl+header.TCPMinimumSize {
				continue
			}
			tcp := header.TCP(append([]byte(nil), buf[ihl:n]...))
			if tcp.DestinationPort() == sport {
				segs = append(segs, tcp)
				if until != 0 && tcp.Flags() == until {
					return segs
				}
			}
		}
		return segs
	}
	send(tcpSegment(dst, sport, iss, 0, header.TCPFlagSyn))
	var synack header.TCP
	for _, seg := range read(3*time.Second, header.TCPFlagSyn|header.TCPFlagAck) {
		if seg.Flags() == header.TCPFlagSyn|header.TCPFlagAck {
			synack = seg
			break
		}
	}
	if synack == nil {
		t.Fatal("no SYN-ACK for a SYN to an open port")
	}
	send(tcpSegment(dst, sport, iss+1, 0, header.TCPFlagRst))
	for _, seg := range read(1500*time.Millisecond, 0) {
		if seg.Flags().Contains(header.TCPFlagRst) {
			t.Errorf("the gateway answered the sandbox's RST with %v (seq %d ack %d): a reset is never answered", seg.Flags(), seg.SequenceNumber(), seg.AckNumber())
		}
	}
}
