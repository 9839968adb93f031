package gateway

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
)

// ping sends one echo request from the sandbox through a raw ICMP socket
// and returns the source of the first echo reply, if one arrives in wait.
func ping(t *testing.T, p *pair, dst netip.Addr, ttl int, wait time.Duration) (from netip.Addr, typ uint8, ok bool) {
	t.Helper()
	s, err := endpoint.New(p.sandbox, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ttl != 0 {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(ttl))
		must(t, s.SetSockOpt(unix.IPPROTO_IP, unix.IP_TTL, b[:]))
	}
	msg := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'h', 'i'}
	sum := uint32(0)
	for i := 0; i < len(msg); i += 2 {
		sum += uint32(msg[i])<<8 | uint32(msg[i+1])
	}
	sum = (sum >> 16) + (sum & 0xffff)
	binary.BigEndian.PutUint16(msg[2:], ^uint16(sum))
	if _, err := s.SendMsg(msg, nil, options.SockaddrIn(netip.AddrPortFrom(dst, 0)), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) {
		ev, _ := s.Wait(unix.EPOLLIN, deadline)
		if ev == 0 {
			break
		}
		n, _, _, sa, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 {
			continue
		}
		if buf[20] == 8 {
			continue // our own request, seen when looped
		}
		ap, _, _ := options.ParseSockaddrIn(sa)
		return ap.Addr(), buf[20], true
	}
	return netip.Addr{}, 0, false
}

func TestPingGatewayAnswersItself(t *testing.T) {
	p := newPair(t, Config{})
	from, typ, ok := ping(t, p, testGateway, 0, 2*time.Second)
	if !ok || from != testGateway || typ != 0 {
		t.Fatalf("ping gateway: from %v type %d ok %v; want an echo reply from %v", from, typ, ok, testGateway)
	}
}

// TestPingNoFakeReplies: an echo request the gateway does not relay (denied
// here, so nothing leaves the host) gets an error from the gateway, never an
// echo reply made up by the stack.
func TestPingNoFakeReplies(t *testing.T) {
	p := newPair(t, Config{Policy: &Policy{DenyAll: true}})
	dst := netip.MustParseAddr("203.0.113.7")
	from, typ, ok := ping(t, p, dst, 0, 2*time.Second)
	if !ok || typ != 3 || from != testGateway {
		t.Fatalf("ping denied %v: got type %d from %v (ok %v); want 3 (unreachable) from %v, no echo reply", dst, typ, from, ok, testGateway)
	}
	if n := p.gwStack.Gvisor().Stats().ICMP.V4.PacketsSent.EchoReply.Value(); n != 0 {
		t.Errorf("gateway stack sent %d echo replies, want 0", n)
	}
	p = newPair(t, Config{})
	from, typ, ok = ping(t, p, dst, 1, 2*time.Second)
	if !ok || typ != 11 || from != testGateway {
		t.Fatalf("ping TTL 1: got type %d from %v (ok %v); want 11 (time exceeded) from %v", typ, from, ok, testGateway)
	}
}

// TestNoNeighbourThroughTheGateway: an address of the sandbox's own subnet
// that is not the gateway's gets no ARP answer, so nothing reaches it.
func TestNoNeighbourThroughTheGateway(t *testing.T) {
	p := newPair(t, Config{})
	if _, typ, ok := ping(t, p, netip.MustParseAddr("10.0.2.50"), 0, 4*time.Second); ok && typ == 0 {
		t.Fatal("echo reply from a neighbour that does not exist")
	}
	if n := p.gw.Stats().ICMPFlows.Load() + p.gw.Stats().Denied.Load(); n != 0 {
		t.Errorf("the request reached the gateway (%d flows or refusals), want no ARP answer", n)
	}
	if _, typ, ok := ping(t, p, testDNS, 0, 2*time.Second); !ok || typ != 0 {
		t.Errorf("ping the DNS address: type %d ok %v, want an echo reply", typ, ok)
	}
}
