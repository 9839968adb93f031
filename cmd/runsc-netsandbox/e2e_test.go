package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The topology (every address in 198.18.0.0/15):
//
//	sbx 198.18.0.2 --- 198.18.0.1 peer 198.18.1.1 --- 198.18.1.2 rtr 198.18.2.1 ==1280== 198.18.2.2 far
//
// The sandbox namespace holds one end of a veth to the peer, which routes
// to a router whose far link has an MTU of 1280. runsc-netsandbox runs OCI
// bundles (the host's / read-only, an overlay in memory) whose network
// namespace is the sandbox one, so the plugin's PreInit takes that veth.
const (
	sandboxAddr = "198.18.0.2/24"
	peerIP      = "198.18.0.1"
	peerAddr    = peerIP + "/24"
	rtrIP       = "198.18.1.2"
	farIP       = "198.18.2.2"
	farMTU      = 1280
	blobSize    = 10 << 20
)

// needNetns skips (or, under NETSANDBOX_REQUIRE_NETNS=1, fails) when the
// test cannot make namespaces or lacks a tool.
func needNetns(t *testing.T, tools ...string) {
	t.Helper()
	require := os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1"
	miss := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf("NETSANDBOX_REQUIRE_NETNS=1 but "+format, args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		miss("needs root to create network namespaces and run runsc")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			miss("needs %s in PATH: %v", tool, err)
		}
	}
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := run(context.Background(), name, args...); err != nil {
		t.Fatal(err)
	}
}

