package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The sandbox namespace holds one end of a veth, the peer namespace the
// other and an HTTP server; runsc-netsandbox runs an OCI bundle (the host's
// / read-only, an overlay in memory) whose network namespace is the sandbox
// namespace, so the plugin's PreInit takes that veth.
const (
	sandboxAddr = "198.18.0.2/24"
	peerIP      = "198.18.0.1"
	peerAddr    = peerIP + "/24"
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

// serveHTTP serves body on peerIP:8080 from inside namespace ns: the
// listening socket is made on a thread that joined ns (and is never given
// back to the Go scheduler), then served from any goroutine.
func serveHTTP(t *testing.T, ns, body string) {
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
		l, err := net.Listen("tcp4", net.JoinHostPort(peerIP, "8080"))
		ch <- res{l, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listening in %s: %v", ns, r.err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, body)
	}), ReadHeaderTimeout: 10 * time.Second}
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

// TestPluginEndToEnd runs ping (raw socket with --net-raw and ICMP socket),
// curl and ip inside runsc-netsandbox --network=plugin.
func TestPluginEndToEnd(t *testing.T) {
	needNetns(t, "ip", "go")
	for _, tool := range []string{"/usr/bin/ping", "/usr/bin/curl"} {
		if _, err := os.Stat(tool); err != nil {
			needNetns(t, tool) // reports the missing tool the same way
		}
	}
	hostIPForward(t)
	dir := t.TempDir()
	bin := buildRunsc(t, dir)

	var rb [4]byte
	rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	sbx, peer := "nsbx-"+tag+"-sbx", "nsbx-"+tag+"-peer"
	vethS, vethP := "nsbx"+tag[:6]+"s", "nsbx"+tag[:6]+"p"
	newNetns(t, sbx)
	newNetns(t, peer)
	mustRun(t, "ip", "link", "add", vethS, "type", "veth", "peer", "name", vethP)
	mustRun(t, "ip", "link", "set", vethS, "netns", sbx)
	mustRun(t, "ip", "link", "set", vethP, "netns", peer)
	mustRun(t, "ip", "-n", sbx, "addr", "add", sandboxAddr, "dev", vethS)
	mustRun(t, "ip", "-n", peer, "addr", "add", peerAddr, "dev", vethP)
	mustRun(t, "ip", "-n", sbx, "link", "set", vethS, "up")
	mustRun(t, "ip", "-n", peer, "link", "set", vethP, "up")

	token := "netsandbox-e2e-" + tag
	serveHTTP(t, peer, token+"\n")

	pingNoCaps := filepath.Join(dir, "ping-nocaps")
	copyNoCaps(t, "/usr/bin/ping", pingNoCaps)
	bundle := filepath.Join(dir, "bundle")
	state := filepath.Join(dir, "state")
	for _, d := range []string{bundle, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.Join([]string{
		"ip addr", "ip route",
		"/usr/bin/ping -c 3 -W 5 " + peerIP, "echo ping-raw-rc=$?",
		pingNoCaps + " -c 2 -W 5 " + peerIP, "echo ping-dgram-rc=$?",
		"curl -sS -m 10 http://" + peerIP + ":8080/", "echo curl-rc=$?",
	}, "; ")
	writeBundle(t, bundle, sbx, script)

	cid := "nsbx-" + tag
	args := []string{"--root=" + state, "--network=plugin", "--net-raw", "--overlay2=all:memory"}
	t.Cleanup(func() {
		// Removes the sandbox and gofer if the run did not end them, then
		// the empty gofer namespace runsc bind-mounts in its state dir.
		run(context.Background(), bin, append(args, "delete", "-force", cid)...)
		for i := 0; i < 100 && unix.Unmount(filepath.Join(state, "null-netns"), unix.MNT_DETACH) == nil; i++ {
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "run", "--bundle", bundle, cid)...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer // a pipe: exec copies from it
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("runsc-netsandbox run took %v; output:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("runsc-netsandbox run: %v", err)
	}
	got := out.String()
	for _, want := range []string{
		vethS + ":", "inet " + sandboxAddr, // ip addr shows our interface and address
		"198.18.0.0/24 dev " + vethS, // ip route
		"3 packets transmitted, 3 received", "ping-raw-rc=0",
		"2 packets transmitted, 2 received", "ping-dgram-rc=0",
		token, "curl-rc=0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
