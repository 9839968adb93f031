package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// nobodyAddr is an address no host of the topology has.
const nobodyAddr = "198.19.77.77"

// runProbes runs TestProbeHelper inside `netsandbox run FLAGS` with
// NSBX_PROBE=mode and returns its output.
func runProbes(t *testing.T, bin, host, mode string, flags ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"--stats"}, flags...), "--", "env", "NSBX_PROBE="+mode, self, "-test.run=^TestProbeHelper$", "-test.v")
	out, code := sandboxRun(t, bin, host, "", args...)
	if code != 0 || !strings.Contains(out, "probes done") {
		t.Fatalf("probe helper %s in the sandbox: exit %d\n%s", mode, code, out)
	}
	return out
}

// probeResults are the "probe NAME: ANSWER" lines of out, by name.
func probeResults(out string) map[string]string {
	res := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if name, answer, ok := strings.Cut(strings.TrimPrefix(l, "probe "), ": "); ok && strings.HasPrefix(l, "probe ") {
			res[name] = answer
		}
	}
	return res
}

// TestRunNeverSpeaksForOthers: the gateway sends nothing in the name of an
// address it has not heard from (issue 16). An IP protocol it does not
// relay, or a source-routed datagram, meets silence, as from a network that
// dropped it; a malformed IP option gets parameter problem from the
// gateway, the hop that found it; a denied destination gets the gateway's
// "administratively prohibited"; the sandbox's RST to a SYN-ACK (a raw
// SYN's, as hping3 -S sends) is not answered.
func TestRunNeverSpeaksForOthers(t *testing.T) {
	tp := newRunTopology(t)
	bin := buildBinary(t)

	t.Run("rst not answered", func(t *testing.T) {
		out := runProbes(t, bin, tp.host, "rst")
		res := probeResults(out)
		if res["syn"] != "SYN-ACK" || res["after rst"] != "nothing" {
			t.Errorf("SYN then RST to the target's open port %s:7: got %q, then %q; want SYN-ACK, then nothing\n%s", targetAddr, res["syn"], res["after rst"], out)
		}
	})

	t.Run("allowed", func(t *testing.T) {
		out := runProbes(t, bin, tp.host, "icmp")
		res := probeResults(out)
		want := map[string]string{
			"gre " + nobodyAddr:            "nothing",
			"sctp " + nobodyAddr:           "nothing",
			"proto-253 " + nobodyAddr:      "nothing",
			"gre " + targetAddr:            "nothing",
			"proto-253 10.0.2.2":           "3/2 from 10.0.2.2",
			"udp lsrr " + targetAddr:       "nothing",
			"udp ssrr " + nobodyAddr:       "nothing",
			"udp bad option " + nobodyAddr: "12/0 from 10.0.2.2",
		}
		for name, w := range want {
			if res[name] != w {
				t.Errorf("%s: got %q, want %q", name, res[name], w)
			}
		}
		if !strings.Contains(out, "flows tcp 0 udp 0 icmp 0,") || !strings.Contains(out, "packets dropped: protocol not relayed 4, source-routed 2, bad ip options 1") {
			t.Errorf("--stats: want no flow, 4 packets of protocols not relayed, 2 source-routed, 1 with a bad option")
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})

	t.Run("deny-all", func(t *testing.T) {
		out := runProbes(t, bin, tp.host, "deny", "--deny-all")
		res := probeResults(out)
		if w := "3/13 from 10.0.2.2"; res["gre "+nobodyAddr] != w {
			t.Errorf("GRE to %s under --deny-all: got %q, want %q\n%s", nobodyAddr, res["gre "+nobodyAddr], w, out)
		}
	})
}

// TestProbeHelper runs inside a sandbox for TestRunNeverSpeaksForOthers
// (NSBX_PROBE set): it sends crafted packets from raw sockets and prints
// what comes back, one "probe NAME: ANSWER" line each.
func TestProbeHelper(t *testing.T) {
	mode := os.Getenv("NSBX_PROBE")
	if mode == "" {
		return // only a helper
	}
	defer fmt.Println("probes done")
	switch mode {
	case "rst":
		probeRST(t, netip.MustParseAddrPort(targetAddr+":7"))
	case "icmp":
		lsrr := []byte{131, 7, 4, 198, 18, 5, 1, 1} // LSRR via 198.18.5.1, NOP
		ssrr := []byte{137, 7, 4, 198, 18, 5, 1, 0} // SSRR via 198.18.5.1, END
		badRR := []byte{7, 2, 0, 0}                 // record route shorter than its own header
		nobody, target, gw := netip.MustParseAddr(nobodyAddr), netip.MustParseAddr(targetAddr), netip.MustParseAddr("10.0.2.2")
		probeICMP(t, "gre "+nobodyAddr, probePacket(47, nobody, nil, make([]byte, 8)))
		probeICMP(t, "sctp "+nobodyAddr, probePacket(132, nobody, nil, make([]byte, 12)))
		probeICMP(t, "proto-253 "+nobodyAddr, probePacket(253, nobody, nil, make([]byte, 8)))
		probeICMP(t, "gre "+targetAddr, probePacket(47, target, nil, make([]byte, 8)))
		probeICMP(t, "proto-253 10.0.2.2", probePacket(253, gw, nil, make([]byte, 8)))
		probeICMP(t, "udp lsrr "+targetAddr, probeUDP(netip.AddrPortFrom(target, 7), lsrr))
		probeICMP(t, "udp ssrr "+nobodyAddr, probeUDP(netip.AddrPortFrom(nobody, 9), ssrr))
		probeICMP(t, "udp bad option "+nobodyAddr, probeUDP(netip.AddrPortFrom(nobody, 9), badRR))
	case "deny":
		probeICMP(t, "gre "+nobodyAddr, probePacket(47, netip.MustParseAddr(nobodyAddr), nil, make([]byte, 8)))
	default:
		t.Fatalf("NSBX_PROBE=%q", mode)
	}
}

// probePacket is an IPv4 packet from the sandbox (the kernel fills in the
// checksum, ID and length of an IP_HDRINCL send).
func probePacket(proto uint8, dst netip.Addr, opts, payload []byte) []byte {
	ihl := header.IPv4MinimumSize + len(opts)
	pkt := make([]byte, ihl+len(payload))
	ip := header.IPv4(pkt)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(pkt)), TTL: 64, Protocol: proto,
		SrcAddr: tcpip.AddrFrom4(sandboxAddr.Addr().As4()), DstAddr: tcpip.AddrFrom4(dst.As4())})
	copy(pkt[header.IPv4MinimumSize:], opts)
	copy(pkt[ihl:], payload)
	ip.SetHeaderLength(uint8(ihl))
	return pkt
}

