package stack_test

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// A port unreachable from the peer reaches the binding that sent the
// datagram, with the quoted addresses and payload.
func TestICMPErrorReachesBinding(t *testing.T) {
	a, _ := pair(t)
	r := newRecorder()
	b := bind(t, a, r, "0.0.0.0:4000", stack.UDPBindFlags{})
	if err := b.Connect(ap("10.0.0.2:4001")); err != nil {
		t.Fatal(err)
	}
	if err := a.SendUDP(&stack.UDPSend{Src: b.Local(), Dst: ap("10.0.0.2:4001"), Payload: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	e := r.nextErr(t)
	want := stack.ICMPError{
		Type: 3, Code: 3, Offender: netip.MustParseAddr("10.0.0.2"),
		Src: ap("10.0.0.1:4000"), Dst: ap("10.0.0.2:4001"), IfIndex: 2, TTL: 64, PayloadOffset: 28,
	}
	payload := e.Payload
	e.Payload, want.Payload = nil, nil
	if !reflect.DeepEqual(e, want) || !bytes.Equal(payload, []byte("hello")) {
		t.Errorf("got %+v payload %q, want %+v payload \"hello\"", e, payload, want)
	}
}

// A forged fragmentation-needed carries its MTU as Info; a quote that is
// not UDP, or is cut inside the UDP header, is dropped.
func TestICMPErrorParsing(t *testing.T) {
	s := newStack(t, stack.Config{})
	ch, _ := attach(t, s, "10.0.0.1/24")
	r := newRecorder()
	bind(t, s, r, "0.0.0.0:4000", stack.UDPBindFlags{})
	orig := udpPacket([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 9}, 4000, 53, []byte("xyz"))

	inject(ch, icmpError([4]byte{10, 0, 0, 254}, [4]byte{10, 0, 0, 1}, 3, 4, 1200, orig))
	e := r.nextErr(t)
	if e.Type != 3 || e.Code != 4 || e.Info != 1200 || e.Offender != netip.MustParseAddr("10.0.0.254") ||
		e.Dst != ap("10.0.0.9:53") || string(e.Payload) != "xyz" {
		t.Errorf("frag needed: got %+v", e)
	}

	inject(ch, icmpError([4]byte{10, 0, 0, 254}, [4]byte{10, 0, 0, 1}, 3, 3, 0, orig[:header.IPv4MinimumSize+4]))
	select {
	case e := <-r.errs:
		t.Errorf("truncated quote delivered: %+v", e)
	default:
	}
}

// icmpError builds an ICMP destination-unreachable packet quoting orig.
func icmpError(src, dst [4]byte, typ, code uint8, mtu uint16, orig []byte) []byte {
	n := header.IPv4MinimumSize + header.ICMPv4MinimumSize + len(orig)
	b := make([]byte, n)
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(n), TTL: 64, Protocol: uint8(header.ICMPv4ProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(src), DstAddr: tcpip.AddrFrom4(dst),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	ic := header.ICMPv4(b[header.IPv4MinimumSize:])
	ic.SetType(header.ICMPv4Type(typ))
	ic.SetCode(header.ICMPv4Code(code))
	ic.SetMTU(mtu)
	copy(ic.Payload(), orig)
	ic.SetChecksum(0)
	ic.SetChecksum(header.ICMPv4Checksum(ic, 0))
	return b
}
