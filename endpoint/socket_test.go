package endpoint

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestNewMatchesKernel compares socket(2)'s answer for each argument
// combination with the kernel's.
func TestNewMatchesKernel(t *testing.T) {
	// A ping socket's creation depends on net.ipv4.ping_group_range: the
	// stack gets the host's, so the verdict does not depend on what the
	// host's is (its default is "1 0", as the stack's).
	pgr, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, stack.AllCaps, map[string]string{"net.ipv4.ping_group_range": strings.Join(strings.Fields(string(pgr)), " ")})
	cases := [][3]int{
		{unix.AF_INET, unix.SOCK_STREAM, 0},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP},
		{unix.AF_INET, unix.SOCK_DGRAM, 0},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP},
		{unix.AF_INET, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, 0},
		{unix.AF_INET, unix.SOCK_DGRAM | 0x100, 0},
		{unix.AF_INET, unix.SOCK_STREAM | 0x40000000, 0},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_ICMP},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_TCP},
		{unix.AF_INET, unix.SOCK_DGRAM, 99},
		{unix.AF_INET, unix.SOCK_DGRAM, -1},
		{unix.AF_INET, unix.SOCK_DGRAM, 300},
		{unix.AF_INET, unix.SOCK_RAW, 0},
		{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP},
		{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP},
		{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW},
		{unix.AF_INET, unix.SOCK_RAW, 263},
		{unix.AF_INET, 0, 0},
		{unix.AF_INET, unix.SOCK_SEQPACKET, 0},
		{unix.AF_INET, unix.SOCK_RDM, 0},
		{unix.AF_INET, 7, 0},
		{unix.AF_INET, 11, 0},
		{unix.AF_INET, 99, 0},
		{unix.AF_INET, unix.SOCK_SEQPACKET, 300},
		{1000, unix.SOCK_DGRAM, 0},
		{-1, unix.SOCK_DGRAM, 0},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP},
	}
	for _, c := range cases {
		fd, kerr := unix.Socket(c[0], c[1], c[2])
		if kerr == nil {
			unix.Close(fd)
		}
		sock, nerr := New(s, c[0], c[1], c[2])
		if nerr == nil {
			sock.Close()
		}
		if errStr(kerr) != errStr(nerr) {
			t.Errorf("socket(%d, %#x, %d): kernel %s, netsandbox %s", c[0], c[1], c[2], errStr(kerr), errStr(nerr))
		}
	}
}

func TestNewPermissions(t *testing.T) {
	none := newStack(t, 0, nil)
	if _, err := New(none, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err != unix.EPERM {
		t.Errorf("raw without CAP_NET_RAW: %v, want EPERM", err)
	}
	// The protocol lookup comes before the capability check.
	if _, err := New(none, unix.AF_INET, unix.SOCK_RAW, 0); err != unix.EPROTONOSUPPORT {
		t.Errorf("raw proto 0 without CAP_NET_RAW: %v, want EPROTONOSUPPORT", err)
	}
	if _, err := New(none, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP); err != unix.EACCES {
		t.Errorf("ping outside ping_group_range: %v, want EACCES", err)
	}
	ok := newStack(t, 0, map[string]string{"net.ipv4.ping_group_range": "0 0"})
	p, err := New(ok, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	if err != nil {
		t.Fatalf("ping with gid 0 in range 0..0: %v", err)
	}
	p.Close()
}

// TestSocketIdentityOptions checks SO_TYPE, SO_PROTOCOL, SO_DOMAIN and
// SO_ACCEPTCONN for every kind against the kernel.
func TestSocketIdentityOptions(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	for _, c := range [][2]int{{unix.SOCK_STREAM, 0}, {unix.SOCK_DGRAM, 0}, {unix.SOCK_DGRAM, unix.IPPROTO_UDP}, {unix.SOCK_RAW, unix.IPPROTO_ICMP}, {unix.SOCK_RAW, unix.IPPROTO_RAW}} {
		diffRun(t, fmt.Sprintf("identity %v", c), func(t *testing.T) pair { return openPair(t, s, c[0], c[1]) }, func(l *logger, so api) {
			for _, name := range []int{unix.SO_TYPE, unix.SO_PROTOCOL, unix.SO_DOMAIN, unix.SO_ACCEPTCONN, unix.SO_ERROR} {
				buf := make([]byte, 4)
				n, err := so.GetSockOpt(unix.SOL_SOCKET, name, buf)
				l.add("get %d: %s n=%d %v", name, errStr(err), n, buf[:n])
				l.add("set %d: %s", name, errStr(so.SetSockOpt(unix.SOL_SOCKET, name, intOpt(1))))
			}
			buf := make([]byte, 4)
			n, err := so.GetSockOpt(unix.SOL_IP, unix.IP_HDRINCL, buf)
			l.add("get IP_HDRINCL: %s %v", errStr(err), buf[:n])
			name, err := so.GetSockName()
			l.add("getsockname: %s %v", errStr(err), name)
			_, err = so.GetPeerName()
			l.add("getpeername: %s", errStr(err))
		})
	}
}
