package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/test/harness"
)

// icmpInDestUnreachs is the Icmp InDestUnreachs counter of namespace ns.
func icmpInDestUnreachs(t *testing.T, ns string) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/snmp").Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "Icmp: ") {
			continue
		}
		f := strings.Fields(l)[1:]
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "InDestUnreachs" && i < len(f) {
				v, _ := strconv.Atoi(f[i])
				return v
			}
		}
	}
	t.Fatalf("no Icmp InDestUnreachs in %s's /proc/net/snmp", ns)
	return 0
}

// startSandbox runs `netsandbox run ARGS` in the host namespace in the
// background; it returns its output and a wait that ends it (by its PID)
// if it outlives the test.
func startSandbox(t *testing.T, bin, host string, args ...string) (*syncBuffer, func() string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", host, bin, "run"}, args...)...)
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	wait := func() string {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		return out.String()
	}
	t.Cleanup(func() { wait() })
	return out, wait
}

func waitOutput(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	for i := 0; i < 200 && !strings.Contains(out.String(), s); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), s) {
		t.Fatalf("sandbox never printed %q:\n%s", s, out.String())
	}
}

// readErr reads one datagram from c, waiting at most wait.
func readErr(c *net.UDPConn, wait time.Duration) error {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 100))
	return err
}

// flood sends n datagrams to dst from an unconnected socket of the target
// and returns how many port unreachables the target got back within a
// second of the last.
func flood(t *testing.T, ns string, dst netip.AddrPort, n int) int {
	t.Helper()
	before := icmpInDestUnreachs(t, ns)
	err := harness.InNetns(ns, func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(targetAddr)})
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.WriteToUDPAddrPort([]byte("flood"), dst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	return icmpInDestUnreachs(t, ns) - before
}

var sandboxICMPStats = regexp.MustCompile(`sandbox icmp errors relayed (\d+), rate-limited (\d+), dropped (\d+), flows closed (\d+)`)

