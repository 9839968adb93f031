package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/link/fdbased"
	"netsandbox/test/harness"
)

// The e2e topology: netsandbox mcast on the DUT's veth end (whose kernel
// side has no address), a kernel sender namespace on the other end with
// 198.18.0.1 and two more source addresses.
var (
	mcGroup   = netip.MustParseAddr("239.7.7.7")
	mcOther   = netip.MustParseAddr("239.7.7.8")
	mcPeer    = netip.MustParseAddr("198.18.0.1")
	mcAllowed = netip.MustParseAddr("198.18.0.51")
	mcBlocked = netip.MustParseAddr("198.18.0.52")
	mcDUT     = netip.MustParseAddr("198.18.0.2")
	mcReports = netip.MustParseAddr("224.0.0.22")
)

const mcPort = 5000

func mcastTopology(t *testing.T) (dut, snd string) {
	t.Helper()
	prefix := harness.NewRunPrefix()
	dut = newNetns(t, prefix+"mdut")
	snd = newNetns(t, prefix+"msnd")
	ipCmd(t, "-n", dut, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", snd)
	for _, a := range []netip.Addr{mcPeer, mcAllowed, mcBlocked} {
		ipCmd(t, "-n", snd, "addr", "add", a.String()+"/24", "dev", "eth0")
	}
	for _, l := range []struct{ ns, dev string }{{dut, "eth0"}, {snd, "eth0"}, {dut, "lo"}, {snd, "lo"}} {
		ipCmd(t, "-n", l.ns, "link", "set", l.dev, "up")
	}
	// AF_PACKET on the DUT end would see partial checksums otherwise.
	if err := harness.InNetns(snd, func() error { return fdbased.DisableTxOffload("eth0") }); err != nil {
		t.Fatal(err)
	}
	return dut, snd
}

// mcSender is a kernel UDP socket in the sender namespace bound to src.
func mcSender(t *testing.T, h *harness.KernelHost, src netip.Addr) harness.Sock {
	t.Helper()
	s, err := h.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Bind(sockaddr4(src, 4444)); err != nil {
		t.Fatalf("bind %s: %v", src, err)
	}
	p := mcPeer.As4()
	if err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, p[:]); err != nil {
		t.Fatal(err)
	}
	return s
}

func sockaddr4(a netip.Addr, port int) []byte {
	b := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], uint16(port))
	v := a.As4()
	copy(b[4:], v[:])
	return b
}

// igmpTap is a raw IGMP socket in the sender namespace that has joined
// 224.0.0.22, where IGMPv3 reports go.
func igmpTap(t *testing.T, h *harness.KernelHost) harness.Sock {
	t.Helper()
	s, err := h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_IGMP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	m := make([]byte, 8)
	r, p := mcReports.As4(), mcPeer.As4()
	copy(m, r[:])
	copy(m[4:], p[:])
	if err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, m); err != nil {
		t.Fatal(err)
	}
	return s
}

