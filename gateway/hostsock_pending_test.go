package gateway

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/test/harness"
)

// requireNetns: the test makes a network namespace of its own (root, ip).
func requireNetns(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs iproute2 (ip)"
	}
	if why == "" {
		return
	}
	if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
		t.Fatalf("%s, and NETSANDBOX_REQUIRE_NETNS=1", why)
	}
	t.Skip(why)
}

// pendingCase is an ICMP or ICMPv6 error (type, code, info word) about a
// UDP datagram.
type pendingCase struct {
	v6        bool
	typ, code uint8
	info      uint32
	name      string
}

// forgeUDPError is an ICMP(v6) error of c quoting a UDP datagram from ->
// to. An ICMP one carries its checksum; the kernel fills ICMPv6's.
func forgeUDPError(c pendingCase, from, to netip.AddrPort) []byte {
	payload := []byte("pending")
	ulen := uint16(header.UDPMinimumSize + len(payload))
	var msg []byte
	if c.v6 {
		msg = make([]byte, 8+header.IPv6MinimumSize+int(ulen))
		header.IPv6(msg[8:]).Encode(&header.IPv6Fields{PayloadLength: ulen, TransportProtocol: header.UDPProtocolNumber,
			HopLimit: 64, SrcAddr: gAddr(from.Addr()), DstAddr: gAddr(to.Addr())})
	} else {
		msg = make([]byte, 8+header.IPv4MinimumSize+int(ulen))
		ip := header.IPv4(msg[8:])
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(header.IPv4MinimumSize) + ulen, TTL: 64,
			Protocol: uint8(header.UDPProtocolNumber), SrcAddr: gAddr(from.Addr()), DstAddr: gAddr(to.Addr())})
		ip.SetChecksum(^ip.CalculateChecksum())
	}
	msg[0], msg[1] = c.typ, c.code
	binary.BigEndian.PutUint32(msg[4:], c.info)
	u := header.UDP(msg[len(msg)-int(ulen):])
	u.Encode(&header.UDPFields{SrcPort: from.Port(), DstPort: to.Port(), Length: ulen})
	copy(u[header.UDPMinimumSize:], payload)
	if !c.v6 {
		binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, 0))
	}
	return msg
}