// newNetns creates a namespace named nsbx-<tag> and removes it at the end.
func newNetns(t *testing.T, name string) {
	t.Helper()
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if _, err := run(context.Background(), "ip", "netns", "del", name); err != nil {
			t.Errorf("removing namespace: %v", err)
		}
	})
	mustRun(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// serveHTTP serves h on addr (network tcp4 or tcp6) from inside namespace
// ns: the listening
// socket is made on a thread that joined ns (and is never given back to
// the Go scheduler), then served from any goroutine.
func serveHTTP(t *testing.T, ns, network, addr string, h http.Handler) {
	t.Helper()
	type res struct {
		l   net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{nil, err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- res{nil, err}
			return
		}
		l, err := net.Listen(network, addr)
		ch <- res{l, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listening in %s: %v", ns, r.err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(r.l)
	t.Cleanup(func() { srv.Close() })
}

// buildRunsc builds this command, static, into dir.
func buildRunsc(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "runsc-netsandbox")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// copyNoCaps copies a binary without its extended attributes, so a
// file-capability ping becomes a plain one that uses ICMP sockets.
func copyNoCaps(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func allCaps() []string {
	var caps []string
	for _, c := range strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
		SYS_CHROOT SYS_PTRACE SYS_ADMIN SYS_NICE SYS_RESOURCE SYS_TIME MKNOD LEASE AUDIT_WRITE SETFCAP`) {
		caps = append(caps, "CAP_"+c)
	}
	return caps
}

// writeBundle writes an OCI bundle running script with sh in namespace
// netns; /mnt is a tmpfs for scratch files.
func writeBundle(t *testing.T, dir, netns string, script string) {
	t.Helper()
	caps := allCaps()
	spec := specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "/", Readonly: true},
		Hostname: "nsbx",
		Process: &specs.Process{
			Cwd:  "/",
			Args: []string{"/bin/sh", "-c", script},
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps, Inheritable: caps, Ambient: caps,
			},
		},
		Mounts: []specs.Mount{{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}}},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
			{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace, Path: "/run/netns/" + netns},
		}},
	}
	b, err := json.MarshalIndent(&spec, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostIPForward guards the host's net.ipv4.ip_forward, which stock runsc
// flips as a side effect: it must be as it was when the test ends.
func hostIPForward(t *testing.T) {
	const knob = "/proc/sys/net/ipv4/ip_forward"
	before, err := os.ReadFile(knob)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		after, err := os.ReadFile(knob)
		if err == nil && !bytes.Equal(before, after) {
			os.WriteFile(knob, before, 0o644)
			t.Errorf("host %s changed from %q to %q during the test; restored", knob, before, after)
		}
	})
}

// topology is the four namespaces of the test and the sandbox's veth.
type topology struct {
	sbx, peer, rtr, far string
	vethS               string
}

// nsSysctl writes a knob of namespace ns's own net.* table (never the
// host's: /proc/sys/net follows the network namespace of the writer).
func nsSysctl(t *testing.T, ns, knob, value string) {
	t.Helper()
	mustRun(t, "nsenter", "--net=/run/netns/"+ns, "sh", "-c", "echo "+value+" > /proc/sys/"+knob)
}

// newTopology makes the namespaces nsbx-<tag>-{sbx,peer,rtr,far}, their
// veths, addresses and routes; peer and rtr forward, and the three kernel
// hosts answer every probe with an ICMP error (no rate limit), so
// traceroute's bursts are answered whole.
func newTopology(t *testing.T, tag string) *topology {
	t.Helper()
	tp := &topology{
		sbx: "nsbx-" + tag + "-sbx", peer: "nsbx-" + tag + "-peer",
		rtr: "nsbx-" + tag + "-rtr", far: "nsbx-" + tag + "-far",
		vethS: "nsbx" + tag[:6] + "s",
	}
	for _, ns := range []string{tp.sbx, tp.peer, tp.rtr, tp.far} {
		newNetns(t, ns)
	}
	v := "nsbx" + tag[:6]
	link := func(a, aNS, b, bNS string) {
		mustRun(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
		mustRun(t, "ip", "link", "set", a, "netns", aNS)
		mustRun(t, "ip", "link", "set", b, "netns", bNS)
	}
	link(tp.vethS, tp.sbx, v+"p", tp.peer)
	link(v+"q", tp.peer, v+"r", tp.rtr)
	link(v+"t", tp.rtr, v+"f", tp.far)
	addr := func(ns, dev, a string, mtu int) {
		if mtu != 0 {
			mustRun(t, "ip", "-n", ns, "link", "set", dev, "mtu", strconv.Itoa(mtu))
		}
		mustRun(t, "ip", "-n", ns, "addr", "add", a, "dev", dev)
		mustRun(t, "ip", "-n", ns, "link", "set", dev, "up")
	}
	addr(tp.peer, v+"p", peerAddr, 0)
	addr(tp.peer, v+"q", "198.18.1.1/24", 0)
	addr(tp.rtr, v+"r", rtrIP+"/24", 0)
	addr(tp.rtr, v+"t", "198.18.2.1/24", farMTU)
	addr(tp.far, v+"f", farIP+"/24", farMTU)
	mustRun(t, "ip", "-n", tp.peer, "route", "add", "198.18.2.0/24", "via", rtrIP)
	mustRun(t, "ip", "-n", tp.rtr, "route", "add", "198.18.0.0/24", "via", "198.18.1.1")
	mustRun(t, "ip", "-n", tp.far, "route", "add", "default", "via", "198.18.2.1")
	for _, ns := range []string{tp.peer, tp.rtr, tp.far} {
		nsSysctl(t, ns, "net/ipv4/icmp_ratelimit", "0")
	}
	for _, ns := range []string{tp.peer, tp.rtr} {
		nsSysctl(t, ns, "net/ipv4/ip_forward", "1")
	}
	tp.configureSandbox(t)
	return tp
}

// configureSandbox gives the sandbox namespace's veth its address and
// default route (again: the plugin's PreInit takes them from the kernel
// interface when a sandbox starts).
func (tp *topology) configureSandbox(t *testing.T) {
	t.Helper()
	mustRun(t, "ip", "-n", tp.sbx, "addr", "replace", sandboxAddr, "dev", tp.vethS)
	mustRun(t, "ip", "-n", tp.sbx, "link", "set", tp.vethS, "up")
	mustRun(t, "ip", "-n", tp.sbx, "route", "replace", "default", "via", peerIP)
}

// inSandboxNS runs a command in the sandbox namespace on the kernel.
func (tp *topology) inSandboxNS(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + tp.sbx, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v in %s: %v\n%s", name, args, tp.sbx, err, out)
	}
	return string(out)
}

// farServer serves, from the far namespace, GET /blob (blob) and PUT /sum
// (the SHA-256 of the body, in hex).
func farServer(t *testing.T, ns string, blob []byte) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /blob", func(w http.ResponseWriter, _ *http.Request) { w.Write(blob) })
	mux.HandleFunc("PUT /sum", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, io.LimitReader(r.Body, 4*blobSize)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%x\n", h.Sum(nil))
	})
	serveHTTP(t, ns, "tcp4", net.JoinHostPort(farIP, "8080"), mux)
}

// runscRun runs the bundle in dir as container cid and returns its output
// (stdout and stderr through one pipe, so they keep their order).
func runscRun(t *testing.T, bin, state, bundle, cid string, netRaw bool) string {
	t.Helper()
	args := runscArgs(t, bin, state, cid, netRaw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "run", "--bundle", bundle, cid)...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer // a pipe: exec copies from it
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("runsc-netsandbox run %s (--net-raw=%v) took %v; output:\n%s", cid, netRaw, time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("runsc-netsandbox run %s: %v", cid, err)
	}
	return out.String()
}

// runscArgs are runsc's global flags for container cid under state; at the
// end of the test the sandbox and gofer are removed if the run did not end
// them, then the empty gofer namespace runsc bind-mounts in its state dir.
func runscArgs(t *testing.T, bin, state, cid string, netRaw bool) []string {
	args := []string{"--root=" + state, "--network=plugin", "--overlay2=all:memory"}
	if netRaw {
		args = append(args, "--net-raw")
	}
	t.Cleanup(func() {
		run(context.Background(), bin, append(args, "delete", "-force", cid)...)
		for i := 0; i < 100 && unix.Unmount(filepath.Join(state, "null-netns"), unix.MNT_DETACH) == nil; i++ {
		}
	})
	return args
}

// section returns the lines between "==NAME==" and "==end NAME==".
func section(out, name string) string {
	_, after, ok := strings.Cut(out, "=="+name+"==\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(after, "==end "+name+"==")
	return body
}

var (
	msTime   = regexp.MustCompile(`\s*[0-9]+\.[0-9]+ ?ms`)
	hopLine  = regexp.MustCompile(`(?m)^\s*([0-9]+)\s+([0-9.]+|\*)`)
	shaValue = regexp.MustCompile(`(?m)^(down-sha256|up-local|up-remote)=([0-9a-f]{64})`)
)

// tracepathLines drops the round-trip times from tracepath's output.
func tracepathLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		lines = append(lines, strings.Join(strings.Fields(msTime.ReplaceAllString(l, "")), " "))
	}
	return lines
}

// hops lists traceroute's hop addresses, one per hop ("*" for none),
// and how many probes of all hops got no answer.
func hops(out string) ([]string, int) {
	var h []string
	for _, m := range hopLine.FindAllStringSubmatch(out, -1) {
		h = append(h, m[2])
	}
	return h, strings.Count(out, "*")
}

// ctruncRows maps the probe's lines by buffer length.
func ctruncRows(out string) map[string]string {
	rows := make(map[string]string)
	for _, l := range strings.Split(out, "\n") {
		if n, rest, ok := strings.Cut(l, ":"); ok && strings.HasPrefix(n, "ctrunc ") {
			rows[n] = rest
		}
	}
	return rows
}

// ctruncSentryOrder are the buffer lengths at which the sentry, which packs
// IP_TOS, IP_TTL, IP_PKTINFO in that order where Linux writes IP_PKTINFO,
// IP_TTL, IP_TOS, cuts IP_PKTINFO that Linux delivers whole (Linux needs
// 32+24+17 = 73 bytes, the sentry 24+24+28 = 76): the plugin sets
// MSG_CTRUNC there (plugin/cmsg.go).
var ctruncSentryOrder = map[string]bool{"ctrunc 73": true, "ctrunc 75": true}

// compareCtrunc checks the sandbox's MSG_CTRUNC against the kernel's for
// every buffer length, and that every whole message the sandbox wrote has
// the kernel's value.
func compareCtrunc(t *testing.T, kernel, sandbox string) {
	t.Helper()
	k, s := ctruncRows(kernel), ctruncRows(sandbox)
	if len(k) != len(ctruncSizes) || len(s) != len(ctruncSizes) {
		t.Errorf("ctrunc probe: %d kernel rows, %d sandbox rows, want %d each", len(k), len(s), len(ctruncSizes))
		return
	}
	whole := make(map[string]bool) // "level/type/len=data" the kernel delivers whole
	for _, f := range strings.Fields(k["ctrunc 200"]) {
		whole[f] = true
	}
	for _, n := range ctruncSizes {
		row := fmt.Sprintf("ctrunc %d", n)
		kt := strings.Contains(k[row], "MSG_CTRUNC")
		st := strings.Contains(s[row], "MSG_CTRUNC")
		if ctruncSentryOrder[row] {
			kt = true
		}
		if kt != st {
			t.Errorf("%s: MSG_CTRUNC %v in the sandbox, %v on the kernel (sandbox:%s; kernel:%s)", row, st, kt, s[row], k[row])
		}
		for _, f := range strings.Fields(s[row]) {
			if strings.Contains(f, "=") && !whole[f] {
				t.Errorf("%s: the sandbox wrote %s, which the kernel never does (kernel, whole:%s)", row, f, k["ctrunc 200"])
			}
		}
	}
}

// TestPluginEndToEnd runs real tools inside runsc-netsandbox
// --network=plugin: ip addr and ip route, ping on a raw socket (with
// --net-raw) and on an ICMP socket (with and without --net-raw), curl,
// tracepath (compared with the kernel's from the same namespace),
// traceroute over UDP and ICMP, a 10 MB download and upload through the
// 1280-byte link checked by SHA-256, and recvmsg's MSG_CTRUNC against the
// kernel's.
func TestPluginEndToEnd(t *testing.T) {
	needNetns(t, "ip", "go", "nsenter", "tracepath", "traceroute", "sha256sum")
	for _, tool := range []string{"/usr/bin/ping", "/usr/bin/curl"} {
		if _, err := os.Stat(tool); err != nil {
			needNetns(t, tool) // reports the missing tool the same way
		}
	}
	hostIPForward(t)
	dir := t.TempDir()
	bin := buildRunsc(t, dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	var rb [4]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	tp := newTopology(t, tag)
	token := "netsandbox-e2e-" + tag
	serveHTTP(t, tp.peer, "tcp4", net.JoinHostPort(peerIP, "8080"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, token+"\n")
	}))
	blob := make([]byte, blobSize)
	rand.Read(blob)
	blobSum := fmt.Sprintf("%x", sha256.Sum256(blob))
	farServer(t, tp.far, blob)

	// The kernel's answers from the same namespace, before a sandbox
	// takes its interface.
	kernelTracepath := tp.inSandboxNS(t, nil, "tracepath", "-n", farIP)
	kernelCtrunc := tp.inSandboxNS(t, []string{helperEnv + "=ctrunc"}, self)

	pingNoCaps := filepath.Join(dir, "ping-nocaps")
	copyNoCaps(t, "/usr/bin/ping", pingNoCaps)
	bundle := filepath.Join(dir, "bundle")
	state := filepath.Join(dir, "state")
	for _, d := range []string{bundle, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	far := "http://" + net.JoinHostPort(farIP, "8080")
	script := strings.Join([]string{
		"ip addr", "ip route",
		"/usr/bin/ping -c 3 -i 0.2 -W 5 " + peerIP, "echo ping-raw-rc=$?",
		pingNoCaps + " -c 2 -i 0.2 -W 5 " + farIP, "echo ping-dgram-rc=$?",
		"curl -sS -m 10 http://" + peerIP + ":8080/", "echo curl-rc=$?",
		"curl -sS -m 60 " + far + "/blob | sha256sum | sed 's/^/down-sha256=/'",
		"head -c " + strconv.Itoa(blobSize) + " /dev/urandom > /mnt/up",
		"sha256sum < /mnt/up | sed 's/^/up-local=/'",
		"curl -sS -m 60 -T /mnt/up " + far + "/sum | sed 's/^/up-remote=/'",
		"echo ==ctrunc==", helperEnv + "=ctrunc " + self, "echo ==end ctrunc==",
		// tracepath sends CLOCK_MONOTONIC seconds in its probes and calls a
		// quoted probe whose seconds are 0 corrupted; the sentry's clock
		// starts at 0 with the sandbox.
		"sleep 1",
		"echo ==tracepath==", "tracepath -n " + farIP, "echo ==end tracepath==",
		"echo ==traceroute==", "traceroute -n -q 1 -w 2 -m 6 " + farIP, "echo ==end traceroute==",
		// Three probes per hop, all sent at once (-N 16): the "time
		// exceeded" of the first ones arrive while the later ones are
		// sent, which must not fail them (a raw send leaves the socket
		// error alone, as Linux's raw_sendmsg does).
		"echo ==traceroute-icmp==", "traceroute -n -I -q 3 -w 2 -m 6 " + farIP, "echo ==end traceroute-icmp==",
	}, "\n")
	writeBundle(t, bundle, tp.sbx, script)
	start := time.Now()
	got := runscRun(t, bin, state, bundle, "nsbx-"+tag+"-raw", true)
	for _, want := range []string{
		tp.vethS + ":", "inet " + sandboxAddr, // ip addr shows our interface and address
		"198.18.0.0/24 dev " + tp.vethS, "default via " + peerIP, // ip route
		"3 packets transmitted, 3 received", "ping-raw-rc=0",
		"2 packets transmitted, 2 received", "ping-dgram-rc=0",
		token, "curl-rc=0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	sums := make(map[string]string)
	for _, m := range shaValue.FindAllStringSubmatch(got, -1) {
		sums[m[1]] = m[2]
	}
	if sums["down-sha256"] != blobSum {
		t.Errorf("10 MB download: SHA-256 %q, want %s", sums["down-sha256"], blobSum)
	}
	if sums["up-local"] == "" || sums["up-local"] != sums["up-remote"] {
		t.Errorf("10 MB upload: SHA-256 %q in the sandbox, %q received", sums["up-local"], sums["up-remote"])
	}
	if diff := cmp.Diff(tracepathLines(kernelTracepath), tracepathLines(section(got, "tracepath"))); diff != "" {
		t.Errorf("tracepath -n %s: sandbox differs from the kernel (-kernel +sandbox):\n%s", farIP, diff)
	}
	wantHops := []string{peerIP, rtrIP, farIP}
	if h, lost := hops(section(got, "traceroute")); !slices.Equal(h, wantHops) || lost != 0 {
		t.Errorf("traceroute -n: hops %v with %d unanswered probes, want %v and none", h, lost, wantHops)
	}
	if h, lost := hops(section(got, "traceroute-icmp")); !slices.Equal(h, wantHops) || lost != 0 {
		t.Errorf("traceroute -n -I: hops %v with %d unanswered probes, want %v and none", h, lost, wantHops)
	}
	compareCtrunc(t, kernelCtrunc, section(got, "ctrunc"))

	// Without --net-raw the container has no CAP_NET_RAW: ping runs on
	// an ICMP socket.
	tp.configureSandbox(t)
	writeBundle(t, bundle, tp.sbx, strings.Join([]string{
		pingNoCaps + " -c 2 -i 0.2 -W 5 " + farIP, "echo ping-dgram-rc=$?",
	}, "\n"))
	got = runscRun(t, bin, state, bundle, "nsbx-"+tag+"-noraw", false)
	for _, want := range []string{"2 packets transmitted, 2 received", "ping-dgram-rc=0"} {
		if !strings.Contains(got, want) {
			t.Errorf("without --net-raw: output lacks %q", want)
		}
	}
	t.Logf("both sandboxes and the kernel reference took %v", time.Since(start).Round(time.Millisecond))
}
