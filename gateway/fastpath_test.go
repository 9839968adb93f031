package gateway

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"netsandbox/options"
	"netsandbox/test/harness"
)

// peerNetns makes a network namespace of its own reached from the host
// over a veth (a /30 chosen by the test's PID) and returns it with the
// peer's address; everything is removed at the end of the test.
func peerNetns(t *testing.T, tag string) (ns string, peer netip.Addr) {
	t.Helper()
	requireNetns(t)
	pid := os.Getpid()
	ns = fmt.Sprintf("%s%s-%d", harness.NamePrefix, tag, pid)
	hostIf, peerIf := fmt.Sprintf("nsbxfp%dh", pid%100000), fmt.Sprintf("nsbxfp%dp", pid%100000)
	net3 := fmt.Sprintf("10.216.%d", pid%250)
	base := (pid / 250 % 64) * 4
	host := fmt.Sprintf("%s.%d", net3, base+1)
	peer = netip.MustParseAddr(fmt.Sprintf("%s.%d", net3, base+2))
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	if err := harness.AddNetns(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", hostIf).Run()
		harness.DelNetns(ns)
	})
	run("link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", ns)
	run("addr", "add", host+"/30", "dev", hostIf)
	run("link", "set", hostIf, "up")
	run("-n", ns, "link", "set", "lo", "up")
	run("-n", ns, "addr", "add", peer.String()+"/30", "dev", peerIf)
	run("-n", ns, "link", "set", peerIf, "up")
	return ns, peer
}

// TestShortPath: once a ping or UDP flow is open, its packets take the
// short path both ways (fastpath.go), and what the sandbox gets is the
// same: the destination's echo replies, its datagrams from its address.
func TestShortPath(t *testing.T) {
	ns, peer := peerNetns(t, "fastpath")
	var echo *net.UDPConn
	if err := harness.InNetns(ns, func() error {
		var err error
		echo, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 0)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for range 100 {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(buf[:n], from)
		}
	}()
	p := newPair(t, Config{})
	const rounds = 5
	for i := range rounds {
		// The first ping may still wait for the sandbox's neighbour
		// entry; each one opens a socket of its own with the same
		// identifier, so all are one flow.
		from, typ, ok := ping(t, p, peer, 0, 5*time.Second)
		if !ok || from != peer || typ != 0 {
			t.Fatalf("ping %d to %v: reply %v from %v (type %d), want an echo reply from it", i, peer, ok, from, typ)
		}
	}
	s := sandboxUDP(t, p)
	dst := netip.AddrPortFrom(peer, uint16(echo.LocalAddr().(*net.UDPAddr).Port))
	for i := range rounds {
		msg := bytes.Repeat([]byte{byte('a' + i)}, 10+100*i)
		if _, err := s.SendMsg(msg, nil, options.SockaddrIn(dst), 0); err != nil {
			t.Fatal(err)
		}
		got, from, err := recvFrom(t, s, 5*time.Second)
		if err != nil || !bytes.Equal(got, msg) || from != dst {
			t.Fatalf("datagram %d to %v: got %d bytes from %v (%v), want its %d-byte echo", i, dst, len(got), from, err, len(msg))
		}
	}
	// Each flow's first packet opens it on the full path; the rest in,
	// and every reply out, take the short one.
	if in, want := p.gw.fastIns.Load(), int64(2*(rounds-1)); in < want {
		t.Errorf("%d packets in on the short path, want at least %d", in, want)
	}
	if out, want := p.gw.fastOuts.Load(), int64(2*rounds); out < want {
		t.Errorf("%d replies out on the short path, want at least %d", out, want)
	}
}
