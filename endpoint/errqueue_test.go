package endpoint

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

// errqWorld is a stack at 10.0.0.1/24 on a channel NIC (ifindex 2) and a
// UDP socket bound to 10.0.0.1:4000 with IP_RECVERR on.
func errqWorld(t *testing.T) (*stack.Stack, *channel.Endpoint, *udpSock) {
	t.Helper()
	s := newStack(t, stack.AllCaps, nil)
	ch := channel.New(64, 1500, "")
	idx, err := s.AddInterface("eth0", ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAddress(idx, netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoute(netip.MustParsePrefix("10.0.0.0/24"), netip.Addr{}, idx); err != nil {
		t.Fatal(err)
	}
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	if err := so.Bind(sa("10.0.0.1:4000")); err != nil {
		t.Fatal(err)
	}
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	return s, ch, so.(*udpSock)
}

// icmpErrFrame builds an ICMP error from 10.0.0.254 (TTL ttl) to 10.0.0.1
// quoting a UDP datagram 10.0.0.1:4000 -> 10.0.0.9:53 carrying payload.
func icmpErrFrame(typ, code uint8, rest uint32, ttl uint8, payload []byte) []byte {
	q := make([]byte, 28+len(payload))
	header.IPv4(q).Encode(&header.IPv4Fields{TotalLength: uint16(len(q)), TTL: 1, Protocol: 17,
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 9})})
	header.UDP(q[20:]).Encode(&header.UDPFields{SrcPort: 4000, DstPort: 53, Length: uint16(8 + len(payload))})
	copy(q[28:], payload)
	n := 20 + 8 + len(q)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(n), TTL: ttl, Protocol: 1,
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 254}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1})})
	ip.SetChecksum(^ip.CalculateChecksum())
	ic := header.ICMPv4(b[20:])
	ic.SetType(header.ICMPv4Type(typ))
	ic.SetCode(header.ICMPv4Code(code))
	binary.BigEndian.PutUint32(b[24:28], rest)
	copy(b[28:], q)
	ic.SetChecksum(0)
	ic.SetChecksum(header.ICMPv4Checksum(ic, 0))
	return b
}