func probeUDP(dst netip.AddrPort, opts []byte) []byte {
	u := header.UDP(make([]byte, header.UDPMinimumSize+5))
	u.Encode(&header.UDPFields{SrcPort: 40000, DstPort: dst.Port(), Length: uint16(len(u))})
	copy(u.Payload(), "probe")
	return probePacket(uint8(header.UDPProtocolNumber), dst.Addr(), opts, u)
}

// probeICMP sends pkt and prints the first ICMP error that comes back
// within a second, or "nothing".
func probeICMP(t *testing.T, name string, pkt []byte) {
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rx)
	tx, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(tx)
	if err := unix.Sendto(tx, pkt, 0, &unix.SockaddrInet4{Addr: [4]byte(pkt[16:20])}); err != nil {
		t.Fatalf("%s: send: %v", name, err)
	}
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	deadline := time.Now().Add(time.Second)
	buf := make([]byte, 2048)
	for time.Now().Before(deadline) {
		n, from, err := unix.Recvfrom(rx, buf, 0)
		if err != nil || n < 20 {
			continue
		}
		ihl := int(buf[0]&0xf) * 4
		if n < ihl+8+20 || buf[ihl] == 0 || buf[ihl] == 8 {
			continue // not an error (echo traffic)
		}
		quoted := header.IPv4(buf[ihl+8 : n])
		if quoted.Protocol() != pkt[9] || quoted.DestinationAddress().As4() != [4]byte(pkt[16:20]) {
			continue // about another packet
		}
		src := from.(*unix.SockaddrInet4).Addr
		fmt.Printf("probe %s: %d/%d from %v\n", name, buf[ihl], buf[ihl+1], netip.AddrFrom4(src))
		return
	}
	fmt.Printf("probe %s: nothing\n", name)
}

// probeRST sends a SYN to dst from a raw socket; the kernel, which knows no
// such connection, resets the SYN-ACK; then it sends its own RST too (as a
// tool that ends the connection would) and prints what else arrives.
func probeRST(t *testing.T, dst netip.AddrPort) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	const sport, iss = 40321, 7000
	send := func(seq uint32, flags header.TCPFlags) {
		b := make([]byte, header.TCPMinimumSize)
		tcp := header.TCP(b)
		tcp.Encode(&header.TCPFields{SrcPort: sport, DstPort: dst.Port(), SeqNum: seq,
			DataOffset: header.TCPMinimumSize, Flags: flags, WindowSize: 64240})
		sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, tcpip.AddrFrom4(sandboxAddr.Addr().As4()),
			tcpip.AddrFrom4(dst.Addr().As4()), uint16(len(b)))
		tcp.SetChecksum(^checksum.Checksum(b, sum))
		if err := unix.Sendto(fd, b, 0, &unix.SockaddrInet4{Addr: dst.Addr().As4()}); err != nil {
			t.Fatal(err)
		}
	}
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	// next returns the flags of the next segment to sport, within wait.
	next := func(wait time.Duration) (header.TCPFlags, bool) {
		deadline := time.Now().Add(wait)
		buf := make([]byte, 2048)
		for time.Now().Before(deadline) {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil || n < 20 {
				continue
			}
			ihl := int(buf[0]&0xf) * 4
			if n < ihl+header.TCPMinimumSize || binary.BigEndian.Uint16(buf[ihl+2:]) != sport {
				continue
			}
			return header.TCP(buf[ihl:n]).Flags(), true
		}
		return 0, false
	}
	send(iss, header.TCPFlagSyn)
	f, ok := next(3 * time.Second)
	switch {
	case !ok:
		fmt.Println("probe syn: nothing")
		return
	case f == header.TCPFlagSyn|header.TCPFlagAck:
		fmt.Println("probe syn: SYN-ACK")
	default:
		fmt.Printf("probe syn: %v\n", f)
		return
	}
	send(iss+1, header.TCPFlagRst)
	if f, ok := next(1500 * time.Millisecond); ok {
		fmt.Printf("probe after rst: %v\n", f)
		return
	}
	fmt.Println("probe after rst: nothing")
}
