package stack_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// Which of several SO_REUSEADDR sockets gets a unicast datagram: the most
// specific address wins, then the most recently bound. Each scenario runs
// on the kernel (loopback of the test's namespace) and on a stack.
func TestUnicastReceiverMatchesKernel(t *testing.T) {
	for _, addrs := range [][]string{
		{"127.0.0.1", "127.0.0.1"},
		{"0.0.0.0", "127.0.0.1"},
		{"127.0.0.1", "0.0.0.0"},
		{"0.0.0.0", "0.0.0.0", "0.0.0.0"},
	} {
		t.Run(fmt.Sprint(addrs), func(t *testing.T) {
			port := freeKernelPort(t)
			want := kernelReceivers(t, port, addrs)
			got := stackReceivers(t, port, addrs)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("receivers: stack %v, kernel %v", got, want)
			}
		})
	}
}

func kernelReceivers(t *testing.T, port uint16, addrs []string) []int {
	var fds []int
	for _, a := range addrs {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		must(t, err)
		t.Cleanup(func() { unix.Close(fd) })
		must(t, unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1))
		must(t, unix.Bind(fd, &unix.SockaddrInet4{Port: int(port), Addr: netip.MustParseAddr(a).As4()}))
		fds = append(fds, fd)
	}
	tx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	must(t, err)
	defer unix.Close(tx)
	must(t, unix.Sendto(tx, []byte("x"), 0, &unix.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}}))
	var got []int
	deadline := time.Now().Add(time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		for i, fd := range fds {
			if _, _, err := unix.Recvfrom(fd, make([]byte, 8), 0); err == nil {
				got = append(got, i)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return got
}

func stackReceivers(t *testing.T, port uint16, addrs []string) []int {
	s := newStack(t, stack.Config{})
	var rs []*recorder
	for _, a := range addrs {
		r := newRecorder()
		bind(t, s, r, netip.AddrPortFrom(netip.MustParseAddr(a), port).String(), stack.UDPBindFlags{ReuseAddr: true})
		rs = append(rs, r)
	}
	must(t, s.SendUDP(&stack.UDPSend{Src: ap("127.0.0.1:1"), Dst: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), Payload: []byte("x")}))
	var got []int
	deadline := time.Now().Add(time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		for i, r := range rs {
			select {
			case <-r.ch:
				got = append(got, i)
			default:
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return got
}