func injectFrame(ch *channel.Endpoint, b []byte) {
	pkt := gstack.NewPacketBuffer(gstack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
	ch.InjectInbound(header.IPv4ProtocolNumber, pkt)
	pkt.DecRef()
}

// cmsgBytes is one control message as Linux lays it out on x86_64.
func cmsgBytes(level, typ int32, data []byte) []byte {
	b := make([]byte, 16, 16+len(data)+7)
	binary.NativeEndian.PutUint64(b[0:8], uint64(16+len(data)))
	binary.NativeEndian.PutUint32(b[8:12], uint32(level))
	binary.NativeEndian.PutUint32(b[12:16], uint32(typ))
	b = append(b, data...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// recvErrData is the IP_RECVERR payload: sock_extended_err + offender.
func recvErrData(errno uint32, origin, typ, code uint8, info uint32, offender []byte) []byte {
	b := make([]byte, 32)
	binary.NativeEndian.PutUint32(b[0:4], errno)
	b[4], b[5], b[6] = origin, typ, code
	binary.NativeEndian.PutUint32(b[8:12], info)
	copy(b[16:], offender)
	return b
}

// waitErr waits (bounded) for EPOLLERR.
func waitErr(t *testing.T, u *udpSock) {
	t.Helper()
	if r, err := u.Wait(unix.EPOLLERR, time.Now().Add(time.Second)); err != nil || r&unix.EPOLLERR == 0 {
		t.Fatalf("no EPOLLERR: %#x %v", r, err)
	}
}

// Every byte of an error-queue message for an ICMP error: payload,
// MSG_ERRQUEUE, msg_name, IP_PKTINFO/IP_TTL about the ICMP packet and the
// sock_extended_err with its offender; sk_err is set then cleared by the
// read.
func TestErrQueueICMPMessageBytes(t *testing.T) {
	_, ch, u := errqWorld(t)
	for _, o := range []int{unix.IP_PKTINFO, unix.IP_RECVTTL} {
		if err := u.SetSockOpt(unix.SOL_IP, o, intOpt(1)); err != nil {
			t.Fatal(err)
		}
	}
	injectFrame(ch, icmpErrFrame(3, 4, 1200, 61, []byte("quoted")))
	waitErr(t, u)
	if n, _ := u.GetSockOpt(unix.SOL_IP, unix.IP_MTU, make([]byte, 4)); n != 0 {
		t.Errorf("IP_MTU on an unconnected socket answered %d bytes", n)
	}
	p, oob := make([]byte, 64), make([]byte, 256)
	n, oobn, fl, from, err := u.RecvMsg(p, oob, unix.MSG_ERRQUEUE)
	if err != nil {
		t.Fatal(err)
	}
	if string(p[:n]) != "quoted" || fl != unix.MSG_ERRQUEUE || !bytes.Equal(from, sa("10.0.0.9:53")) {
		t.Errorf("got %q flags %#x from %x", p[:n], fl, from)
	}
	pktinfo := make([]byte, 12)
	binary.NativeEndian.PutUint32(pktinfo[0:4], 2)
	copy(pktinfo[8:12], []byte{10, 0, 0, 1})
	ttl := make([]byte, 4)
	binary.NativeEndian.PutUint32(ttl, 61)
	want := append(cmsgBytes(unix.SOL_IP, unix.IP_PKTINFO, pktinfo), cmsgBytes(unix.SOL_IP, unix.IP_TTL, ttl)...)
	want = append(want, cmsgBytes(unix.SOL_IP, unix.IP_RECVERR, recvErrData(uint32(unix.EMSGSIZE), unix.SO_EE_ORIGIN_ICMP, 3, 4, 1200, sa("10.0.0.254:0")))...)
	if !bytes.Equal(oob[:oobn], want) {
		t.Errorf("cmsgs\n got %x\nwant %x", oob[:oobn], want)
	}
	if r := u.Readiness(unix.EPOLLERR); r != 0 {
		t.Errorf("EPOLLERR after the queue emptied")
	}
	if _, _, _, _, err := u.RecvMsg(p, oob, unix.MSG_ERRQUEUE); err != unix.EAGAIN {
		t.Errorf("empty queue: %v, want EAGAIN", err)
	}
}

// Two errors: reading the first moves sk_err to the second; MSG_TRUNC
// and MSG_CTRUNC cut as put_cmsg does; a recv without MSG_ERRQUEUE takes
// the pending error.
func TestErrQueueOrderTruncation(t *testing.T) {
	_, ch, u := errqWorld(t)
	injectFrame(ch, icmpErrFrame(11, 0, 0, 64, []byte("first-error")))
	injectFrame(ch, icmpErrFrame(3, 3, 0, 64, []byte("second")))
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		u.mu.Lock()
		l := u.errq.len()
		u.mu.Unlock()
		if l == 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p, oob := make([]byte, 5), make([]byte, 40)
	n, oobn, fl, _, err := u.RecvMsg(p, oob, unix.MSG_ERRQUEUE)
	if err != nil || n != 5 || string(p) != "first" || fl != unix.MSG_ERRQUEUE|unix.MSG_TRUNC|unix.MSG_CTRUNC || oobn != 40 {
		t.Errorf("first: n %d %q flags %#x oobn %d err %v", n, p[:n], fl, oobn, err)
	}
	// put_cmsg cuts the message to the room left: cmsg_len 40.
	if l := binary.NativeEndian.Uint64(oob[0:8]); l != 40 {
		t.Errorf("cmsg_len of the cut message %d, want 40", l)
	}
	_, _, _, _, err = u.RecvMsg(make([]byte, 8), nil, unix.MSG_DONTWAIT)
	if err != unix.ECONNREFUSED {
		t.Errorf("recv after the first error: %v, want ECONNREFUSED (the next one's errno)", err)
	}
	n, _, _, _, err = u.RecvMsg(make([]byte, 64), nil, unix.MSG_ERRQUEUE)
	if err != nil || n != 6 {
		t.Errorf("second: %d %v", n, err)
	}
	b := make([]byte, 4)
	if _, err := u.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b); err != nil || binary.NativeEndian.Uint32(b) != 0 {
		t.Errorf("SO_ERROR %d (%v) after the queue emptied", binary.NativeEndian.Uint32(b), err)
	}
}

// Turning IP_RECVERR off purges the queue and gives back its charge;
// without IP_RECVERR an unconnected socket hears nothing.
func TestErrQueuePurgeAndOff(t *testing.T) {
	_, ch, u := errqWorld(t)
	injectFrame(ch, icmpErrFrame(3, 1, 0, 64, []byte("x")))
	waitErr(t, u)
	if err := u.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, []byte{0}); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	l, rmem, soErr := u.errq.len(), u.rmem, u.soErr
	u.mu.Unlock()
	if l != 0 || rmem != 0 || soErr != unix.EHOSTUNREACH {
		t.Errorf("after off: queue %d rmem %d sk_err %v; want 0, 0, EHOSTUNREACH", l, rmem, soErr)
	}
	u.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, make([]byte, 4))
	injectFrame(ch, icmpErrFrame(3, 3, 0, 64, []byte("x")))
	time.Sleep(100 * time.Millisecond)
	if r := u.Readiness(unix.EPOLLERR); r != 0 {
		t.Errorf("unconnected socket without IP_RECVERR got an error")
	}
}

