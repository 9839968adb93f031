package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"netsandbox/link/fdbased"
	"netsandbox/test/harness"
)

// requireNetns skips without root and namespaces, or fails where CI demands them.
func requireNetns(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs iproute2 (ip)"
	} else if _, err := exec.LookPath("ping"); err != nil {
		why = "needs iputils-ping (ping)"
	}
	if why == "" {
		return
	}
	if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
		t.Fatalf("end-to-end test %s, and NETSANDBOX_REQUIRE_NETNS=1", why)
	}
	t.Skipf("end-to-end test %s; set up root and iproute2, or run in CI", why)
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetns(t testing.TB, name string) string {
	t.Helper()
	if err := harness.AddNetns(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { harness.DelNetns(name) })
	return name
}

// buildBinary builds netsandbox once per test binary run.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "netsandbox")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs `netsandbox serve` inside ns and waits for its banner.
func startServe(t testing.TB, bin, ns string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin, "serve"}, args...)...)
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "serving") {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("serve exited early: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start in 10s:\n%s", out.String())
		}
	}
	stopServe := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			stopped = true
			if err != nil {
				t.Errorf("serve exited with %v after SIGTERM:\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "stopped") {
				t.Errorf("serve did not report a clean stop:\n%s", out.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not stop within 10s of SIGTERM")
		}
	}
	t.Cleanup(stopServe)
	return cmd, out
}

// checkEcho pings, then echoes over UDP and TCP from the kernel peer namespace.
func checkEcho(t *testing.T, peerNS, addr string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", peerNS, "ping", "-c", "3", "-i", "0.2", "-W", "2", addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 received") {
		t.Errorf("ping %s from the kernel peer: %v\n%s", addr, err, out)
	}
	for _, network := range []string{"udp4", "tcp4"} {
		msg := fmt.Sprintf("hello over %s", network)
		var got string
		err := harness.InNetns(peerNS, func() error {
			c, err := net.DialTimeout(network, addr+":7", 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte(msg)); err != nil {
				return err
			}
			buf := make([]byte, 256)
			n, err := c.Read(buf)
			got = string(buf[:n])
			return err
		})
		if err != nil || got != msg {
			t.Errorf("%s echo: got %q, %v; want %q", network, got, err, msg)
		}
	}
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeEndToEnd(t *testing.T) {
	requireNetns(t)
	bin := buildBinary(t)
	prefix := harness.NewRunPrefix()

	t.Run("veth", func(t *testing.T) {
		host := newNetns(t, prefix+"sv-host")
		peer := newNetns(t, prefix+"sv-peer")
		ipCmd(t, "-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", peer)
		ipCmd(t, "-n", peer, "addr", "add", "198.18.0.1/24", "dev", "eth0")
		ipCmd(t, "-n", peer, "link", "set", "eth0", "up")
		ipCmd(t, "-n", host, "link", "set", "eth0", "up")
		// A veth leaves UDP/TCP checksums to hardware it does not have; the
		// packet socket would hand the stack unfinished checksums.
		if err := harness.InNetns(peer, func() error { return fdbased.DisableTxOffload("eth0") }); err != nil {
			t.Fatal(err)
		}
		pcap := filepath.Join(t.TempDir(), "veth.pcap")
		startServe(t, bin, host, "--link", "iface:eth0", "--addr", "198.18.0.2/24",
			"--udp-echo", "7", "--tcp-echo", "7", "--pcap", pcap)
		checkEcho(t, peer, "198.18.0.2")
	})

	t.Run("tap", func(t *testing.T) {
		ns := newNetns(t, prefix+"sv-tap")
		ipCmd(t, "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap")
		ipCmd(t, "-n", ns, "addr", "add", "198.18.1.1/24", "dev", "tap0")
		ipCmd(t, "-n", ns, "link", "set", "tap0", "up")
		startServe(t, bin, ns, "--link", "tap:tap0", "--addr", "198.18.1.2/24",
			"--udp-echo", "7", "--tcp-echo", "7")
		checkEcho(t, ns, "198.18.1.2")
	})

	// --json: one JSON object a line (serve had no machine-readable
	// output), --stats every interval with the pings answered and the
	// datagrams echoed, and once more on exit.
	t.Run("json stats", func(t *testing.T) {
		ns := newNetns(t, prefix+"sv-json")
		ipCmd(t, "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap")
		ipCmd(t, "-n", ns, "addr", "add", "198.18.1.1/24", "dev", "tap0")
		ipCmd(t, "-n", ns, "link", "set", "tap0", "up")
		cmd, out := startServe(t, bin, ns, "--link", "tap:tap0", "--addr", "198.18.1.2/24",
			"--udp-echo", "7", "--tcp-echo", "7", "--stats", "--stats-interval", "100ms", "--json")
		checkEcho(t, ns, "198.18.1.2")
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), `"stopped"`) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var events []string
		var last serveStats
		for _, l := range lines {
			var ev map[string]any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("line %q is not JSON (%v):\n%s", l, err, out.String())
			}
			events = append(events, fmt.Sprint(ev["event"]))
			if ev["event"] == "stats" {
				json.Unmarshal([]byte(l), &last)
			}
		}
		if len(events) < 4 || events[0] != "serving" || events[len(events)-1] != "stopped" || events[len(events)-2] != "stats" ||
			!strings.Contains(lines[0], `"addr":"198.18.1.2/24","link":"tap:tap0"`) {
			t.Errorf("events %q, want serving, stats (every 100ms and on exit), stopped:\n%s", events, out.String())
		}
		if last.Outcomes["icmp-echo-request"] != 3 || last.Answered < 3 || last.UDPEchoed != 1 || last.TCPConnections != 1 ||
			last.TCPBytesEchoed != int64(len("hello over tcp4")) || last.Frames == 0 {
			t.Errorf("last stats %+v: want 3 echo requests answered, 1 datagram and 1 connection (15 bytes) echoed", last)
		}
	})
}

func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--link", "eth0", "--addr", "198.18.0.2/24"},
		{"--link", "tap:x"},
		{"--link", "tap:x", "--addr", "198.18.0.2"},
		{"--link", "tap:x", "--addr", "198.18.0.2/24", "--gw", "198.19.0.1"},
		{"--link", "tap:x", "--addr", "198.18.0.2/24", "--udp-echo", "70000"},
	} {
		var out bytes.Buffer
		if code := run(append([]string{"serve"}, args...), &out, &out); code != exitUsage {
			t.Errorf("serve %q: exit %d, want %d (usage)\n%s", args, code, exitUsage, out.String())
		}
	}
	var out bytes.Buffer
	if code := run([]string{"nosuchcommand"}, &out, &out); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
}
