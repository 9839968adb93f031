package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/waiter"

	"netsandbox/stack"
)

func TestUDPMulticastFanOut(t *testing.T) {
	a, b := pair(t)
	group := tcpip.AddrFrom4([4]byte{239, 1, 2, 3})
	if e := b.Gvisor().JoinGroup(header.IPv4ProtocolNumber, 2, group); e != nil {
		t.Fatalf("JoinGroup B: %v", e)
	}
	if e := a.Gvisor().JoinGroup(header.IPv4ProtocolNumber, 2, group); e != nil {
		t.Fatalf("JoinGroup A: %v", e)
	}
	r1, r2, rg := newRecorder(), newRecorder(), newRecorder()
	bind(t, b, r1, "0.0.0.0:7000", stack.UDPBindFlags{ReuseAddr: true})
	bind(t, b, r2, "0.0.0.0:7000", stack.UDPBindFlags{ReuseAddr: true})
	bind(t, b, rg, "239.1.2.3:7000", stack.UDPBindFlags{ReuseAddr: true})
	self := newRecorder()
	bind(t, a, self, "0.0.0.0:7000", stack.UDPBindFlags{})

	m := stack.UDPSend{Src: ap("10.0.0.1:7001"), Dst: ap("239.1.2.3:7000"), IfIndex: 2, TTL: 1, Payload: []byte("m")}
	if err := a.SendUDP(&m); err != nil {
		t.Fatalf("send: %v", err)
	}
	// Every matching socket gets a copy, including one bound to the group.
	for i, r := range []*recorder{r1, r2, rg} {
		if d := r.next(t); d.Dst != m.Dst || !bytes.Equal(d.Payload, m.Payload) || d.TTL != 1 {
			t.Errorf("receiver %d got %+v", i, d)
		}
	}
	// The sender's own member socket gets the looped-back copy...
	if d := self.next(t); d.Dst != m.Dst {
		t.Errorf("looped copy %+v", d)
	}
	// ...unless loopback is off.
	m.NoMulticastLoop = true
	if err := a.SendUDP(&m); err != nil {
		t.Fatalf("send: %v", err)
	}
	r1.next(t)
	self.none(t)
}

func TestRawUDPSocket(t *testing.T) {
	s := newStack(t, stack.Config{})
	var wq waiter.Queue
	s.RawOpened(int(header.UDPProtocolNumber))
	ep, e := s.Gvisor().NewRawEndpoint(header.UDPProtocolNumber, header.IPv4ProtocolNumber, &wq, true)
	if e != nil {
		t.Fatalf("NewRawEndpoint(UDP): %v", e)
	}
	defer s.RawClosed(int(header.UDPProtocolNumber))
	defer ep.Close()
	must(t, s.SendUDP(&stack.UDPSend{Src: ap("127.0.0.1:1111"), Dst: ap("127.0.0.1:2222"), Payload: []byte("raw")}))
	var buf bytes.Buffer
	deadline := time.Now().Add(time.Second)
	for {
		_, e := ep.Read(&buf, tcpip.ReadOptions{})
		if e == nil {
			break
		}
		if _, ok := e.(*tcpip.ErrWouldBlock); !ok || time.Now().After(deadline) {
			t.Fatalf("raw Read: %v", e)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A raw IPv4 socket reads the IP header too.
	pkt := buf.Bytes()
	ip := header.IPv4(pkt)
	if len(pkt) < header.IPv4MinimumSize || ip.TransportProtocol() != header.UDPProtocolNumber {
		t.Fatalf("raw read % x", pkt)
	}
	u := header.UDP(ip.Payload())
	if u.SourcePort() != 1111 || u.DestinationPort() != 2222 || string(u.Payload()) != "raw" {
		t.Errorf("raw UDP % x", []byte(u))
	}
	// The checksum we send is valid.
	if !u.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksumOf(u.Payload())) {
		t.Errorf("bad UDP checksum %#x", u.Checksum())
	}
	// With no socket on 2222 the stack also answered port unreachable; the
	// counter shows it.
	if n := s.Stats().UDPNoPorts.Load(); n != 1 {
		t.Errorf("NoPorts %d", n)
	}
}

func checksumOf(b []byte) uint16 { return checksum.Checksum(b, 0) }

// Linux is a weak host: a socket bound to the address of one interface can
// send through another. B sees the datagram from A's second address, with a
// valid checksum (it would be dropped otherwise).
func TestUDPWeakHostSource(t *testing.T) {
	a, b := pair(t)
	i2, err := a.AddInterface("eth1", channelEP())
	must(t, err)
	must(t, a.AddAddress(i2, netip.MustParsePrefix("172.16.0.1/16")))
	r := newRecorder()
	bind(t, b, r, "0.0.0.0:8000", stack.UDPBindFlags{})
	for _, mode := range []stack.PMTUMode{stack.PMTUDont, stack.PMTUWant, stack.PMTUDo} {
		m := stack.UDPSend{Src: ap("172.16.0.1:8001"), Dst: ap("10.0.0.2:8000"), TTL: 5, TOS: 0x20, PMTU: mode, Payload: []byte("weak")}
		if err := a.SendUDP(&m); err != nil {
			t.Fatalf("send from eth1's address through eth0: %v", err)
		}
		d := r.next(t)
		if d.Src != m.Src || d.TTL != 5 || d.TOS != 0x20 || string(d.Payload) != "weak" {
			t.Errorf("got %+v", d)
		}
	}
	// Large datagrams are fragmented on the way.
	big := make([]byte, 4000)
	big[3999] = 7
	must(t, a.SendUDP(&stack.UDPSend{Src: ap("172.16.0.1:8001"), Dst: ap("10.0.0.2:8000"), Payload: big}))
	if d := r.next(t); !bytes.Equal(d.Payload, big) {
		t.Errorf("fragmented weak-host datagram: %d bytes", len(d.Payload))
	}
	if err := a.SendUDP(&stack.UDPSend{Src: ap("172.16.0.1:8001"), Dst: ap("10.0.0.2:8000"), PMTU: stack.PMTUDo, Payload: big}); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("DF over MTU: %v", err)
	}
}

func channelEP() *channel.Endpoint { return channel.New(16, 1500, "") }