// A send above the path MTU with DO queues a local error: no data, the
// destination with port 0 (unconnected), origin LOCAL, ee_info = MTU, no
// offender and no IP cmsgs; sk_err stays clear.
func TestErrQueueLocalError(t *testing.T) {
	s, _, u := errqWorld(t)
	u.SetSockOpt(unix.SOL_IP, unix.IP_PKTINFO, intOpt(1))
	u.SetSockOpt(unix.SOL_IP, unix.IP_MTU_DISCOVER, intOpt(unix.IP_PMTUDISC_DO))
	s.LearnPMTU(netip.MustParseAddr("10.0.0.9"), 1000)
	if _, err := u.SendMsg(make([]byte, 1000), nil, sa("10.0.0.9:53"), 0); err != unix.EMSGSIZE {
		t.Fatalf("send: %v, want EMSGSIZE", err)
	}
	if r := u.Readiness(unix.EPOLLERR); r == 0 {
		t.Error("no EPOLLERR for a queued local error")
	}
	oob := make([]byte, 128)
	n, oobn, fl, from, err := u.RecvMsg(make([]byte, 8), oob, unix.MSG_ERRQUEUE)
	if err != nil || n != 0 || fl != unix.MSG_ERRQUEUE || !bytes.Equal(from, sa("10.0.0.9:0")) {
		t.Errorf("n %d flags %#x from %x err %v", n, fl, from, err)
	}
	want := cmsgBytes(unix.SOL_IP, unix.IP_RECVERR, recvErrData(uint32(unix.EMSGSIZE), unix.SO_EE_ORIGIN_LOCAL, 0, 0, 1000, nil))
	if !bytes.Equal(oob[:oobn], want) {
		t.Errorf("cmsgs\n got %x\nwant %x", oob[:oobn], want)
	}
	if err := u.Connect(sa("10.0.0.9:53")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if n, err := u.GetSockOpt(unix.SOL_IP, unix.IP_MTU, b); err != nil || n != 4 || binary.NativeEndian.Uint32(b) != 1000 {
		t.Errorf("IP_MTU: %d %v %d, want 1000", n, err, binary.NativeEndian.Uint32(b))
	}
}
