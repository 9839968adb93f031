package endpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// api is what the kernel adapter and Socket share, so a scenario can be
// written once.
type api interface {
	Bind(sa []byte) error
	Connect(sa []byte) error
	Listen(backlog int) error
	GetSockName() ([]byte, error)
	GetPeerName() ([]byte, error)
	SendMsg(p, oob, to []byte, flags int) (int, error)
	RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error)
	SetSockOpt(level, name int, val []byte) error
	GetSockOpt(level, name int, buf []byte) (int, error)
	Shutdown(how int) error
	Close() error
	Readiness(mask uint32) uint32
	SetNonblock(bool)
}

// hostSysctls are the knobs a differential test copies from the running
// kernel so both sides start from the same limits.
var hostSysctls = []string{
	"net.core.rmem_max", "net.core.wmem_max", "net.core.rmem_default", "net.core.wmem_default",
	"net.ipv4.ip_default_ttl", "net.ipv4.ip_unprivileged_port_start",
}

// newStack builds a stack with every capability (we run as root, like the
// kernel side) and the host's buffer limits.
func newStack(t testing.TB, caps stack.Caps, extra map[string]string) *stack.Stack {
	t.Helper()
	sys := map[string]string{}
	for _, name := range hostSysctls {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
		if err != nil {
			t.Fatalf("read host sysctl %s: %v", name, err)
		}
		sys[name] = strings.TrimSpace(string(b))
	}
	for k, v := range extra {
		sys[k] = v
	}
	s, err := stack.New(stack.Config{Caps: caps, Sysctl: sys})
	if err != nil {
		t.Fatalf("stack.New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// pair opens the same socket on the kernel and on netsandbox.
type pair struct {
	k, n api
}

func openPair(t testing.TB, s *stack.Stack, typ, proto int) pair {
	t.Helper()
	k, kerr := newKernelSock(unix.AF_INET, typ, proto)
	n, nerr := New(s, unix.AF_INET, typ, proto)
	if kerr != nil || nerr != nil {
		t.Fatalf("socket(%d,%d): kernel %v, netsandbox %v", typ, proto, kerr, nerr)
	}
	t.Cleanup(func() { k.Close(); n.Close() })
	return pair{k: k, n: n}
}

// sa builds a sockaddr_in for "a.b.c.d:port".
func sa(s string) []byte {
	return options.SockaddrIn(netip.MustParseAddrPort(s))
}

// rawSA builds a sockaddr of any family and length for error tests.
func rawSA(family uint16, ap string, n int) []byte {
	b := make([]byte, max(n, 16))
	copy(b, sa(ap))
	binary.NativeEndian.PutUint16(b[0:2], family)
	return b[:n]
}

func intOpt(v int32) []byte {
	b := make([]byte, 4)
	options.PutInt32(b, v)
	return b
}

// errStr renders an error for a scenario log.
func errStr(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// logger collects a scenario's observable results.
type logger struct{ lines []string }

func (l *logger) add(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// diffRun runs scenario on the kernel socket and on netsandbox's, each on
// a fresh socket made by open, and fails on any difference in the logs.
func diffRun(t *testing.T, name string, open func(t *testing.T) pair, scenario func(l *logger, s api)) {
	t.Helper()
	p := open(t)
	var kl, nl logger
	scenario(&kl, p.k)
	scenario(&nl, p.n)
	if d := diffLines(kl.lines, nl.lines); d != "" {
		t.Errorf("%s: kernel vs netsandbox (-kernel +netsandbox):\n%s", name, d)
	}
}

func diffLines(k, n []string) string { return cmp.Diff(k, n) }

// portOf reads the port of a sockaddr_in.
func portOf(b []byte) uint16 {
	if len(b) < 4 {
		return 0
	}
	return binary.BigEndian.Uint16(b[2:4])
}

// addrOf renders a sockaddr_in's address and whether the port is set,
// hiding ephemeral port numbers that differ between the two hosts.
func addrOf(b []byte) string {
	if len(b) < 8 {
		return fmt.Sprintf("len=%d", len(b))
	}
	fam := binary.NativeEndian.Uint16(b[0:2])
	a := netip.AddrFrom4([4]byte(b[4:8]))
	return fmt.Sprintf("fam=%d %s port?%v len=%d", fam, a, portOf(b) != 0, len(b))
}