// igmpRecords reads reports from the tap for up to wait and returns each
// group record about group from the DUT as "type [sources]", checking the
// IP header of the reports (TTL 1, to 224.0.0.22, Router Alert).
func igmpRecords(t *testing.T, tap harness.Sock, group netip.Addr, wait time.Duration) []string {
	t.Helper()
	var recs []string
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for i := 0; i < 64 && time.Now().Before(deadline); i++ {
		tap.Poll(unix.EPOLLIN, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if netip.AddrFrom4([4]byte(buf[12:16])) != mcDUT || n < ihl+8 || buf[ihl] != 0x22 {
			continue
		}
		if ttl, dst := buf[8], netip.AddrFrom4([4]byte(buf[16:20])); ttl != 1 || dst != mcReports || ihl < 24 || buf[20] != 0x94 {
			t.Errorf("IGMPv3 report with TTL %d to %s, options %x: want TTL 1 to 224.0.0.22 with Router Alert", ttl, dst, buf[20:ihl])
		}
		igmp := buf[ihl:n]
		off := 8
		for k := 0; k < int(binary.BigEndian.Uint16(igmp[6:8])) && off+8 <= len(igmp); k++ {
			nsrc := int(binary.BigEndian.Uint16(igmp[off+2:]))
			end := off + 8 + 4*nsrc + 4*int(igmp[off+1])
			if end > len(igmp) {
				break
			}
			if netip.AddrFrom4([4]byte(igmp[off+4:off+8])) == group {
				var srcs []string
				for s := 0; s < nsrc; s++ {
					srcs = append(srcs, netip.AddrFrom4([4]byte(igmp[off+8+4*s:])).String())
				}
				recs = append(recs, fmt.Sprintf("%d [%s]", igmp[off], strings.Join(srcs, " ")))
			}
			off = end
		}
	}
	return recs
}

// startMcast runs `netsandbox mcast` in ns and waits for its banner.
func startMcast(t *testing.T, bin, ns string, args ...string) (wait func() (stdout, stderr string, err error)) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin, "mcast", "--link", "iface:eth0", "--addr", mcDUT.String() + "/24"}, args...)...)
	out, errOut := new(syncBuffer), new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	finished := false
	t.Cleanup(func() {
		if !finished {
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "joined") {
		select {
		case err := <-done:
			finished = true
			t.Fatalf("mcast exited early: %v\n%s%s", err, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mcast did not join in 10s:\n%s", errOut.String())
		}
	}
	return func() (string, string, error) {
		select {
		case err := <-done:
			finished = true
			return out.String(), errOut.String(), err
		case <-time.After(15 * time.Second):
			return out.String(), errOut.String(), fmt.Errorf("mcast still running after 15s")
		}
	}
}

// netsandbox mcast joins a group on a veth with a source filter, prints
// exactly the datagrams the filter lets through (from a kernel sender
// namespace: an allowed source, a blocked one, another group) with
// sender, group and interface, and its IGMPv3 reports reach the wire.
func TestMcastReceivesFiltered(t *testing.T) {
	requireNetns(t)
	bin := buildBinary(t)
	dut, snd := mcastTopology(t)
	h := harness.NewKernelHost("sender", snd)
	tap := igmpTap(t, h)
	peer, allowed, blocked := mcSender(t, h, mcPeer), mcSender(t, h, mcAllowed), mcSender(t, h, mcBlocked)
	send := func(s harness.Sock, group netip.Addr, payload string) {
		t.Helper()
		if _, err := s.SendMsg([]byte(payload), nil, sockaddr4(group, mcPort), 0); err != nil {
			t.Fatalf("send %q: %v", payload, err)
		}
	}

	cases := []struct {
		name   string
		filter []string
		report string // a record the reports must carry
		leave  string // the record that reports the leave
		send   func()
		want   []string
	}{
		{"exclude", []string{"--block", mcBlocked.String()}, "[" + mcBlocked.String() + "]", "3 []",
			func() {
				send(blocked, mcGroup, "blocked")
				send(peer, mcOther, "other group")
				send(allowed, mcGroup, "first")
				send(peer, mcGroup, "second")
			},
			[]string{
				`from 198.18.0.51:4444 group 239.7.7.7 if eth0/2 len 5 text "first"`,
				`from 198.18.0.1:4444 group 239.7.7.7 if eth0/2 len 6 text "second"`,
			}},
		{"include", []string{"--source", mcAllowed.String()}, "[" + mcAllowed.String() + "]", "6 [" + mcAllowed.String() + "]",
			func() {
				send(blocked, mcGroup, "not listed")
				send(peer, mcGroup, "not listed either")
				send(allowed, mcOther, "other group")
				send(allowed, mcGroup, "\x00\x01ok")
				send(allowed, mcGroup, "again")
			},
			[]string{
				`from 198.18.0.51:4444 group 239.7.7.7 if eth0/2 len 4 text "\x00\x01ok"`,
				`from 198.18.0.51:4444 group 239.7.7.7 if eth0/2 len 5 text "again"`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--group", mcGroup.String(), "--port", fmt.Sprint(mcPort), "--count", "3", "--timeout", "20s", "--text"}, c.filter...)
			wait := startMcast(t, bin, dut, args...)
			recs := igmpRecords(t, tap, mcGroup, 1500*time.Millisecond)
			t.Logf("IGMPv3 records for %s: %q", mcGroup, recs)
			if !containsSuffix(recs, c.report) {
				t.Errorf("IGMPv3 records for %s from the DUT: %q; want one listing %s", mcGroup, recs, c.report)
			}
			c.send()
			// Datagrams of different senders may be reordered on the
			// way (flows are processed in parallel), so a last one
			// follows after a pause: --count 3 then ends only once
			// every earlier datagram was either printed or dropped.
			time.Sleep(300 * time.Millisecond)
			send(allowed, mcGroup, "last")
			stdout, stderr, err := wait()
			if err != nil {
				t.Fatalf("mcast: %v\nstdout:\n%sstderr:\n%s", err, stdout, stderr)
			}
			t.Logf("mcast printed:\n%s%s", stdout, stderr)
			got := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			want := append(slices.Clone(c.want), `from 198.18.0.51:4444 group 239.7.7.7 if eth0/2 len 4 text "last"`)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("mcast printed (sorted):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if !strings.Contains(stderr, "3 datagrams") {
				t.Errorf("no summary on stderr:\n%s", stderr)
			}
			// Leaving is reported too: the filter becomes INCLUDE {}
			// (TO_IN from exclude mode, BLOCK of the sources from include).
			leave := igmpRecords(t, tap, mcGroup, time.Second)
			t.Logf("IGMPv3 records after exit: %q", leave)
			if !slices.Contains(leave, c.leave) {
				t.Errorf("IGMPv3 records for %s after mcast exited: %q; want %q", mcGroup, leave, c.leave)
			}
		})
	}
}

func containsSuffix(recs []string, suffix string) bool {
	for _, r := range recs {
		if strings.HasSuffix(r, suffix) {
			return true
		}
	}
	return false
}

// A --count that is not reached by --timeout fails with advice.
func TestMcastTimeout(t *testing.T) {
	requireNetns(t)
	bin := buildBinary(t)
	dut, _ := mcastTopology(t)
	wait := startMcast(t, bin, dut, "--group", mcGroup.String(), "--port", fmt.Sprint(mcPort), "--count", "1", "--timeout", "1s")
	stdout, stderr, err := wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailure {
		t.Fatalf("mcast with nothing sent: %v, want exit status %d\n%s%s", err, exitFailure, stdout, stderr)
	}
	if stdout != "" || !strings.Contains(stderr, "0 of 1 datagrams") {
		t.Errorf("stdout %q, stderr %q: want nothing printed and the count in the error", stdout, stderr)
	}
}

// mcast --json prints each datagram as one JSON object a line, with the
// fields of the text form (it had no machine-readable output).
func TestMcastJSON(t *testing.T) {
	requireNetns(t)
	bin := buildBinary(t)
	dut, snd := mcastTopology(t)
	h := harness.NewKernelHost("sender", snd)
	allowed := mcSender(t, h, mcAllowed)
	wait := startMcast(t, bin, dut, "--group", mcGroup.String(), "--port", fmt.Sprint(mcPort), "--count", "2", "--timeout", "20s", "--hex", "--json")
	for _, p := range []string{"\x00\x01", "ok"} {
		if _, err := allowed.SendMsg([]byte(p), nil, sockaddr4(mcGroup, mcPort), 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stdout, stderr, err := wait()
	if err != nil {
		t.Fatalf("mcast: %v\nstdout:\n%sstderr:\n%s", err, stdout, stderr)
	}
	want := `{"from":"198.18.0.51:4444","group":"239.7.7.7","ifname":"eth0","ifindex":2,"len":2,"truncated":false,"hex":"0001"}` + "\n" +
		`{"from":"198.18.0.51:4444","group":"239.7.7.7","ifname":"eth0","ifindex":2,"len":2,"truncated":false,"hex":"6f6b"}` + "\n"
	if stdout != want {
		t.Errorf("mcast --json printed:\n%s\nwant:\n%s", stdout, want)
	}
}
