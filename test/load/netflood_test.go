package load

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// TestMulticastFloodFromBlockedSource floods a group member with datagrams
// from a source it blocked (IP_BLOCK_SOURCE) while an allowed source sends
// a few; the receive buffer is small, so any blocked datagram that reached
// the queue would push the allowed ones out. Every allowed datagram must
// arrive and no blocked one.
func TestMulticastFloodFromBlockedSource(t *testing.T) {
	s, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ch, _ := attachEthernet(t, s)
	so, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	group := netip.AddrPortFrom(netip.MustParseAddr("239.1.2.3"), 5000)
	allowed := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.1"), 6000)
	blocked := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.9"), 6000)
	if err := so.Bind(options.SockaddrIn(netip.AddrPortFrom(netip.IPv4Unspecified(), group.Port()))); err != nil {
		t.Fatal(err)
	}
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, intOpt(floodRcvbuf)); err != nil {
		t.Fatal(err)
	}
	g, l, b := group.Addr().As4(), localAddr.As4(), blocked.Addr().As4()
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, append(g[:], l[:]...)); err != nil {
		t.Fatalf("IP_ADD_MEMBERSHIP: %v", err)
	}
	src := append(append(g[:], l[:]...), b[:]...)
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_BLOCK_SOURCE, src); err != nil {
		t.Fatalf("IP_BLOCK_SOURCE: %v", err)
	}
	const allowedCount = 5
	before := s.Stats().UDPInDatagrams.Load()
	for i := 0; i < floodCount; i++ {
		ch.Inject(udpFrame(blocked, group, make([]byte, floodPayload)))
		if i%(floodCount/allowedCount) == 0 {
			ch.Inject(udpFrame(allowed, group, []byte("allowed")))
		}
	}
	buf := make([]byte, 2048)
	got := 0
	for i := 0; i <= floodCount; i++ {
		n, _, _, from, err := so.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatalf("recvmsg: %v", err)
		}
		if ap, _, _ := options.ParseSockaddrIn(from); ap != allowed || string(buf[:n]) != "allowed" {
			t.Errorf("received %q from %v; only %v is allowed", buf[:n], ap, allowed)
		}
		got++
	}
	if got != allowedCount {
		t.Errorf("%d of %d datagrams from the allowed source arrived during the flood", got, allowedCount)
	}
	if d := s.Stats().UDPInDatagrams.Load() - before; d != allowedCount {
		t.Errorf("UDPInDatagrams grew by %d, want %d (the blocked source's datagrams are not delivered)", d, allowedCount)
	}
}

// TestICMPErrorFloodStaysWithinRcvbuf floods a connected IP_RECVERR
// socket with ICMP errors quoting its datagrams. Linux charges the error
// queue to the receive buffer (sock_queue_err_skb), so the queue must stay
// bounded by SO_RCVBUF: far fewer entries than errors sent, and no more
// than the buffer holds even at the bare sk_buff size (256 bytes) per
// entry. After the queue is drained, errors are queued again and data
// still arrives.
func TestICMPErrorFloodStaysWithinRcvbuf(t *testing.T) {
	s, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ch, _ := attachEthernet(t, s)
	so, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { so.Close() })
	local := netip.AddrPortFrom(localAddr, 5002)
	peer := netip.AddrPortFrom(netip.MustParseAddr("198.18.0.1"), 6001)
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, intOpt(floodRcvbuf)); err != nil {
		t.Fatal(err)
	}
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_RECVERR, intOpt(1)); err != nil {
		t.Fatalf("IP_RECVERR: %v", err)
	}
	if err := so.Bind(options.SockaddrIn(local)); err != nil {
		t.Fatal(err)
	}
	if err := so.Connect(options.SockaddrIn(peer)); err != nil {
		t.Fatal(err)
	}
	rb := make([]byte, 4)
	if _, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, rb); err != nil {
		t.Fatal(err)
	}
	rcvbuf := int(options.Int32(rb))
	flood := func() {
		for i := 0; i < floodCount; i++ {
			ch.Inject(icmpErrorFrame(peer.Addr(), header.ICMPv4TimeExceeded, header.ICMPv4TTLExceeded, local, peer))
		}
	}
	drain := func() int {
		buf, oob := make([]byte, 2048), make([]byte, 512)
		n := 0
		for i := 0; i <= floodCount; i++ {
			_, _, _, _, err := so.RecvMsg(buf, oob, unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE)
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				t.Fatalf("recvmsg MSG_ERRQUEUE: %v", err)
			}
			n++
		}
		return n
	}
	flood()
	queued := drain()
	t.Logf("%d ICMP errors sent, %d queued with SO_RCVBUF %d", floodCount, queued, rcvbuf)
	if queued < 1 || queued > rcvbuf/256 {
		t.Errorf("%d errors were queued; want 1..%d (SO_RCVBUF %d at >= 256 bytes each)", queued, rcvbuf/256, rcvbuf)
	}
	flood()
	if again := drain(); again != queued {
		t.Errorf("after draining, a second flood queued %d errors, the first %d", again, queued)
	}
	ch.Inject(udpFrame(peer, local, []byte("data")))
	buf := make([]byte, 64)
	if n, _, _, _, err := so.RecvMsg(buf, nil, unix.MSG_DONTWAIT); err != nil || string(buf[:n]) != "data" {
		t.Errorf("datagram after the flood: %q, %v", buf[:n], err)
	}
}
