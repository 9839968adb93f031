package main

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"netsandbox/test/harness"
)

// Real tools, none of ours, run the same script on the host side (in the
// topology's host namespace, on its kernel sockets) and in a sandbox behind
// the gateway (netsandbox run in that host namespace); what they print must
// match, with the gateway as one more hop.

const (
	// unreachAddr is on the far link, where no one answers ARP: the router
	// answers host unreachable after its neighbour resolution fails (~3 s).
	unreachAddr = "198.18.6.9"
	probeName   = "nsbx-probe.test"
	probeAddr   = "198.18.6.77" // an answer in DNS only
)

// hostResolvConf makes ns's /etc/resolv.conf (as ip netns exec shows it)
// name nameserver: netsandbox run in ns forwards 10.0.2.3 there.
func hostResolvConf(t *testing.T, ns, nameserver string) {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("/etc/netns") // only if empty: made here, or nobody's
	})
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+nameserver+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireTools fails (never skips) without the Debian packages .ci/run installs.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s (apt-get install traceroute iperf3 socat iputils-ping libc-bin bash)", tool)
		}
	}
}

// sideBySide runs script with $OUT set to a fresh directory and $SIDE to
// "host" or "sandbox", once on the host side and once in a sandbox, at the
// same time, and returns the two directories.
func sideBySide(t *testing.T, bin, host, script string) (hostDir, sandboxDir string) {
	t.Helper()
	hostDir, sandboxDir = t.TempDir(), t.TempDir()
	var wg sync.WaitGroup
	var hostOut []byte
	var hostErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		hostOut, hostErr = exec.Command("ip", "netns", "exec", host, "timeout", "50", "env", "OUT="+hostDir, "SIDE=host", "bash", "-c", script).CombinedOutput()
	}()
	out, code := sandboxRun(t, bin, host, "", "--", "env", "OUT="+sandboxDir, "SIDE=sandbox", "bash", "-c", script)
	wg.Wait()
	if hostErr != nil || code != 0 {
		t.Fatalf("script: host side %v, sandbox exit %d\nhost:\n%s\nsandbox:\n%s", hostErr, code, hostOut, out)
	}
	return hostDir, sandboxDir
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	tracerouteHop  = regexp.MustCompile(`(?m)^\s*\d+\s+(.*)$`)
	tracerouteTime = regexp.MustCompile(`\s*\d+(\.\d+)? ms`)
)

// tracerouteHops lists traceroute -n's hops as "ADDR · · ·": the replying
// addresses, one · per answered probe, and the !X flags and * of lost
// probes, in order, without the times.
func tracerouteHops(out string) []string {
	var hops []string
	for _, m := range tracerouteHop.FindAllStringSubmatch(out, -1) {
		hops = append(hops, strings.Join(strings.Fields(tracerouteTime.ReplaceAllString(m[1], " ·")), " "))
	}
	return hops
}

// toolNoise is what differs between two runs of the same tool anywhere:
// socat's time stamp and pid, buffer addresses, ping's elapsed time.
var toolNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d socat\[\d+\] `), "socat "},
	{regexp.MustCompile(`0x[0-9a-f]+`), "0xADDR"},
	{regexp.MustCompile(`time \d+ms`), "time Tms"},
}

func denoise(s string) string {
	for _, n := range toolNoise {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// iperfSum is one of the totals in iperf3 -J's "end".
type iperfSum struct {
	Bytes         int64   `json:"bytes"`
	BitsPerSecond float64 `json:"bits_per_second"`
	LostPercent   float64 `json:"lost_percent"`
}

func TestRunTools(t *testing.T) {
	tp := newRunTopology(t)
	requireTools(t, "traceroute", "iperf3", "socat", "getent", "timeout")
	bin := buildBinary(t)

	// A DNS server in the far namespace, named by the host side's
	// resolv.conf: the sandbox reaches it through 10.0.2.3.
	var dns net.PacketConn
	if err := harness.InNetns(tp.far, func() (err error) {
		dns, err = net.ListenPacket("udp4", farAddr+":53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	go serveDNS(dns, probeName, netip.MustParseAddr(probeAddr))
	hostResolvConf(t, tp.host, farAddr)

	t.Run("traceroute socat ping getent", func(t *testing.T) {
		// Everything at once: the unreachable host costs ~3 s of ARP
		// timeouts, once. Each tool's output and status go to a file.
		script := `cd "$OUT" || exit 1
