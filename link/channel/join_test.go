package channel

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

func TestJoinUDPAndPcapDecodes(t *testing.T) {
	epA, epB := New(1500, macA), New(1500, macB)
	sa := newGvisorStack(t, epA, netip.MustParsePrefix("10.9.0.1/24"))
	sb := newGvisorStack(t, epB, netip.MustParsePrefix("10.9.0.2/24"))

	var capture bytes.Buffer
	pw, err := epA.CapturePcap(&capture)
	if err != nil {
		t.Fatal(err)
	}
	var frameCount atomic.Int64 // observers run on the sender's goroutine and the wire's
	epA.OnFrame(func(Direction, []byte) { frameCount.Add(1) })

	stop := Join(epA, epB)
	defer stop()

	addrA, addrB := netip.MustParseAddrPort("10.9.0.1:4000"), netip.MustParseAddrPort("10.9.0.2:5000")
	cb, err := gonet.DialUDP(sb, ptr(fullAddr(addrB)), nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("listen on B: %v", err)
	}
	defer cb.Close()
	ca, err := gonet.DialUDP(sa, ptr(fullAddr(addrA)), ptr(fullAddr(addrB)), ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("dial from A: %v", err)
	}
	defer ca.Close()

	deadline := time.Now().Add(5 * time.Second)
	ca.SetDeadline(deadline)
	cb.SetDeadline(deadline)
	if _, err := ca.Write([]byte("ping over the wire")); err != nil {
		t.Fatalf("A write: %v", err)
	}
	buf := make([]byte, 100)
	n, from, err := cb.ReadFrom(buf)
	if err != nil {
		t.Fatalf("B read: %v", err)
	}
	if string(buf[:n]) != "ping over the wire" || from.String() != addrA.String() {
		t.Fatalf("B got %q from %v", buf[:n], from)
	}
	if _, err := cb.WriteTo([]byte("pong"), from); err != nil {
		t.Fatalf("B write: %v", err)
	}
	n, err = ca.Read(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("A read: %q, %v", buf[:n], err)
	}
	stop()
	frames := int(frameCount.Load())

	// ARP request and reply, the datagram, the answer.
	if frames < 4 {
		t.Fatalf("capture hook saw %d frames, want at least 4", frames)
	}
	if err := pw.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := countPcapRecords(t, capture.Bytes()); recs != frames {
		t.Fatalf("pcap holds %d records, hook saw %d frames", recs, frames)
	}

	path := filepath.Join(t.TempDir(), "wire.pcap")
	if err := os.WriteFile(path, capture.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := tshark(t, "-n", "-r", path, "-T", "fields", "-e", "frame.protocols", "-e", "udp.dstport")
	for _, want := range []string{"eth:ethertype:arp\t", "eth:ethertype:ip:udp:data\t5000", "eth:ethertype:ip:udp:", "\t4000\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("tshark output lacks %q:\n%s", want, out)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// tshark runs tshark with args and returns its standard output. Without
// tshark the test skips, or fails when NETSANDBOX_REQUIRE_NETNS=1 (CI).
func tshark(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		msg := "tshark not installed (apt-get install -y tshark): cannot check the pcap decodes"
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func TestJoinStopEndsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := New(1500, ""), New(1500, "")
	stops := make([]func(), 0, 20)
	for range 10 {
		stops = append(stops, Join(a, b))
	}
	for _, stop := range stops {
		stop()
		stop() // idempotent
	}
	// Closing an endpoint also ends a wire's goroutines.
	c, d := New(1500, ""), New(1500, "")
	Join(c, d)
	c.Close()
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left running after stop (before: %d)", n-before, before)
	}
}
