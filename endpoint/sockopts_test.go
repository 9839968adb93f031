package endpoint

import (
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

var allKinds = [][2]int{{unix.SOCK_STREAM, 0}, {unix.SOCK_DGRAM, 0}, {unix.SOCK_RAW, unix.IPPROTO_ICMP}, {unix.SOCK_RAW, unix.IPPROTO_RAW}}

func kindName(c [2]int) string { return fmt.Sprintf("type%d/proto%d", c[0], c[1]) }

// TestBufferSizesMatchKernel: SO_RCVBUF/SO_SNDBUF doubling, clamping to
// rmem_max/wmem_max, floors, the FORCE variants and the defaults.
func TestBufferSizesMatchKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	vals := []int32{0, 1, 1000, 1152, 2304, 100000, 1 << 30, -1, -5000}
	for _, c := range allKinds {
		diffRun(t, "bufsizes "+kindName(c), func(t *testing.T) pair { return openPair(t, s, c[0], c[1]) }, func(l *logger, so api) {
			for _, name := range []int{unix.SO_RCVBUF, unix.SO_SNDBUF, unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
				buf := make([]byte, 4)
				n, err := so.GetSockOpt(unix.SOL_SOCKET, name, buf)
				l.add("default %d: %s %v", name, errStr(err), buf[:n])
				for _, v := range vals {
					err := so.SetSockOpt(unix.SOL_SOCKET, name, intOpt(v))
					n, gerr := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, buf)
					rcv := append([]byte(nil), buf[:n]...)
					n2, _ := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_SNDBUF, buf)
					l.add("set %d=%d: %s rcv %s %v snd %v", name, v, errStr(err), errStr(gerr), rcv, buf[:n2])
				}
				l.add("short: %s", errStr(so.SetSockOpt(unix.SOL_SOCKET, name, []byte{1, 2, 3})))
			}
			// getsockopt length rules for a SOL_SOCKET int.
			for _, n := range []int{0, 1, 2, 3, 4, 8} {
				buf := make([]byte, n)
				m, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, buf)
				l.add("get len %d: %s %v", n, errStr(err), buf[:m])
			}
		})
	}
}

func TestForceNeedsNetAdmin(t *testing.T) {
	s := newStack(t, stack.CapNetRaw, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	for _, name := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
		if err := so.SetSockOpt(unix.SOL_SOCKET, name, intOpt(4096)); err != unix.EPERM {
			t.Errorf("option %d without CAP_NET_ADMIN: %v, want EPERM", name, err)
		}
	}
}

// TestIPOptionsMatchKernel: IP_TTL, IP_TOS and IP_HDRINCL values, int-or-char
// lengths and errors on every kind.
func TestIPOptionsMatchKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	vals := [][]byte{nil, {0}, {1}, {200}, {0xff, 0xff}, intOpt(0), intOpt(1), intOpt(64), intOpt(255), intOpt(256), intOpt(-1), intOpt(-2), intOpt(0x1ff)}
	for _, c := range allKinds {
		diffRun(t, "ipopts "+kindName(c), func(t *testing.T) pair { return openPair(t, s, c[0], c[1]) }, func(l *logger, so api) {
			for _, name := range []int{unix.IP_TTL, unix.IP_TOS, unix.IP_HDRINCL} {
				for _, v := range vals {
					err := so.SetSockOpt(unix.SOL_IP, name, v)
					buf := make([]byte, 4)
					n, gerr := so.GetSockOpt(unix.SOL_IP, name, buf)
					l.add("set %d=%v: %s get %s %v", name, v, errStr(err), errStr(gerr), buf[:n])
				}
				for _, n := range []int{0, 1, 2, 3, 4, 8} {
					buf := make([]byte, n)
					m, err := so.GetSockOpt(unix.SOL_IP, name, buf)
					l.add("get %d len %d: %s %v", name, n, errStr(err), buf[:m])
				}
			}
			l.add("unknown SOL_IP: %s", errStr(so.SetSockOpt(unix.SOL_IP, 9999, intOpt(1))))
			_, err := so.GetSockOpt(unix.SOL_IP, 9999, make([]byte, 4))
			l.add("get unknown SOL_IP: %s", errStr(err))
			l.add("unknown SOL_SOCKET: %s", errStr(so.SetSockOpt(unix.SOL_SOCKET, 9999, intOpt(1))))
			l.add("unknown SOL_SOCKET short: %s", errStr(so.SetSockOpt(unix.SOL_SOCKET, 9999, nil)))
			_, err = so.GetSockOpt(unix.SOL_SOCKET, 9999, make([]byte, 4))
			l.add("get unknown SOL_SOCKET: %s", errStr(err))
		})
	}
}