r() { f=$1; shift; ( timeout 20 "$@"; echo "exit $?" ) >"$f" 2>&1; }
# traceroute's own modes: UDP (its default), ICMP echo, TCP SYN.
for m in udp: icmp:-I tcp:-T; do
	r "tr-${m%%:*}-far" traceroute -n -w 2 -m 6 ${m#*:} ` + farAddr + ` &
	r "tr-${m%%:*}-unreach" traceroute -n -w 5 -m 4 ${m#*:} ` + unreachAddr + ` &
done
r ping-unreach ping -c 1 -W 5 ` + unreachAddr + ` &
echo hi-tcp | r socat-tcp-echo socat -t 1 - TCP:` + targetAddr + `:7 &
echo hi-udp | r socat-udp-echo socat -t 1 - UDP:` + targetAddr + `:7 &
r socat-tcp-closed socat -t 1 - TCP:` + targetAddr + `:8 </dev/null &
echo x | r socat-udp-closed socat -t 1 - UDP:` + targetAddr + `:8 &
r socat-tcp-unreach socat -t 1 - TCP:` + unreachAddr + `:8 </dev/null &
r getent-probe getent ahostsv4 ` + probeName + ` &
r getent-missing getent ahostsv4 nsbx-missing.test &
wait`
		hostDir, sbDir := sideBySide(t, bin, tp.host, script)
		t.Logf("traceroute -T to %s in the sandbox:\n%s", unreachAddr, readOut(t, sbDir, "tr-tcp-unreach"))

		for _, mode := range []string{"udp", "icmp", "tcp"} {
			for _, dst := range []string{"far", "unreach"} {
				name := "tr-" + mode + "-" + dst
				h, s := readOut(t, hostDir, name), readOut(t, sbDir, name)
				hh, sh := tracerouteHops(h), tracerouteHops(s)
				want := append([]string{"10.0.2.2 · · ·"}, hh...)
				head := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
				if len(hh) < 2 || strings.Join(sh, "\n") != strings.Join(want, "\n") || head(h) != head(s) || !strings.HasSuffix(s, "exit 0\n") {
					t.Errorf("%s: sandbox hops\n  %s\nwant the gateway, then the host side's\n  %s\nsandbox:\n%shost:\n%s",
						name, strings.Join(sh, "\n  "), strings.Join(want, "\n  "), s, h)
				}
			}
		}
		// The far target is reached (port unreachable, echo reply, RST),
		// the unreachable one gets !H from the router, in every mode.
		for _, c := range []struct{ name, last string }{
			{"tr-udp-far", farAddr + " · · ·"}, {"tr-tcp-unreach", targetAddr + " · !H · !H · !H"},
		} {
			if hops := tracerouteHops(readOut(t, hostDir, c.name)); len(hops) == 0 || hops[len(hops)-1] != c.last {
				t.Errorf("%s on the host side ends %q, want %q: the topology is not what the test thinks", c.name, hops, c.last)
			}
		}
		for name, want := range map[string]string{
			"ping-unreach":      "From " + targetAddr + " icmp_seq=1 Destination Host Unreachable",
			"socat-tcp-echo":    "hi-tcp\nexit 0",
			"socat-udp-echo":    "hi-udp\nexit 0",
			"socat-tcp-closed":  "Connection refused",
			"socat-udp-closed":  "read(5, 0xADDR, 8192): Connection refused",
			"socat-tcp-unreach": "No route to host",
			"getent-probe":      probeAddr + "     STREAM " + probeName,
			"getent-missing":    "exit 2",
		} {
			h, s := denoise(readOut(t, hostDir, name)), denoise(readOut(t, sbDir, name))
			if s != h || !strings.Contains(s, want) {
				t.Errorf("%s: sandbox\n%s\nhost side\n%s\nwant both alike, with %q", name, s, h, want)
			}
		}
	})

	t.Run("iperf3", func(t *testing.T) {
		// A server for each side, so that both run at once.
		for _, port := range []string{"5201", "5202"} {
			srv := exec.Command("ip", "netns", "exec", tp.target, "iperf3", "-s", "--forceflush", "-B", targetAddr, "-p", port)
			srvOut := new(syncBuffer)
			srv.Stdout, srv.Stderr = srvOut, srvOut
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			srvDone := make(chan struct{})
			go func() { srv.Wait(); close(srvDone) }()
			t.Cleanup(func() { srv.Process.Kill(); <-srvDone })
			for i := 0; i < 100 && !strings.Contains(srvOut.String(), "listening"); i++ {
				time.Sleep(20 * time.Millisecond)
			}
		}
		const n = 32 << 20
		script := `cd "$OUT" || exit 1
p=5201; [ "$SIDE" = sandbox ] && p=5202
c() { f=$1; shift; timeout 20 iperf3 -c ` + targetAddr + ` -p $p -J "$@" >"$f" 2>&1; echo "$f exit $?" >>status; }
c tcp -n 32M; c tcp-reverse -n 32M -R; c udp -u -b 20M -t 1 -l 1400`
		hostDir, sbDir := sideBySide(t, bin, tp.host, script)
		for _, side := range []struct{ name, dir string }{{"host side", hostDir}, {"sandbox", sbDir}} {
			status := readOut(t, side.dir, "status")
			for _, test := range []string{"tcp", "tcp-reverse", "udp"} {
				if !strings.Contains(status, test+" exit 0") {
					t.Errorf("%s: iperf3 %s failed:\n%s\n%s", side.name, test, status, readOut(t, side.dir, test))
					continue
				}
				var r struct {
					End struct {
						SumSent     iperfSum `json:"sum_sent"`
						SumReceived iperfSum `json:"sum_received"`
					} `json:"end"`
				}
				raw := readOut(t, side.dir, test)
				if err := json.Unmarshal([]byte(raw), &r); err != nil {
					t.Errorf("%s: iperf3 %s: %v\n%s", side.name, test, err, raw)
					continue
				}
				sent, got := r.End.SumSent.Bytes, r.End.SumReceived.Bytes
				t.Logf("%s iperf3 %s: sent %d B, received %d B, %.0f Mbit/s, lost %.1f%%", side.name, test, sent, got,
					r.End.SumReceived.BitsPerSecond/1e6, r.End.SumReceived.LostPercent)
				switch test {
				case "tcp", "tcp-reverse":
					// -n stops the sender at n bytes; the receiver's count
					// stops at the end of the test, with data still in
					// flight (so too from a kernel client).
					if sent < n || sent > n+1<<20 || got < n/2 || got > sent {
						t.Errorf("%s: iperf3 %s sent %d B, received %d B; want %d sent and at least half received", side.name, test, sent, got, n)
					}
				case "udp":
					// 20 Mbit/s for 1 s: 2.5 MB. The receiver's count too
					// stops at the end of the test: on a loaded machine
					// datagrams still queued (in the gateway, in the
					// server's socket) are not counted, nor those a full
					// socket buffer dropped, from a kernel client too.
					if sent < 2_000_000 || sent > 3_000_000 || got < sent/2 || got > sent {
						t.Errorf("%s: iperf3 -u sent %d B, received %d B; want ~2.5 MB sent and at least half received", side.name, sent, got)
					}
				}
			}
		}
	})
}
