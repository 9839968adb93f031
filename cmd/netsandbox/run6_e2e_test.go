package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"netsandbox/test/harness"
)

// The IPv6 topology: netsandbox runs in a host namespace whose eth0 faces a
// router namespace, which routes to a far namespace over a link with a
// smaller MTU. Documentation addresses, only inside these namespaces.
const (
	host6   = "2001:db8:1::1"
	router6 = "2001:db8:1::2"
	far6    = "2001:db8:2::2"
	far6MTU = "1400"
)

// run6Topology is the IPv6 topology with an HTTP server and a UDP echo
// server on the far namespace; it returns the host namespace. The far
// namespace also answers one datagram to port 9 late, from a socket
// connected to its sender, and sends on refused what that socket read
// next (ECONNREFUSED once the sender's port unreachable came back).
func run6Topology(t *testing.T) (string, chan error) {
	t.Helper()
	requireNetns(t)
	for _, tool := range []string{"curl", "tracepath", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s", tool)
		}
	}
	prefix := harness.NewRunPrefix()
	host, router, far := newNetns(t, prefix+"r6-host"), newNetns(t, prefix+"r6-rtr"), newNetns(t, prefix+"r6-far")
	ipCmd(t, "-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", router)
	ipCmd(t, "-n", router, "link", "add", "eth1", "mtu", far6MTU, "type", "veth", "peer", "name", "eth0", "mtu", far6MTU, "netns", far)
	for _, a := range [][3]string{{host, "eth0", host6}, {router, "eth0", router6}, {router, "eth1", "2001:db8:2::1"}, {far, "eth0", far6}} {
		ipCmd(t, "-n", a[0], "addr", "add", a[2]+"/64", "dev", a[1], "nodad")
	}
	for _, ns := range []string{host, router, far} {
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
	}
	ipCmd(t, "-n", router, "link", "set", "eth1", "up")
	ipCmd(t, "-n", host, "-6", "route", "add", "2001:db8:2::/64", "via", router6)
	ipCmd(t, "-n", far, "-6", "route", "add", "default", "via", "2001:db8:2::1")
	// The router forwards and, like the far end, answers every probe;
	// the gateway's ICMPv6 ping sockets need ping_group_range (root's
	// group 0 is outside Linux's default "1 0").
	for _, w := range [][3]string{
		{router, "net.ipv6.conf.all.forwarding", "1"},
		{router, "net.ipv6.icmp.ratelimit", "0"},
		{far, "net.ipv6.icmp.ratelimit", "0"},
		// An address nobody has on the far link is unreachable in ~1 s.
		{router, "net.ipv6.neigh.eth1.retrans_time_ms", "300"},
		{host, "net.ipv4.ping_group_range", "0 2147483647"},
	} {
		if err := harness.WriteSysctl(w[0], w[1], w[2]); err != nil {
			t.Fatal(err)
		}
	}
	// A router sends neighbour solicitations from its link-local address:
	// wait until no link-local address is tentative any more.
	for _, ns := range []string{host, router, far} {
		for i := 0; ; i++ {
			out, err := exec.Command("ip", "-n", ns, "-6", "addr", "show", "tentative").Output()
			if err == nil && len(strings.TrimSpace(string(out))) == 0 {
				break
			}
			if i == 100 {
				t.Fatalf("%s: addresses still tentative after 5 s:\n%s", ns, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var hl net.Listener
	var uc net.PacketConn
	var late *net.UDPConn
	err := harness.InNetns(far, func() (err error) {
		if hl, err = net.Listen("tcp6", "["+far6+"]:8080"); err != nil {
			return err
		}
		if uc, err = net.ListenPacket("udp6", "["+far6+"]:7"); err != nil {
			return err
		}
		late, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP(far6), Port: 9})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			// More than one segment over the far link: TCP meets its MTU.
			w.Write([]byte(strings.Repeat("0123456789abcdef", 16384)))
			return
		}
		fmt.Fprintf(w, "hello from %s to %s\n", far6, r.RemoteAddr)
	})}
	go srv.Serve(hl)
	t.Cleanup(func() { srv.Close(); uc.Close(); late.Close() })
	refused := make(chan error, 1)
	go func() {
		buf := make([]byte, 100)
		_, from, err := late.ReadFromUDPAddrPort(buf)
		late.Close()
		if err != nil {
			refused <- err
			return
		}
		var c *net.UDPConn
		err = harness.InNetns(far, func() (err error) {
			c, err = net.DialUDP("udp6", &net.UDPAddr{IP: net.ParseIP(far6), Port: 9}, net.UDPAddrFromAddrPort(from))
			return err
		})
		if err != nil {
			refused <- err
			return
		}
		defer c.Close()
		time.Sleep(300 * time.Millisecond) // the sender has closed its socket
		c.Write([]byte("late"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = c.Read(buf)
		refused <- err
	}()
	go func() {
		buf := make([]byte, 65536)
		for i := 0; i < 1000; i++ {
			n, from, err := uc.ReadFrom(buf)
			if err != nil {
				return
			}
			uc.WriteTo(buf[:n], from)
		}
	}()
	return host, refused
}

var tracepathHop6 = regexp.MustCompile(`(?m)^\s*(\d+):\s+([0-9a-f:]+:[0-9a-f:]*)\s`)

// TestRunIPv6: the sandbox has fd00::100/64 with a default route via
// fd00::2, and TCP, UDP and ICMPv6 echo reach an IPv6 peer through the
// host's sockets, with hop limit minus one at the gateway, ICMPv6 errors
// from the real offender and the path MTU.
func TestRunIPv6(t *testing.T) {
	host, refused := run6Topology(t)
	bin := buildBinary(t)

	t.Run("address and route", func(t *testing.T) {
		// --dns-upstream: a resolver whatever the host's resolv.conf says,
		// so run writes the sandbox's.
		out, code := sandboxRun(t, bin, host, "", "--dns-upstream", "127.0.0.1:5353", "--", "sh", "-c", "ip -6 addr show dev tap0; ip -6 route; cat /etc/resolv.conf")
		if code != 0 || !strings.Contains(out, "inet6 fd00::100/64") || !strings.Contains(out, "default via fd00::2 dev tap0") {
			t.Errorf("sandbox IPv6 address or route missing: exit %d\n%s", code, out)
		}
		if !strings.Contains(out, "nameserver 10.0.2.3\nnameserver fd00::3\n") {
			t.Errorf("the sandbox's resolv.conf does not name 10.0.2.3, then fd00::3:\n%s", out)
		}
	})

	t.Run("curl -6 and UDP", func(t *testing.T) {
		script := "curl -6 -sS -m 5 http://[" + far6 + "]:8080/ && " +
			"curl -6 -sS -m 10 -o /dev/null -w 'big %{size_download}\\n' http://[" + far6 + "]:8080/big && " +
			"exec 3<>/dev/udp/" + far6 + "/7 && echo udp6-echo >&3 && timeout 3 head -c 10 <&3"
		out, code := sandboxRun(t, bin, host, "", "--stats", "--", "bash", "-c", script)
		for _, want := range []string{"hello from " + far6 + " to [" + host6 + "]:", "big 262144", "udp6-echo", "flows tcp 2 udp 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q: exit %d\n%s", want, code, out)
			}
		}
	})

	// Order matters from here: the first packet too big must come from
	// the router, before the host has learnt the path MTU.
	t.Run("ping -6", func(t *testing.T) {
		script := "ping -6 -n -c 3 -i 0.2 -W 2 " + far6 + "; ping -6 -n -c 1 -W 2 -t 1 " + far6 +
			"; ping -6 -n -c 1 -W 2 -t 2 " + far6 + "; ping -6 -n -c 1 -W 2 -s 1420 -M do " + far6
		out, _ := sandboxRun(t, bin, host, "", "--", "sh", "-c", script)
		for _, want := range []string{
			"3 received",
			// 64 at the far end, minus the router, minus the gateway.
			"from " + far6 + ": icmp_seq=1 ttl=62",
			"From fd00::2 icmp_seq=1 Time exceeded: Hop limit",
			"From " + router6 + " icmp_seq=1 Time exceeded: Hop limit",
			"From " + router6 + " icmp_seq=1 Packet too big: mtu=" + far6MTU,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q\n%s", want, out)
			}
		}
	})

	t.Run("ping -6 over raw sockets", func(t *testing.T) {
		// Linux's default: no group may open ping sockets, so the gateway
		// (root) relays over raw ICMPv6 sockets, with the same fidelity.
		if err := harness.WriteSysctl(host, "net.ipv4.ping_group_range", "1 0"); err != nil {
			t.Fatal(err)
		}
		defer harness.WriteSysctl(host, "net.ipv4.ping_group_range", "0 2147483647")
		script := "ping -6 -n -c 2 -i 0.2 -W 2 " + far6 + " & ping -6 -n -c 2 -i 0.2 -W 2 " + far6 +
			"; wait; ping -6 -n -c 1 -W 2 -t 2 " + far6 + "; ping -6 -n -c 1 -W 2 -s 1420 -M do " + far6
		out, _ := sandboxRun(t, bin, host, "", "--", "sh", "-c", script)
		for _, want := range []string{
			"2 packets transmitted, 2 received",
			"from " + far6 + ": icmp_seq=1 ttl=62",
			"From " + router6 + " icmp_seq=1 Time exceeded: Hop limit",
			// From the gateway now: the host learnt the path MTU above.
			"From fd00::2 icmp_seq=1 Packet too big: mtu=" + far6MTU,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q\n%s", want, out)
			}
		}
		if n := strings.Count(out, "2 packets transmitted, 2 received"); n != 2 {
			t.Errorf("two pings at once: %d got both replies, want 2 (each flow its own replies)\n%s", n, out)
		}
	})

	t.Run("tracepath -6", func(t *testing.T) {
		out, code := sandboxRun(t, bin, host, "", "--", "tracepath", "-6", "-n", "-m", "6", far6)
		var hops []string
		for _, m := range tracepathHop6.FindAllStringSubmatch(out, -1) {
			if len(hops) == 0 || hops[len(hops)-1] != m[2] {
				hops = append(hops, m[2])
			}
		}
		_, resume := tracepathHops(out)
		want := []string{"fd00::2", router6, far6}
		if code != 0 || strings.Join(hops, " ") != strings.Join(want, " ") || resume != "pmtu "+far6MTU+" hops 3 back 3" {
			t.Errorf("tracepath -6: exit %d, hops %q (want %q), resume %q (want pmtu %s hops 3 back 3)\n%s", code, hops, want, resume, far6MTU, out)
		}
	})

	t.Run("traceroute -6", func(t *testing.T) {
		if _, err := exec.LookPath("traceroute"); err != nil {
			t.Fatal("needs traceroute")
		}
		// UDP, ICMPv6 echo and TCP SYN probes: each hop answers from its
		// own address, the gateway first.
		for _, mode := range [][]string{{}, {"-I"}, {"-T", "-p", "8080"}} {
			args := append([]string{"--", "traceroute", "-6", "-n", "-q", "1", "-w", "2", "-m", "5"}, mode...)
			out, _ := sandboxRun(t, bin, host, "", append(args, far6)...)
			re := regexp.MustCompile(`(?m)^ 1  fd00::2 .*\n 2  ` + regexp.QuoteMeta(router6) + ` .*\n 3  ` + regexp.QuoteMeta(far6) + ` `)
			if !re.MatchString(out) {
				t.Errorf("traceroute -6 %q: want fd00::2, %s, %s\n%s", mode, router6, far6, out)
			}
		}
	})

	t.Run("UDP larger than the links", func(t *testing.T) {
		// 3000 bytes each way: fragmented by the sandbox, reassembled by
		// the gateway, fragmented again by the host for the 1400 link (a
		// packet too big may cost the first one, as on a real path), and
		// the echo fragmented by the gateway's stack for the TAP.
		script := "exec 3<>/dev/udp/" + far6 + "/7; head -c 3000 /dev/zero >&3; sleep 0.3; " +
			"head -c 3000 /dev/zero >&3 2>/dev/null || head -c 3000 /dev/zero >&3; " +
			"echo \"got $(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | wc -c)\""
		out, _ := sandboxRun(t, bin, host, "", "--", "bash", "-c", script)
		if !strings.Contains(out, "got 3000") {
			t.Errorf("3000-byte UDP echo over IPv6: want got 3000\n%s", out)
		}
	})

	t.Run("unreachable from the router", func(t *testing.T) {
		// No neighbour answers for ::99: the router's address unreachable
		// reaches the sandbox for ping, and for TCP (EHOSTUNREACH, where
		// a RST from the gateway would say "refused").
		script := "ping -6 -n -c 1 -W 3 2001:db8:2::99; curl -6 -v -sS -m 5 http://[2001:db8:2::99]:8080/"
		out, _ := sandboxRun(t, bin, host, "", "--", "sh", "-c", script)
		for _, want := range []string{"From " + router6 + " icmp_seq=1 Destination unreachable: Address unreachable", "No route to host"} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q\n%s", want, out)
			}
		}
	})

	t.Run("policy applies", func(t *testing.T) {
		script := "curl -6 -sS -m 3 http://[" + far6 + "]:8080/; ping -6 -n -c 1 -W 2 " + far6 +
			"; exec 3<>/dev/udp/" + far6 + "/7; echo x >&3; timeout 2 head -c 1 <&3"
		out, _ := sandboxRun(t, bin, host, "", "--stats", "--deny-all", "--", "bash", "-c", script)
		if strings.Contains(out, "hello from") || !strings.Contains(out, "Administratively prohibited") || !strings.Contains(out, "denied 3") {
			t.Errorf("--deny-all: IPv6 flows not all refused\n%s", out)
		}
		for _, allow := range []string{"tcp:*:8080", "[2001:db8:2::/64]:8080/tcp"} {
			out, _ = sandboxRun(t, bin, host, "", "--deny-all", "--allow", allow, "--", "curl", "-6", "-sS", "-m", "5", "http://["+far6+"]:8080/")
			if !strings.Contains(out, "hello from") {
				t.Errorf("--deny-all --allow %s: IPv6 flow refused\n%s", allow, out)
			}
		}
		out, _ = sandboxRun(t, bin, host, "", "--deny", "icmp:"+far6, "--", "sh", "-c", "ping -6 -n -c 1 -W 2 "+far6+"; curl -6 -sS -m 5 http://["+far6+"]:8080/")
		if !strings.Contains(out, "Administratively prohibited") || !strings.Contains(out, "hello from") {
			t.Errorf("--deny icmp:%s: want ping refused and TCP relayed\n%s", far6, out)
		}
	})

	t.Run("sandbox's ICMPv6 error to the world", func(t *testing.T) {
		// The sandbox closes its socket before the late reply: its port
		// unreachable reaches the far end from the host's address, quoting
		// the reply as the far end sent it, so its connected socket reads
		// ECONNREFUSED.
		out, _ := sandboxRun(t, bin, host, "", "--stats", "--", "bash", "-c",
			"exec 3<>/dev/udp/"+far6+"/9; echo probe >&3; exec 3>&-; sleep 1.5")
		select {
		case err := <-refused:
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("far end read %v, want ECONNREFUSED\n%s", err, out)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("far end never answered\n%s", out)
		}
		if !strings.Contains(out, "sandbox icmp errors relayed 1,") {
			t.Errorf("--stats: want one relayed sandbox error\n%s", out)
		}
	})

	t.Run("published port over IPv6", func(t *testing.T) {
		if _, err := exec.LookPath("socat"); err != nil {
			t.Fatal("needs socat (a listener inside the sandbox)")
		}
		out, wait := startSandbox(t, bin, host, "-v", "-p", "[::1]:18081:8081", "--", "socat", "TCP6-LISTEN:8081", "EXEC:cat")
		defer wait()
		got := ""
		for i := 0; i < 50 && got != "through -p6\n"; i++ {
			harness.InNetns(host, func() error {
				c, err := net.DialTimeout("tcp6", "[::1]:18081", time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				c.Write([]byte("through -p6\n"))
				c.(*net.TCPConn).CloseWrite()
				b, _ := io.ReadAll(c)
				got = string(b)
				return nil
			})
			if got != "through -p6\n" {
				time.Sleep(200 * time.Millisecond)
			}
		}
		if got != "through -p6\n" {
			t.Errorf("-p [::1]:18081:8081: got %q\n%s", got, out.String())
		}
		if !strings.Contains(wait(), "-> published [fd00::100]:8081") {
			t.Errorf("-p [::1]:18081:8081 did not reach [fd00::100]:8081\n%s", out.String())
		}

		// UDP: socat answers the first datagram it gets, then ends CMD.
		uout, uwait := startSandbox(t, bin, host, "-v", "-p", "[::1]:18053:5353/udp", "--", "socat", "UDP6-RECVFROM:5353", "EXEC:cat")
		defer uwait()
		got = ""
		for i := 0; i < 50 && got != "udp through -p6"; i++ {
			harness.InNetns(host, func() error {
				c, err := net.Dial("udp6", "[::1]:18053")
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(300 * time.Millisecond))
				c.Write([]byte("udp through -p6"))
				b := make([]byte, 100)
				n, _ := c.Read(b)
				got = string(b[:n])
				return nil
			})
			if got != "udp through -p6" {
				time.Sleep(200 * time.Millisecond) // refused at once until run listens
			}
		}
		if got != "udp through -p6" {
			t.Errorf("-p [::1]:18053:5353/udp: got %q\n%s", got, uwait())
		}
		if !strings.Contains(uwait(), "-> published [fd00::100]:5353") {
			t.Errorf("-p [::1]:18053:5353/udp did not reach [fd00::100]:5353\n%s", uout.String())
		}

		// Nothing listens on the published port: the sandbox's port
		// unreachable reaches the client from ::1, as from a host without
		// a listener. The host itself refuses until run has bound the
		// port, so the datagram goes only once the port is taken.
		nout, nwait := startSandbox(t, bin, host, "--stats", "-p", "[::1]:18054:5354/udp", "--", "sleep", "3")
		defer nwait()
		bound := false
		for i := 0; i < 50 && !bound; i++ {
			harness.InNetns(host, func() error {
				c, err := net.ListenPacket("udp6", "[::1]:18054")
				if err == nil {
					c.Close()
				}
				bound = errors.Is(err, syscall.EADDRINUSE)
				return nil
			})
			if !bound {
				time.Sleep(100 * time.Millisecond)
			}
		}
		var rerr error
		harness.InNetns(host, func() error {
			c, err := net.Dial("udp6", "[::1]:18054")
			if err != nil {
				rerr = err
				return nil
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write([]byte("anyone there?"))
			_, rerr = c.Read(make([]byte, 100))
			return nil
		})
		if !bound || !errors.Is(rerr, syscall.ECONNREFUSED) {
			t.Errorf("-p [::1]:18054:5354/udp without a listener: bound %v, read %v; want ECONNREFUSED\n%s", bound, rerr, nout.String())
		}
		if out := nwait(); !strings.Contains(out, "sandbox icmp errors relayed 1,") {
			t.Errorf("--stats: want the sandbox's port unreachable relayed\n%s", out)
		}
	})

	t.Run("rootless", func(t *testing.T) {
		// The child sets up IPv6 inside its user namespace; the gateway
		// relays ping over ICMPv6 ping sockets (ping_group_range is open).
		userBin, tun := rootlessFiles(t, bin)
		script := `[ "$(id -u)" = 0 ] || exit 30
curl -6 -sS -m 5 http://[` + far6 + `]:8080/ || exit 31
ping -6 -n -c 1 -W 2 ` + far6 + ` || exit 32
exit 4`
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount --make-rprivate / && mount --bind "$1" /dev/net/tun && exec ip netns exec "$2" setpriv --reuid=65534 --regid=65534 --clear-groups "$3" run -- bash -c "$4"`,
			"sh", tun, host, userBin, script)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 4 || !strings.Contains(string(out), "hello from") || !strings.Contains(string(out), "1 received") {
			t.Errorf("rootless run over IPv6: exit %d, want 4 with curl -6 and a ping -6 reply:\n%s", code, out)
		}
	})

	t.Run("DNS at fd00::3 and AAAA names in policy", func(t *testing.T) {
		// The resolv.conf run writes names 10.0.2.3 first, so curl would
		// resolve over IPv4: here run leaves it alone (--resolv-conf=false)
		// and the one the host namespace shows names fd00::3 only, so the
		// lookup must cross IPv6. The gateway's resolver is a small AAAA
		// server on the host's 127.0.0.1:5353.
		hostResolvConf(t, host, "fd00::3")
		var pc net.PacketConn
		if err := harness.InNetns(host, func() (err error) {
			pc, err = net.ListenPacket("udp4", "127.0.0.1:5353")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go serveAAAA(pc, map[string]netip.Addr{"v6.example.test": netip.MustParseAddr(far6), "other.example.test": netip.MustParseAddr(far6)})
		args := []string{"--resolv-conf=false", "--dns-upstream", "127.0.0.1:5353", "--deny-all", "--allow", "v6.example.test", "--"}
		out, _ := sandboxRun(t, bin, host, "", append(args, "curl", "-6", "-sS", "-m", "5", "http://v6.example.test:8080/")...)
		if !strings.Contains(out, "hello from") {
			t.Errorf("curl -6 to an allowed name resolved through fd00::3 failed\n%s", out)
		}
		out, _ = sandboxRun(t, bin, host, "", append(args, "curl", "-6", "-sS", "-m", "5", "http://other.example.test:8080/")...)
		if strings.Contains(out, "hello from") {
			t.Errorf("curl -6 to a name the policy does not allow reached it\n%s", out)
		}
	})

	t.Run("--ipv6=false", func(t *testing.T) {
		out, _ := sandboxRun(t, bin, host, "", "--ipv6=false", "--dns-upstream", "127.0.0.1:5353", "--", "sh", "-c",
			"ip -6 route; curl -6 -sS -m 3 http://["+far6+"]:8080/; cat /etc/resolv.conf")
		if strings.Contains(out, "hello from") || strings.Contains(out, "default via fd00::2") || strings.Contains(out, "fd00::3") ||
			!strings.Contains(out, "nameserver 10.0.2.3") {
			t.Errorf("--ipv6=false: the sandbox still has IPv6 (or its resolv.conf names fd00::3, or not 10.0.2.3)\n%s", out)
		}
	})
}

// serveAAAA answers DNS queries on pc: AAAA records for the names in
// names, no data for anything else; it ends when pc closes.
func serveAAAA(pc net.PacketConn, names map[string]netip.Addr) {
	buf := make([]byte, 512)
	for i := 0; i < 1000; i++ {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := buf[:n]
		if n < 12 {
			continue
		}
		// The question: labels, then type and class.
		var labels []string
		off := 12
		for off < n && q[off] != 0 && off+1+int(q[off]) < n {
			labels = append(labels, string(q[off+1:off+1+int(q[off])]))
			off += 1 + int(q[off])
		}
		if off+5 > n {
			continue
		}
		qtype := binary.BigEndian.Uint16(q[off+1:])
		end := off + 5
		ans := append([]byte(nil), q[:end]...)
		ans[2], ans[3] = 0x81, 0x80
		binary.BigEndian.PutUint16(ans[6:], 0)
		binary.BigEndian.PutUint16(ans[8:], 0)
		binary.BigEndian.PutUint16(ans[10:], 0)
		if a, ok := names[strings.ToLower(strings.Join(labels, "."))]; ok && qtype == 28 {
			binary.BigEndian.PutUint16(ans[6:], 1)
			a16 := a.As16()
			ans = append(ans, 0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16)
			ans = append(ans, a16[:]...)
		}
		pc.WriteTo(ans, from)
	}
}