// TestFlagOptionsMatchKernel: SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST,
// SO_BINDTODEVICE, SO_BINDTOIFINDEX and the timeouts.
func TestFlagOptionsMatchKernel(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	for _, c := range allKinds {
		diffRun(t, "flags "+kindName(c), func(t *testing.T) pair { return openPair(t, s, c[0], c[1]) }, func(l *logger, so api) {
			for _, name := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_BROADCAST} {
				for _, v := range []int32{0, 5, -1, 0} {
					err := so.SetSockOpt(unix.SOL_SOCKET, name, intOpt(v))
					buf := make([]byte, 4)
					n, gerr := so.GetSockOpt(unix.SOL_SOCKET, name, buf)
					l.add("set %d=%d: %s get %s %v", name, v, errStr(err), errStr(gerr), buf[:n])
				}
			}
			getDev := func(n int) {
				buf := make([]byte, n)
				m, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, buf)
				ibuf := make([]byte, 4)
				im, ierr := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, ibuf)
				l.add("  dev(len %d): %s %q ifindex %s %v", n, errStr(err), buf[:m], errStr(ierr), ibuf[:im])
			}
			getDev(16)
			for _, name := range [][]byte{[]byte("nosuchdev0"), []byte("lo"), []byte("lo\x00junk"), nil, []byte(""), []byte("lo"), []byte("0123456789abcdefgh")} {
				l.add("bindtodevice %q: %s", name, errStr(so.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, name)))
				getDev(16)
			}
			getDev(15)
			getDev(64)
			for _, v := range []int32{0, 1, 999, -1, 0} {
				l.add("bindtoifindex %d: %s", v, errStr(so.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, intOpt(v))))
				getDev(16)
			}
			for _, name := range []int{unix.SO_RCVTIMEO_OLD, unix.SO_SNDTIMEO_OLD} {
				for _, tv := range [][2]int64{{0, 0}, {1, 500000}, {2, 1}, {0, -1}, {0, 1000000}, {-1, 0}, {3, 0}} {
					b := make([]byte, 16)
					binary.NativeEndian.PutUint64(b[0:8], uint64(tv[0]))
					binary.NativeEndian.PutUint64(b[8:16], uint64(tv[1]))
					err := so.SetSockOpt(unix.SOL_SOCKET, name, b)
					buf := make([]byte, 16)
					n, gerr := so.GetSockOpt(unix.SOL_SOCKET, name, buf)
					l.add("timeo %d %v: %s get %s %v", name, tv, errStr(err), errStr(gerr), buf[:n])
				}
				l.add("timeo short: %s", errStr(so.SetSockOpt(unix.SOL_SOCKET, name, make([]byte, 8))))
			}
		})
	}
}

func TestBindToDeviceNeedsNetRawToChange(t *testing.T) {
	s := newStack(t, 0, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")); err != nil {
		t.Fatalf("first bind to lo: %v", err)
	}
	if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, nil); err != unix.EPERM {
		t.Errorf("unbind without CAP_NET_RAW: %v, want EPERM", err)
	}
}
