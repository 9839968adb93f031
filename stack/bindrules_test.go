package stack_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// bindSpec is one bind(2) in a conflict scenario.
type bindSpec struct {
	addr                 string // IPv4 address; the port is the scenario's
	reuseAddr, reusePort bool
	lo                   bool // SO_BINDTODEVICE lo (ifindex 1 on both sides)
}

func (b bindSpec) String() string {
	return fmt.Sprintf("%s{ra=%v rp=%v lo=%v}", b.addr, b.reuseAddr, b.reusePort, b.lo)
}

var bindScenarios = [][]bindSpec{
	{{addr: "0.0.0.0"}, {addr: "127.0.0.1"}},
	{{addr: "127.0.0.1"}, {addr: "0.0.0.0"}},
	{{addr: "127.0.0.1"}, {addr: "127.0.0.1"}},
	{{addr: "127.0.0.1"}, {addr: "127.0.0.2"}},
	{{addr: "0.0.0.0"}, {addr: "0.0.0.0"}},
	{{addr: "0.0.0.0", reuseAddr: true}, {addr: "0.0.0.0", reuseAddr: true}},
	{{addr: "0.0.0.0", reuseAddr: true}, {addr: "127.0.0.1", reuseAddr: true}},
	{{addr: "0.0.0.0", reuseAddr: true}, {addr: "127.0.0.1"}},
	{{addr: "0.0.0.0"}, {addr: "127.0.0.1", reuseAddr: true}},
	{{addr: "127.0.0.1", reusePort: true}, {addr: "127.0.0.1", reusePort: true}},
	{{addr: "0.0.0.0", reusePort: true}, {addr: "127.0.0.1", reusePort: true}},
	{{addr: "127.0.0.1", reusePort: true}, {addr: "127.0.0.1"}},
	{{addr: "127.0.0.1", reuseAddr: true}, {addr: "127.0.0.1", reusePort: true}},
	{{addr: "127.0.0.1", reuseAddr: true, reusePort: true}, {addr: "127.0.0.1", reuseAddr: true, reusePort: true}},
	{{addr: "127.0.0.1", reuseAddr: true, reusePort: true}, {addr: "127.0.0.1", reusePort: true}},
	{{addr: "127.0.0.1", reuseAddr: true}, {addr: "127.0.0.1", reuseAddr: true}, {addr: "127.0.0.1"}},
	{{addr: "127.0.0.1", lo: true}, {addr: "127.0.0.1"}},
	{{addr: "127.0.0.1"}, {addr: "127.0.0.1", lo: true}},
	{{addr: "127.0.0.1", lo: true}, {addr: "127.0.0.1", lo: true}},
}

// kernelBinds runs a scenario with real sockets on this host's loopback and
// returns each bind's errno (0 = success).
func kernelBinds(t *testing.T, port uint16, specs []bindSpec) []unix.Errno {
	var out []unix.Errno
	for _, sp := range specs {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		if sp.reuseAddr {
			must(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1))
		}
		if sp.reusePort {
			must(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
		}
		if sp.lo {
			must(t, unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, "lo"))
		}
		err = unix.Bind(fd, &unix.SockaddrInet4{Port: int(port), Addr: netip.MustParseAddr(sp.addr).As4()})
		out = append(out, asErrno(err))
	}
	return out
}