// TestUDPPendingErrors: every ICMP and ICMPv6 error a UDP flow's host
// socket can get leaves an errno pending (sk_err) that its next send
// returns instead of sending. The kernel is the oracle: each error is
// forged at a connected host socket in a namespace of the test's own,
// the errno read back (SO_ERROR), then forged again and sendPastError
// with the family's list must send the datagram anyway and mark the
// error taken, as it does for ping flows.
func TestUDPPendingErrors(t *testing.T) {
	requireNetns(t)
	ns := harness.NewRunPrefix() + "pending"
	if err := harness.AddNetns(ns); err != nil {
		t.Fatal(err)
	}
	defer harness.DelNetns(ns)
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v %s", err, out)
	}
	const (
		v4 = false
		v6 = true
	)
	cases := []pendingCase{
		{v4, 3, 0, 0, "net unreachable"},
		{v4, 3, 1, 0, "host unreachable"},
		{v4, 3, 2, 0, "protocol unreachable"},
		{v4, 3, 3, 0, "port unreachable"},
		{v4, 3, 4, 1200, "fragmentation needed"},
		{v4, 3, 5, 0, "source route failed"},
		{v4, 3, 6, 0, "net unknown"},
		{v4, 3, 7, 0, "host unknown"},
		{v4, 3, 8, 0, "host isolated"},
		{v4, 3, 9, 0, "net prohibited"},
		{v4, 3, 10, 0, "host prohibited"},
		{v4, 3, 11, 0, "net unreachable for TOS"},
		{v4, 3, 12, 0, "host unreachable for TOS"},
		{v4, 3, 13, 0, "administratively prohibited"},
		{v4, 3, 14, 0, "precedence violation"},
		{v4, 3, 15, 0, "precedence cutoff"},
		{v4, 11, 0, 0, "time exceeded"},
		{v4, 12, 0, 0, "parameter problem"},
		{v6, 1, 0, 0, "no route"},
		{v6, 1, 1, 0, "administratively prohibited"},
		{v6, 1, 2, 0, "beyond scope"},
		{v6, 1, 3, 0, "address unreachable"},
		{v6, 1, 4, 0, "port unreachable"},
		{v6, 1, 5, 0, "source address failed policy"},
		{v6, 1, 6, 0, "reject route"},
		{v6, 2, 0, 1280, "packet too big"},
		{v6, 3, 0, 0, "time exceeded"},
		{v6, 4, 0, 0, "parameter problem"},
	}
	err := harness.InNetns(ns, func() error {
		for _, c := range cases {
			testPendingError(t, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testPendingError(t *testing.T, c pendingCase) {
	t.Helper()
	fam, network, lo := "ICMP", "udp4", netip.MustParseAddr("127.0.0.1")
	if c.v6 {
		fam, network, lo = "ICMPv6", "udp6", netip.IPv6Loopback()
	}
	what := func() string { return fam + " " + c.name }
	peer, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	h, err := openHostSockFor(lo, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	o := optsFor(lo)
	must(t, h.setInt(o.level, o.recvErr, 1))
	must(t, h.connect(to))
	from := h.localAddr()
	rawFam, rawProto := unix.AF_INET, unix.IPPROTO_ICMP
	if c.v6 {
		rawFam, rawProto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	raw, err := unix.Socket(rawFam, unix.SOCK_RAW|unix.SOCK_CLOEXEC, rawProto)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(raw)
	// forge sends the error to the host socket and waits until the kernel
	// has taken it (the socket polls as in error).
	forge := func() bool {
		t.Helper()
		if err := unix.Sendto(raw, forgeUDPError(c, from, to), 0, sockaddr(netip.AddrPortFrom(lo, 0))); err != nil {
			t.Fatalf("%s: forging: %v", what(), err)
		}
		ok := false
		h.control(func(fd int) error {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, _ := unix.Poll(pfd, 1000)
			ok = n == 1 && pfd[0].Revents&unix.POLLERR != 0
			return nil
		})
		return ok
	}
	drain := func() {
		buf, oob := make([]byte, 100), make([]byte, 256)
		for i := 0; i < 4; i++ {
			if _, _, _, err := h.recv(buf, oob, true, time.Now().Add(50*time.Millisecond)); err != nil {
				return
			}
		}
	}
	if !forge() {
		t.Logf("%s: the socket took no error (no errno pending)", what())
		return
	}
	// The oracle: the errno the kernel left pending.
	var pending int
	h.control(func(fd int) error {
		pending, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		return err
	})
	must(t, err)
	drain()
	list := udpPendingErrs
	if c.v6 {
		list = udpPendingErrs6
	}
	if pending == 0 {
		t.Logf("%s: queued, no errno pending", what())
		return
	}
	t.Logf("%s: pending %v", what(), unix.Errno(pending))
	if !forge() {
		t.Fatalf("%s: the second error was not taken", what())
	}
	var taken atomic.Bool
	if err := h.sendPastError([]byte("after"), netip.AddrPort{}, &taken, list); err != nil || !taken.Load() {
		t.Errorf("%s: pending %v: sendPastError = %v, taken %v; want the datagram sent and the error taken (add it to the family's list)",
			what(), unix.Errno(pending), err, taken.Load())
		return
	}
	peer.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 100)
	if n, err := peer.Read(buf); err != nil || string(buf[:n]) != "after" {
		t.Errorf("%s: the peer read %q, %v; want the datagram sent past the error", what(), buf[:n], err)
	}
	if !slices.Contains(list, unix.Errno(pending)) {
		t.Errorf("%s: %v not in the list", what(), unix.Errno(pending))
	}
}