// TestRunSandboxICMPErrors: ICMP errors the sandbox's kernel sends about
// datagrams the gateway relayed reach the world as if the host sent them.
func TestRunSandboxICMPErrors(t *testing.T) {
	tp := newRunTopology(t)
	bin := buildBinary(t)

	t.Run("published port without listener", func(t *testing.T) {
		// The sandbox's kernel answers every datagram (no rate limit of
		// its own): what reaches the client is the gateway's doing.
		out, wait := startSandbox(t, bin, tp.host, "--stats", "-p", hostAddr+":18054:5354/udp", "--", "sh", "-c",
			"echo 0 >/proc/sys/net/ipv4/icmp_ratelimit && echo 10000 >/proc/sys/net/ipv4/icmp_msgs_burst && echo ready && sleep 6")
		waitOutput(t, out, "ready")
		err := harness.InNetns(tp.target, func() error {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(hostAddr), Port: 18054})
			if err != nil {
				return err
			}
			defer c.Close()
			c.Write([]byte("anyone?"))
			return readErr(c, 5*time.Second)
		})
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("client of a published UDP port nobody listens on: %v, want ECONNREFUSED", err)
		}
		// A burst of 40: the host's kernel itself (no listener on a
		// host port) and the gateway answer as many.
		const n = 40
		host := flood(t, tp.target, netip.MustParseAddrPort(hostAddr+":18099"), n)
		sandbox := flood(t, tp.target, netip.MustParseAddrPort(hostAddr+":18054"), n)
		t.Logf("port unreachables for %d datagrams: host kernel %d, published port %d", n, host, sandbox)
		if sandbox < 1 || sandbox > 7 || host-sandbox > 2 || sandbox-host > 2 {
			t.Errorf("published port answered %d of %d datagrams with port unreachable, the host's kernel %d: want the same rate limit (6 at once, then 1/s)", sandbox, n, host)
		}
		res := wait()
		m := sandboxICMPStats.FindStringSubmatch(res)
		if m == nil || m[1] == "0" || m[2] == "0" {
			t.Errorf("--stats: want errors relayed and rate-limited:\n%s", res)
		}
	})

	t.Run("reply to a closed socket", func(t *testing.T) {
		var pc *net.UDPConn
		err := harness.InNetns(tp.target, func() (err error) {
			pc, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(targetAddr), Port: 1717})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		out, wait := startSandbox(t, bin, tp.host, "--", "bash", "-c",
			"exec 4<>/dev/udp/"+targetAddr+"/1717 && echo hi >&4 && exec 4<&- && echo closed && sleep 4")
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, from, err := pc.ReadFromUDPAddrPort(make([]byte, 100))
		if err != nil {
			t.Fatalf("target got nothing: %v\n%s", err, out.String())
		}
		rc, _ := pc.SyscallConn()
		rc.Control(func(fd uintptr) {
			err = unix.Connect(int(fd), &unix.SockaddrInet4{Addr: from.Addr().As4(), Port: int(from.Port())})
		})
		if err != nil {
			t.Fatal(err)
		}
		waitOutput(t, out, "closed")
		pc.Write([]byte("late reply"))
		if err := readErr(pc, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("the remote's connected socket after replying to a closed sandbox socket: %v, want ECONNREFUSED\n%s", err, out.String())
		}
		wait()
	})

	t.Run("without a raw socket", func(t *testing.T) {
		// Unprivileged, the gateway cannot send ICMP: it closes the
		// flow's host socket, so the host's kernel refuses the remote's
		// next datagram itself.
		for _, tool := range []string{"unshare", "setpriv", "mount"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("needs %s (util-linux)", tool)
			}
		}
		userBin, tun := rootlessFiles(t, bin)
		var pc *net.UDPConn
		err := harness.InNetns(tp.target, func() (err error) {
			pc, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(targetAddr), Port: 1718})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		script := "exec 4<>/dev/udp/" + targetAddr + "/1718 && echo hi >&4 && exec 4<&- && echo closed && sleep 3"
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount --make-rprivate / && mount --bind "$1" /dev/net/tun && exec ip netns exec "$2" setpriv --reuid=65534 --regid=65534 --clear-groups "$3" run --stats -- bash -c "$4"`,
			"sh", tun, tp.host, userBin, script)
		out := new(syncBuffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		defer func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}()
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, from, err := pc.ReadFromUDPAddrPort(make([]byte, 100))
		if err != nil {
			t.Fatalf("target got nothing: %v\n%s", err, out.String())
		}
		rc, _ := pc.SyscallConn()
		rc.Control(func(fd uintptr) {
			err = unix.Connect(int(fd), &unix.SockaddrInet4{Addr: from.Addr().As4(), Port: int(from.Port())})
		})
		if err != nil {
			t.Fatal(err)
		}
		waitOutput(t, out, "closed")
		pc.Write([]byte("late reply"))
		time.Sleep(300 * time.Millisecond)
		pc.Write([]byte("later reply"))
		if err := readErr(pc, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("the remote after two replies to a closed sandbox socket, rootless: %v, want ECONNREFUSED\n%s", err, out.String())
		}
		<-done
		if m := sandboxICMPStats.FindStringSubmatch(out.String()); m == nil || m[4] != "1" {
			t.Errorf("--stats: want one flow closed:\n%s", out.String())
		}
	})

	t.Run("errors quoting no flow", func(t *testing.T) {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		before := icmpInDestUnreachs(t, tp.target)
		cmd := exec.Command("ip", "netns", "exec", tp.host, bin, "run", "--stats", "--", self, "-test.run=^TestICMPForgeHelper$")
		cmd.Env = append(os.Environ(), "NSBX_ICMP_FORGE="+targetAddr)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "forged 5") {
			t.Fatalf("forging helper in the sandbox: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
		if d := icmpInDestUnreachs(t, tp.target) - before; d != 0 {
			t.Errorf("the target got %d unreachables quoting a flow nobody relayed", d)
		}
		if m := sandboxICMPStats.FindStringSubmatch(string(out)); m == nil || m[1] != "0" || m[3] != "5" {
			t.Errorf("--stats: want 5 dropped, none relayed:\n%s", out)
		}
	})
}

// TestICMPForgeHelper is run inside a sandbox by TestRunSandboxICMPErrors
// (with NSBX_ICMP_FORGE set to the target address): it sends 5 port
// unreachables quoting a datagram the gateway never relayed.
func TestICMPForgeHelper(t *testing.T) {
	target := os.Getenv("NSBX_ICMP_FORGE")
	if target == "" {
		return // only a helper
	}
	dst := netip.MustParseAddr(target)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	msg := make([]byte, 8+20+8)
	msg[0], msg[1] = 3, 3
	ip := header.IPv4(msg[8:])
	ip.Encode(&header.IPv4Fields{TotalLength: 28, TTL: 63, Protocol: 17,
		SrcAddr: tcpip.AddrFrom4(dst.As4()), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 2, 100})})
	ip.SetChecksum(^ip.CalculateChecksum())
	header.UDP(msg[28:]).Encode(&header.UDPFields{SrcPort: 4242, DstPort: 4343, Length: 8})
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, 0))
	for i := 0; i < 5; i++ {
		if err := unix.Sendto(fd, msg, 0, &unix.SockaddrInet4{Addr: dst.As4()}); err != nil {
			t.Fatal(err)
		}
	}
	t.Log("forged 5")
	os.Stdout.WriteString("forged 5\n")
}
