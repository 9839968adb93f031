package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// runTopology is a "host" namespace where netsandbox runs (its kernel
// sockets are the gateway's way out) and a "target" namespace behind a veth
// with TCP and UDP echo servers; nothing else is reachable. (bash reads a
// datagram socket a byte at a time, so the scripts read datagrams with dd.)
type runTopology struct {
	host, target, far string
	mu                sync.Mutex
	peers             []string // "tcp 198.18.5.2:port" as the target saw them
}

const (
	targetAddr = "198.18.5.1"
	hostAddr   = "198.18.5.2"
	// The target also routes to a far namespace over a link with MTU 1280.
	farAddr = "198.18.6.2"
	farMTU  = "1280"
)

func (tp *runTopology) saw(s string) {
	tp.mu.Lock()
	tp.peers = append(tp.peers, s)
	tp.mu.Unlock()
}

func (tp *runTopology) seen() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.peers...)
}

func newRunTopology(t *testing.T) *runTopology {
	t.Helper()
	requireNetns(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("needs bash (its /dev/tcp and /dev/udp are the sandbox's clients)")
	}
	prefix := harness.NewRunPrefix()
	tp := &runTopology{host: newNetns(t, prefix+"rn-host"), target: newNetns(t, prefix+"rn-tgt")}
	ipCmd(t, "-n", tp.host, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", tp.target)
	ipCmd(t, "-n", tp.host, "addr", "add", hostAddr+"/24", "dev", "eth0")
	ipCmd(t, "-n", tp.target, "addr", "add", targetAddr+"/24", "dev", "eth0")
	tp.far = newNetns(t, prefix+"rn-far")
	ipCmd(t, "-n", tp.target, "link", "add", "eth1", "mtu", farMTU, "type", "veth", "peer", "name", "eth0", "mtu", farMTU, "netns", tp.far)
	ipCmd(t, "-n", tp.target, "addr", "add", "198.18.6.1/24", "dev", "eth1")
	ipCmd(t, "-n", tp.far, "addr", "add", farAddr+"/24", "dev", "eth0")
	ipCmd(t, "-n", tp.target, "link", "set", "eth1", "up")
	for _, ns := range []string{tp.host, tp.target, tp.far} {
		ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	ipCmd(t, "-n", tp.host, "route", "add", "198.18.6.0/24", "via", targetAddr)
	ipCmd(t, "-n", tp.far, "route", "add", "default", "via", "198.18.6.1")
	// The target forwards; kernel peers answer every probe (no ICMP rate
	// limiting, per destination or overall: parallel traceroutes get
	// dozens of host unreachables at once). Packets waiting for a far
	// neighbour that never answers ARP all get their host unreachable:
	// the default queue (212992 B of truesize) holds only a few dozen
	// forwarded probes and drops the oldest. A SYN retransmitted while the
	// kernel sends those errors restarts resolution and leaves the rest
	// queued for another round; connects waiting on the same neighbour
	// retransmit each second in step with its ARP probes, so ARP probes
	// every 0.5 s make resolution fail (after 1.5 s) between two of them.
	for _, w := range [][3]string{
		{tp.target, "net.ipv4.ip_forward", "1"},
		{tp.target, "net.ipv4.icmp_ratelimit", "0"},
		{tp.far, "net.ipv4.icmp_ratelimit", "0"},
		{tp.target, "net.ipv4.icmp_msgs_burst", "10000"},
		{tp.far, "net.ipv4.icmp_msgs_burst", "10000"},
		{tp.target, "net.ipv4.neigh.eth1.unres_qlen_bytes", "4194304"},
		{tp.target, "net.ipv4.neigh.eth1.retrans_time_ms", "500"},
	} {
		if err := harness.WriteSysctl(w[0], w[1], w[2]); err != nil {
			t.Fatal(err)
		}
	}
	var tl net.Listener
	var uc, dns net.PacketConn
	err := harness.InNetns(tp.target, func() (err error) {
		if tl, err = net.Listen("tcp4", targetAddr+":7"); err != nil {
			return err
		}
		if uc, err = net.ListenPacket("udp4", targetAddr+":7"); err != nil {
			return err
		}
		dns, err = net.ListenPacket("udp4", targetAddr+":53")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close(); uc.Close(); dns.Close() })
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			tp.saw("tcp " + c.RemoteAddr().String())
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
	for _, pc := range []net.PacketConn{uc, dns} {
		go func(pc net.PacketConn) {
			buf := make([]byte, 65536)
			for i := 0; i < 1000; i++ {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				tp.saw(fmt.Sprintf("udp %s -> %s", from, pc.LocalAddr()))
				pc.WriteTo(buf[:n], from)
			}
		}(pc)
	}
	return tp
}

// sandboxRun runs `netsandbox run ARGS` inside the host namespace, with
// stdin, and returns its combined output and exit status.
func sandboxRun(t *testing.T, bin, host, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", host, bin, "run"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("netsandbox run %q did not end in 60 s:\n%s", args, out.String())
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

func TestRunEndToEnd(t *testing.T) {
	tp := newRunTopology(t)
	bin := buildBinary(t)

	t.Run("exit status and stdio", func(t *testing.T) {
		if out, code := sandboxRun(t, bin, tp.host, "", "--", "sh", "-c", "exit 7"); code != 7 {
			t.Errorf("run -- sh -c 'exit 7': exit %d, want 7\n%s", code, out)
		}
		if out, code := sandboxRun(t, bin, tp.host, "", "--", "sh", "-c", "kill -TERM $$"); code != 143 {
			t.Errorf("CMD killed by SIGTERM: exit %d, want 143\n%s", code, out)
		}
		out, code := sandboxRun(t, bin, tp.host, "from stdin\n", "--", "sh", "-c", "cat; echo to-stderr >&2")
		if code != 0 || !strings.Contains(out, "from stdin") || !strings.Contains(out, "to-stderr") {
			t.Errorf("stdin/stdout/stderr: exit %d\n%s", code, out)
		}
		// SIGTERM to netsandbox goes to CMD, whose status decides.
		cmd := exec.Command("ip", "netns", "exec", tp.host, bin, "run", "--", "sh", "-c", "echo started; exec sleep 20")
		var sigOut syncBuffer
		cmd.Stdout, cmd.Stderr = &sigOut, &sigOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100 && !strings.Contains(sigOut.String(), "started"); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		start := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 143 || time.Since(start) > 10*time.Second {
			t.Errorf("SIGTERM to netsandbox run: exit %d (%v) after %v, want 143 at once\n%s", code, err, time.Since(start), sigOut.String())
		}
		if out, code := sandboxRun(t, bin, tp.host, "", "--", "no-such-command-nsbx"); code != 127 {
			t.Errorf("missing CMD: exit %d, want 127\n%s", code, out)
		}
	})

	t.Run("sandbox network", func(t *testing.T) {
		out, code := sandboxRun(t, bin, tp.host, "", "--mtu", "9000", "--", "sh", "-c",
			"ip -4 -o addr show dev tap0; ip route; ip link show tap0; cat /etc/resolv.conf")
		for _, want := range []string{"10.0.2.100/24", "default via 10.0.2.2 dev tap0", "mtu 9000", "nameserver 10.0.2.3"} {
			if !strings.Contains(out, want) {
				t.Errorf("sandbox lacks %q (exit %d):\n%s", want, code, out)
			}
		}
		// Nothing is left behind in the host namespace.
		links, _ := exec.Command("ip", "-n", tp.host, "-o", "link").CombinedOutput()
		if strings.Contains(string(links), "tap") {
			t.Errorf("host namespace keeps a TAP after run:\n%s", links)
		}
	})

	t.Run("tcp udp ping", func(t *testing.T) {
		script := `exec 3<>/dev/tcp/` + targetAddr + `/7 || exit 10
echo hello-tcp >&3; read -t 5 l <&3; echo "tcp:$l"; exec 3<&-
exec 4<>/dev/udp/` + targetAddr + `/7 || exit 11
echo hello-udp >&4; echo "udp:$(timeout 5 dd bs=65536 count=1 <&4 2>/dev/null)"; exec 4<&-
ping -c 2 -i 0.2 -W 2 ` + targetAddr + ` || exit 12
ping -c 1 -W 1 198.18.5.9 && exit 13
(exec 5<>/dev/tcp/` + targetAddr + `/8) 2>/dev/null && exit 14
exit 0`
		pcap := filepath.Join(t.TempDir(), "run.pcap")
		out, code := sandboxRun(t, bin, tp.host, "", "-v", "--stats", "--pcap", pcap, "--", "bash", "-c", script)
		if code != 0 {
			t.Fatalf("sandbox script failed with %d:\n%s", code, out)
		}
		for _, want := range []string{"tcp:hello-tcp", "udp:hello-udp", "2 received", "ttl=63", "1 packets transmitted, 0 received",
			"netsandbox: flows tcp 1 udp 1 icmp 2"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// The capture holds the sandbox's side: the echo request to the
		// target and its reply from the target's address.
		if b, err := os.ReadFile(pcap); err != nil || len(b) < 24+16+34 || !bytes.Contains(b, []byte{198, 18, 5, 1, 10, 0, 2, 100}) {
			t.Errorf("--pcap: %d bytes (%v), want frames from %s to 10.0.2.100", len(b), err, targetAddr)
		} else if n := pcapEchoReplies(b, [4]byte{198, 18, 5, 1}, [4]byte{10, 0, 2, 100}); n != 2 {
			// Both replies recorded as IP packets, the second one's from
			// the gateway's short path (gateway/fastpath.go) too.
			t.Errorf("--pcap: %d echo replies from %s to 10.0.2.100 recorded as IPv4 packets, want 2", n, targetAddr)
		}
		// The target saw the host's address: the flows left through the
		// host's kernel sockets.
		seen := strings.Join(tp.seen(), "\n")
		for _, re := range []string{`tcp ` + hostAddr + `:\d+`, `udp ` + hostAddr + `:\d+ -> ` + targetAddr + `:7`} {
			if !regexp.MustCompile(re).MatchString(seen) {
				t.Errorf("target did not see %s; saw:\n%s", re, seen)
			}
		}
	})

	t.Run("offload off", func(t *testing.T) {
		// --offload=false: a plain TAP (no virtio-net header), every frame
		// MTU-sized; TCP and UDP still get through.
		script := `ip -d link show tap0 | grep -o 'vnet_hdr [a-z]*'
exec 3<>/dev/tcp/` + targetAddr + `/7 || exit 10
echo hello-tcp >&3; read -t 5 l <&3; echo "tcp:$l"; exec 3<&-
exec 4<>/dev/udp/` + targetAddr + `/7 || exit 11
echo hello-udp >&4; echo "udp:$(timeout 5 dd bs=65536 count=1 <&4 2>/dev/null)"`
		for _, c := range []struct{ flag, want string }{{"--offload=false", "vnet_hdr off"}, {"--offload=true", "vnet_hdr on"}} {
			out, code := sandboxRun(t, bin, tp.host, "", c.flag, "--", "bash", "-c", script)
			for _, want := range []string{c.want, "tcp:hello-tcp", "udp:hello-udp"} {
				if code != 0 || !strings.Contains(out, want) {
					t.Errorf("run %s: exit %d, output lacks %q:\n%s", c.flag, code, want, out)
				}
			}
		}
	})

	t.Run("tcp connect errors come from where they happen", func(t *testing.T) {
		// 198.19.0.1: the host has no route, so the gateway answers net
		// unreachable; 198.18.6.9: the router finds no neighbour and answers
		// host unreachable; port 8 of the target: its RST.
		script := `for d in 198.19.0.1/80 198.18.6.9/80 ` + targetAddr + `/8; do (exec 3<>/dev/tcp/$d) 2>&1 | sed 's/.*: //'; done`
		out, _ := sandboxRun(t, bin, tp.host, "", "--", "bash", "-c", script)
		for _, want := range []string{"Network is unreachable", "No route to host", "Connection refused"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("tracepath sees the real path", func(t *testing.T) {
		if _, err := exec.LookPath("tracepath"); err != nil {
			t.Fatal("needs iputils-tracepath")
		}
		direct, err := exec.Command("ip", "netns", "exec", tp.host, "tracepath", "-n", farAddr).CombinedOutput()
		if err != nil {
			t.Fatalf("tracepath on the host side: %v\n%s", err, direct)
		}
		out, code := sandboxRun(t, bin, tp.host, "", "--", "tracepath", "-n", farAddr)
		if code != 0 {
			t.Fatalf("tracepath in the sandbox: exit %d\n%s", code, out)
		}
		hostHops, hostResume := tracepathHops(string(direct))
		sbHops, sbResume := tracepathHops(out)
		want := append([]string{"10.0.2.2"}, hostHops...)
		// One more hop each way (the gateway), the same path MTU.
		wantResume := fmt.Sprintf("pmtu %s hops %d back %d", farMTU, len(hostHops)+1, len(hostHops)+1)
		if strings.Join(sbHops, " ") != strings.Join(want, " ") || sbResume != wantResume || hostResume != fmt.Sprintf("pmtu %s hops %d back %d", farMTU, len(hostHops), len(hostHops)) {
			t.Errorf("sandbox hops %q, %q; want %q, %q (host side: %q, %q)\nsandbox:\n%s\nhost:\n%s",
				sbHops, sbResume, want, wantResume, hostHops, hostResume, out, direct)
		}
		// ping with DF over the narrow link learns the MTU; a fitting one
		// gets through.
		out, code = sandboxRun(t, bin, tp.host, "", "--", "sh", "-c",
			"ping -c 1 -W 2 -M do -s 1400 "+farAddr+"; ping -c 1 -W 2 -M do -s 1200 "+farAddr)
		if code != 0 || !strings.Contains(out, "mtu = "+farMTU) || !strings.Contains(out, "1 received") {
			t.Errorf("ping -M do: exit %d, want frag needed (mtu = %s) then a reply:\n%s", code, farMTU, out)
		}
	})

	t.Run("rootless", func(t *testing.T) {
		for _, tool := range []string{"unshare", "setpriv", "mount"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("needs %s (util-linux)", tool)
			}
		}
		userBin, tun := rootlessFiles(t, bin)
		// Ping sockets for the unprivileged gateway (raw needs CAP_NET_RAW).
		if err := harness.WriteSysctl(tp.host, "net.ipv4.ping_group_range", "0 2147483647"); err != nil {
			t.Fatal(err)
		}
		script := `[ "$(id -u)" = 0 ] || exit 30
exec 3<>/dev/tcp/` + targetAddr + `/7 || exit 31
echo rootless-tcp >&3; read -t 5 l <&3; echo "tcp:$l"
ping -c 3 -i 0.2 -W 2 ` + targetAddr + ` || exit 32
exit 4`
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount --make-rprivate / && mount --bind "$1" /dev/net/tun && exec ip netns exec "$2" setpriv --reuid=65534 --regid=65534 --clear-groups "$3" run -- bash -c "$4"`,
			"sh", tun, tp.host, userBin, script)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 4 || !strings.Contains(string(out), "tcp:rootless-tcp") || !strings.Contains(string(out), "3 received") {
			// Three echoes: the later two take the short path through a
			// ping socket (gateway/fastpath.go).
			t.Errorf("rootless run: exit %d, want 4 with a TCP echo and 3 ping replies:\n%s", code, out)
		}
	})

	t.Run("egress deny", func(t *testing.T) {
		before := len(tp.seen())
		script := `(exec 3<>/dev/tcp/` + targetAddr + `/7) 2>/dev/null && exit 20
ping -c 1 -W 2 ` + targetAddr + `; echo "ping:$?"
exit 0`
		out, code := sandboxRun(t, bin, tp.host, "", "-v", "--deny", targetAddr+"/32", "--", "bash", "-c", script)
		if code != 0 || !strings.Contains(out, "refused: denied by policy") || !strings.Contains(out, "Packet filtered") {
			t.Errorf("deny: exit %d, want a refused connection and a filtered ping:\n%s", code, out)
		}
		if after := tp.seen(); len(after) != before {
			t.Errorf("the target saw denied flows: %q", after[before:])
		}
		out, code = sandboxRun(t, bin, tp.host, "", "--deny-all", "--allow", "tcp:"+targetAddr+":7", "--", "bash", "-c",
			`exec 3<>/dev/tcp/`+targetAddr+`/7 && echo allowed-tcp; ping -c 1 -W 2 `+targetAddr+` >/dev/null || echo denied-ping`)
		if code != 0 || !strings.Contains(out, "allowed-tcp") || !strings.Contains(out, "denied-ping") {
			t.Errorf("--deny-all --allow tcp:...:7: exit %d\n%s", code, out)
		}
	})

	t.Run("dns forwarded to the host resolver", func(t *testing.T) {
		// ip netns exec shows /etc/netns/NS/resolv.conf as the host's
		// /etc/resolv.conf: the "host resolver" is the target's UDP echo.
		hostResolvConf(t, tp.host, targetAddr)
		out, code := sandboxRun(t, bin, tp.host, "", "--", "bash", "-c",
			`exec 3<>/dev/udp/10.0.2.3/53 && echo query >&3 && echo "dns:$(timeout 5 dd bs=65536 count=1 <&3 2>/dev/null)"`)
		if code != 0 || !strings.Contains(out, "dns:query") {
			t.Errorf("query to 10.0.2.3:53 not answered by the host resolver: exit %d\n%s", code, out)
		}
		if !regexp.MustCompile(`udp ` + hostAddr + `:\d+ -> ` + targetAddr + `:53`).MatchString(strings.Join(tp.seen(), "\n")) {
			t.Errorf("resolver saw no query from the host: %q", tp.seen())
		}
	})

	t.Run("published port", func(t *testing.T) {
		if _, err := exec.LookPath("socat"); err != nil {
			if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
				t.Fatal("needs socat (a listener inside the sandbox)")
			}
			t.Skip("needs socat (a listener inside the sandbox)")
		}
		cmd := exec.Command("ip", "netns", "exec", tp.host, bin, "run", "-v", "-p", "127.0.0.1:18080:8080", "--",
			"socat", "TCP-LISTEN:8080", "EXEC:cat")
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		defer func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}()
		var got string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && got != "through -p\n" {
			harness.InNetns(tp.host, func() error {
				c, err := net.DialTimeout("tcp4", "127.0.0.1:18080", time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				c.Write([]byte("through -p\n"))
				c.(*net.TCPConn).CloseWrite()
				b, _ := io.ReadAll(c)
				got = string(b)
				return nil
			})
			if got != "through -p\n" {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if got != "through -p\n" {
			t.Errorf("-p 127.0.0.1:18080:8080: got %q\n%s", got, out.String())
		}

		// UDP: socat answers the first datagram it gets, then ends CMD.
		ucmd := exec.Command("ip", "netns", "exec", tp.host, bin, "run", "-v", "-p", "127.0.0.1:18053:5353/udp", "--",
			"socat", "UDP-RECVFROM:5353", "EXEC:cat")
		var uout syncBuffer
		ucmd.Stdout, ucmd.Stderr = &uout, &uout
		if err := ucmd.Start(); err != nil {
			t.Fatal(err)
		}
		udone := make(chan error, 1)
		go func() { udone <- ucmd.Wait() }()
		defer func() {
			select {
			case <-udone:
			case <-time.After(10 * time.Second):
				ucmd.Process.Kill()
				<-udone
			}
		}()
		got = ""
		deadline = time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && got != "udp through -p" {
			harness.InNetns(tp.host, func() error {
				c, err := net.Dial("udp4", "127.0.0.1:18053")
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(500 * time.Millisecond))
				c.Write([]byte("udp through -p"))
				b := make([]byte, 100)
				n, _ := c.Read(b)
				got = string(b[:n])
				return nil
			})
		}
		if got != "udp through -p" {
			t.Errorf("-p 127.0.0.1:18053:5353/udp: got %q\n%s", got, uout.String())
		}
	})
}

// rootlessFiles gives an unprivileged user the binary and a TAP device node
// it may open (hosts often keep /dev/net/tun 0600; a private node, bound
// over it in a private mount namespace, leaves the host's alone).
func rootlessFiles(t *testing.T, bin string) (userBin, tun string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsbx-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	exe, err := os.ReadFile(bin)
	must(err)
	userBin = filepath.Join(dir, "netsandbox")
	must(os.WriteFile(userBin, exe, 0o755))
	tun = filepath.Join(dir, "tun")
	must(unix.Mknod(tun, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 200))))
	must(os.Chmod(tun, 0o666))
	return userBin, tun
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--"},
		{"--mtu", "65521", "--", "true"},
		{"--mtu", "67", "--", "true"},
		{"-p", "80", "--", "true"},
		{"-p", "1.2.3:80:80", "--", "true"},
		{"-p", "80:80/sctp", "--", "true"},
		{"-p", "0:80/udp", "--", "true"},
		{"--deny", "10.0.0.0/33", "--", "true"},
		{"--allow", "tcp:10.0.0.1:0", "--", "true"},
	} {
		var out bytes.Buffer
		if code := run(append([]string{"run"}, args...), &out, &out); code != exitUsage {
			t.Errorf("run %q: exit %d, want %d (usage)\n%s", args, code, exitUsage, out.String())
		}
	}
}

var (
	tracepathHop    = regexp.MustCompile(`(?m)^\s*(\d+):\s+(\d+\.\d+\.\d+\.\d+)\s`)
	tracepathResume = regexp.MustCompile(`Resume: (pmtu \d+ hops \d+ back \d+)`)
)

// tracepathHops lists the distinct hop addresses of a tracepath -n output in
// hop order, and its summary ("pmtu P hops H back B").
func tracepathHops(out string) (hops []string, resume string) {
	last := ""
	for _, m := range tracepathHop.FindAllStringSubmatch(out, -1) {
		if m[2] != last {
			hops = append(hops, m[2])
			last = m[2]
		}
	}
	if m := tracepathResume.FindStringSubmatch(out); m != nil {
		resume = m[1]
	}
	return hops, resume
}

// --stats --json ends with the summary as one JSON object on one line
// (--stats had no machine-readable form); --json alone is a usage error.
func TestRunStatsJSON(t *testing.T) {
	tp := newRunTopology(t)
	bin := buildBinary(t)
	out, code := sandboxRun(t, bin, tp.host, "", "--stats", "--json", "--", "ping", "-c", "1", "-W", "2", targetAddr)
	if code != 0 {
		t.Fatalf("ping in the sandbox: exit %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var st gatewayStats
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), &st); err != nil || st.ICMPFlows != 1 || st.TCPFlows != 0 || st.BytesOut == 0 ||
		!strings.Contains(last, `"dropped_bad_options":0`) {
		t.Errorf("last line %q (%v): want one JSON object with icmp_flows 1, tcp_flows 0, bytes_out > 0, every key present:\n%s", last, err, out)
	}
	if out, code := sandboxRun(t, bin, tp.host, "", "--json", "--", "true"); code != exitUsage || !strings.Contains(out, "add --stats") {
		t.Errorf("--json without --stats: exit %d, want %d:\n%s", code, exitUsage, out)
	}
}

// pcapEchoReplies counts the records of a pcap file (the raw-IP capture
// of --pcap, little endian) that are an ICMP echo reply from src to dst,
// each record starting at its IPv4 header.
func pcapEchoReplies(b []byte, src, dst [4]byte) int {
	n := 0
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		off += 16
		if incl < 0 || off+incl > len(b) {
			break
		}
		p := b[off : off+incl]
		off += incl
		if len(p) >= 21 && p[0] == 0x45 && int(binary.BigEndian.Uint16(p[2:])) == len(p) && p[9] == 1 &&
			[4]byte(p[12:16]) == src && [4]byte(p[16:20]) == dst && p[20] == 0 {
			n++
		}
	}
	return n
}
