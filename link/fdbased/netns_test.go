package fdbased

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// needNetns skips the test when it cannot make network namespaces, or fails
// it when NETSANDBOX_REQUIRE_NETNS=1 says the environment must allow them.
func needNetns(t testing.TB, tools ...string) {
	t.Helper()
	missing := func(msg string) {
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatal(msg + " (NETSANDBOX_REQUIRE_NETNS=1)")
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		missing("needs root to create network namespaces")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			missing(fmt.Sprintf("needs %q on PATH", tool))
		}
	}
}

func suffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// run runs a command with a time bound and returns its combined output.
func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := run(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newNetns creates a uniquely named namespace, removed at cleanup with all
// links in it.
func newNetns(t testing.TB) string {
	t.Helper()
	name := "nsbx-lk-" + suffix()
	if _, err := run("ip", "netns", "add", name); err != nil {
		msg := "cannot create a network namespace: " + err.Error()
		if os.Getenv("NETSANDBOX_REQUIRE_NETNS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if _, err := run("ip", "netns", "del", name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	mustRun(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// inNetns runs f on an OS thread switched into namespace ns, and switches
// the thread back before releasing it. If it cannot switch back the thread
// stays locked, so the runtime discards it instead of reusing it.
func inNetns(t testing.TB, ns string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("restoring netns: %w", err) // thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// vethPair creates a veth pair with one end in each namespace and returns
// the end names (near in nsNear, far in nsFar).
func vethPair(t testing.TB, nsNear, nsFar string) (near, far string) {
	t.Helper()
	s := suffix()
	near, far = "nsbx"+s+"a", "nsbx"+s+"b"
	mustRun(t, "ip", "link", "add", near, "netns", nsNear, "type", "veth", "peer", "name", far, "netns", nsFar)
	return near, far
}

// newGvisorStack builds a minimal gVisor stack (IPv4, ARP, ICMP, UDP, TCP) on
// ep with addr, straight from gVisor so this package needs nothing of ours.
func newGvisorStack(t testing.TB, ep stack.LinkEndpoint, addr netip.Prefix) *stack.Stack {
	t.Helper()
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{udp.NewProtocol, icmp.NewProtocol4, tcp.NewProtocol},
	})
	if err := s.CreateNIC(1, ep); err != nil {
		ep.Close()
		t.Fatalf("CreateNIC: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		s.Wait()
	})
	pa := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.AddrFrom4(addr.Addr().As4()),
			PrefixLen: addr.Bits(),
		},
	}
	if err := s.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		t.Fatalf("AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: 1}})
	return s
}

// pingFrom pings dst from namespace ns and fails the test unless it is
// answered.
func pingFrom(t testing.TB, ns, dst string) {
	t.Helper()
	out, err := run("ip", "netns", "exec", ns, "ping", "-c", "2", "-W", "1", dst)
	if err != nil {
		t.Fatalf("ping from the kernel to the stack failed: %v", err)
	}
	if !strings.Contains(out, "bytes from "+dst) {
		t.Fatalf("ping got no reply from %s:\n%s", dst, out)
	}
}
