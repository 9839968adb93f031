package endpoint

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// icmpErrQuoting builds an ICMP error from 10.0.0.254 to 10.0.0.1 quoting
// the IPv4 datagram 10.0.0.1 -> 10.0.0.9 of protocol proto carrying th.
func icmpErrQuoting(typ, code uint8, proto uint8, th []byte) []byte {
	q := make([]byte, 20+len(th))
	header.IPv4(q).Encode(&header.IPv4Fields{TotalLength: uint16(len(q)), TTL: 1, Protocol: proto,
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 9})})
	copy(q[20:], th)
	b := make([]byte, 28+len(q))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: 1,
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 254}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1})})
	ip.SetChecksum(^ip.CalculateChecksum())
	ic := header.ICMPv4(b[20:])
	ic.SetType(header.ICMPv4Type(typ))
	ic.SetCode(header.ICMPv4Code(code))
	copy(b[28:], q)
	ic.SetChecksum(0)
	ic.SetChecksum(header.ICMPv4Checksum(ic, 0))
	return b
}

// echo is an ICMP echo request header with identifier id and data.
func echo(id uint16, data string) []byte {
	b := make([]byte, 8+len(data))
	b[0] = 8
	binary.BigEndian.PutUint16(b[4:6], id)
	copy(b[8:], data)
	return b
}

// A ping socket with IP_RECVERR gets the errors quoting its echo requests
// (found by identifier), data from the quoted ICMP header on, msg_name
// with port 0; a raw ICMP socket gets them without IP_RECVERR only when
// connected and hard.
func TestErrQueuePingAndRaw(t *testing.T) {
	s, ch, _ := errqWorld(t)
	if err := s.Sysctl().Set("net.ipv4.ping_group_range", "0 0"); err != nil {
		t.Fatal(err)
	}
	ping, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer ping.Close()
	if err := ping.Bind(sa("10.0.0.1:777")); err != nil {
		t.Fatal(err)
	}
	ping.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, intOpt(1))
	raw, err := New(s, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Connect(sa("10.0.0.9:0")); err != nil {
		t.Fatal(err)
	}

	injectFrame(ch, icmpErrQuoting(11, 0, 1, echo(778, "other")))
	injectFrame(ch, icmpErrQuoting(3, 2, 1, echo(777, "mine")))
	if r, err := ping.Wait(unix.EPOLLERR, time.Now().Add(time.Second)); err != nil || r == 0 {
		t.Fatalf("ping: no EPOLLERR (%v)", err)
	}
	p, oob := make([]byte, 64), make([]byte, 128)
	n, oobn, fl, from, err := ping.RecvMsg(p, oob, unix.MSG_ERRQUEUE)
	if err != nil || !bytes.Equal(p[:n], echo(777, "mine")) || fl != unix.MSG_ERRQUEUE || !bytes.Equal(from, sa("10.0.0.9:0")) {
		t.Errorf("ping errqueue: %x flags %#x from %x err %v", p[:n], fl, from, err)
	}
	want := cmsgBytes(unix.SOL_IP, unix.IP_RECVERR, recvErrData(uint32(unix.ENOPROTOOPT), unix.SO_EE_ORIGIN_ICMP, 3, 2, 0, sa("10.0.0.254:0")))
	if !bytes.Equal(oob[:oobn], want) {
		t.Errorf("ping cmsgs\n got %x\nwant %x", oob[:oobn], want)
	}
	if _, _, _, _, err := ping.RecvMsg(p, nil, unix.MSG_ERRQUEUE); err != unix.EAGAIN {
		t.Errorf("the other identifier's error reached the socket: %v", err)
	}

	// Protocol unreachable is hard: the connected raw socket has it
	// pending (no queue without IP_RECVERR).
	if r, err := raw.Wait(unix.EPOLLERR, time.Now().Add(time.Second)); err != nil || r == 0 {
		t.Fatalf("raw: no EPOLLERR (%v)", err)
	}
	if _, _, _, _, err := raw.RecvMsg(p, nil, unix.MSG_ERRQUEUE); err != unix.EAGAIN {
		t.Errorf("raw errqueue without IP_RECVERR: %v", err)
	}
	if _, _, _, _, err := raw.RecvMsg(p, nil, unix.MSG_DONTWAIT); err != unix.ENOPROTOOPT {
		t.Errorf("raw recv: %v, want the pending ENOPROTOOPT", err)
	}
	b := make([]byte, 4)
	if _, err := raw.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b); err != nil || binary.NativeEndian.Uint32(b) != 0 {
		t.Errorf("SO_ERROR after the recv took it: %d %v", binary.NativeEndian.Uint32(b), err)
	}
}