// stackBinds runs a scenario with UDPBind on a fresh stack.
func stackBinds(t *testing.T, port uint16, specs []bindSpec) []unix.Errno {
	s := newStack(t, stack.Config{Caps: stack.AllCaps})
	var out []unix.Errno
	for _, sp := range specs {
		f := stack.UDPBindFlags{ReuseAddr: sp.reuseAddr, ReusePort: sp.reusePort}
		if sp.lo {
			f.BindToDevice = 1
		}
		b, err := s.UDPBind(newRecorder(), netip.AddrPortFrom(netip.MustParseAddr(sp.addr), port), f)
		if err == nil {
			t.Cleanup(b.Release)
		}
		out = append(out, asErrno(err))
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// asErrno is the errno an API error carries (EIO for one that carries none).
func asErrno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// freeKernelPort returns a UDP port that is free on 127.0.0.1 right now.
func freeKernelPort(t *testing.T) uint16 {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(fd)
	must(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := unix.Getsockname(fd)
	must(t, err)
	return uint16(sa.(*unix.SockaddrInet4).Port)
}

// TestBindConflictsMatchKernel runs each scenario on the kernel (loopback of
// the test's own network namespace) and on a stack, and compares the errno
// of every bind.
func TestBindConflictsMatchKernel(t *testing.T) {
	for _, sc := range bindScenarios {
		t.Run(fmt.Sprint(sc), func(t *testing.T) {
			port := freeKernelPort(t)
			want := kernelBinds(t, port, sc)
			got := stackBinds(t, port, sc)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("binds %v: stack %v, kernel %v", sc, got, want)
			}
		})
	}
}

func TestBindChecksOrder(t *testing.T) {
	s := newStack(t, stack.Config{})
	attach(t, s, "10.0.0.1/24")
	cases := []struct {
		addr string
		f    stack.UDPBindFlags
		want unix.Errno
	}{
		{"10.9.9.9:80", stack.UDPBindFlags{}, unix.EADDRNOTAVAIL}, // address is checked before the port
		{"10.0.0.1:80", stack.UDPBindFlags{}, unix.EACCES},
		{"0.0.0.0:1023", stack.UDPBindFlags{}, unix.EACCES},
		{"10.0.0.0:5000", stack.UDPBindFlags{}, unix.EADDRNOTAVAIL}, // network address is not local
		{"10.9.9.9:5000", stack.UDPBindFlags{FreeBind: true}, 0},
		{"10.0.0.255:5000", stack.UDPBindFlags{}, 0}, // broadcast addresses are bindable
		{"255.255.255.255:5000", stack.UDPBindFlags{}, 0},
		{"239.1.2.3:5000", stack.UDPBindFlags{}, 0}, // so are multicast ones
		{"127.3.4.5:5000", stack.UDPBindFlags{}, 0}, // all of 127/8 is local
		{"0.0.0.0:1024", stack.UDPBindFlags{}, 0},
		{"0.0.0.0:5001", stack.UDPBindFlags{BindToDevice: 9}, unix.ENODEV},
	}
	for _, c := range cases {
		b, err := s.UDPBind(newRecorder(), ap(c.addr), c.f)
		if got := asErrno(err); got != c.want {
			t.Errorf("bind %s %+v: %v, want %v", c.addr, c.f, err, c.want)
		}
		if err == nil {
			b.Release()
		}
	}
	// ip_nonlocal_bind lifts the address check; CAP_NET_BIND_SERVICE the
	// port check; ip_unprivileged_port_start moves the limit.
	must(t, s.Sysctl().Set("net.ipv4.ip_nonlocal_bind", "1"))
	if b, err := s.UDPBind(newRecorder(), ap("10.9.9.9:5000"), stack.UDPBindFlags{}); err != nil {
		t.Errorf("nonlocal bind with ip_nonlocal_bind=1: %v", err)
	} else {
		b.Release()
	}
	must(t, s.Sysctl().Set("net.ipv4.ip_unprivileged_port_start", "80"))
	if b, err := s.UDPBind(newRecorder(), ap("0.0.0.0:80"), stack.UDPBindFlags{}); err != nil {
		t.Errorf("bind :80 with ip_unprivileged_port_start=80: %v", err)
	} else {
		b.Release()
	}
	priv := newStack(t, stack.Config{Caps: stack.CapNetBindService})
	if b, err := priv.UDPBind(newRecorder(), ap("127.0.0.1:80"), stack.UDPBindFlags{}); err != nil {
		t.Errorf("bind :80 with CAP_NET_BIND_SERVICE: %v", err)
	} else {
		b.Release()
	}
}

func TestEphemeralPortRange(t *testing.T) {
	s := newStack(t, stack.Config{Sysctl: map[string]string{"net.ipv4.ip_local_port_range": "40000 40002"}})
	seen := map[uint16]bool{}
	for i := 0; i < 3; i++ {
		b := bind(t, s, newRecorder(), "0.0.0.0:0", stack.UDPBindFlags{})
		p := b.Local().Port()
		if p < 40000 || p > 40002 || seen[p] {
			t.Errorf("ephemeral port %d: outside 40000..40002 or reused", p)
		}
		seen[p] = true
	}
	if _, err := s.UDPBind(newRecorder(), ap("0.0.0.0:0"), stack.UDPBindFlags{}); !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("bind with exhausted range: %v, want EADDRINUSE", err)
	}
	// A changed range applies to the next bind.
	must(t, s.Sysctl().Set("net.ipv4.ip_local_port_range", "50000 50000"))
	b := bind(t, s, newRecorder(), "127.0.0.1:0", stack.UDPBindFlags{})
	if b.Local() != ap("127.0.0.1:50000") {
		t.Errorf("bound %s, want 127.0.0.1:50000", b.Local())
	}
	// Released ports are free again.
	b.Release()
	b2 := bind(t, s, newRecorder(), "127.0.0.1:0", stack.UDPBindFlags{})
	if b2.Local().Port() != 50000 {
		t.Errorf("after release bound %s", b2.Local())
	}
}
