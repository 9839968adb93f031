// Package load holds resource tests: floods that must stay within the
// socket buffers Linux would allow, and open/close churn after which
// goroutines, file descriptors and heap must return to their baseline.
package load

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/options"
	"netsandbox/stack"
)

// Flood parameters: a receive buffer of a few datagrams and many more
// datagrams than fit.
const (
	floodRcvbuf  = 4096 // setsockopt value; Linux doubles it to 8192
	floodCount   = 500
	floodPayload = 100
)

// floodResult is what a flood left in the receiver.
type floodResult struct {
	rcvbuf   int    // SO_RCVBUF as getsockopt reports it
	queued   int    // datagrams that were waiting when the flood ended
	dropsMsg uint32 // SO_RXQ_OVFL of the datagram sent after the flood
	late     bool   // the datagram sent after the flood arrived
}

// sock is the part of a socket the flood needs, so the same flood runs on
// a kernel socket and on a netsandbox socket.
type sock interface {
	Bind(sa []byte) error
	SendMsg(p, oob, to []byte, flags int) (int, error)
	RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error)
	SetSockOpt(level, name int, val []byte) error
	GetSockOpt(level, name int, buf []byte) (int, error)
	Close() error
}

func intOpt(v int32) []byte {
	b := make([]byte, 4)
	options.PutInt32(b, v)
	return b
}

// flood sends floodCount datagrams from tx to rx (bound to dst) without
// reading, then drains rx, then sends one more and reads its SO_RXQ_OVFL.
func flood(t *testing.T, rx, tx sock, dst netip.AddrPort) floodResult {
	t.Helper()
	if err := rx.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, intOpt(floodRcvbuf)); err != nil {
		t.Fatalf("SO_RCVBUF: %v", err)
	}
	if err := rx.SetSockOpt(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, intOpt(1)); err != nil {
		t.Fatalf("SO_RXQ_OVFL: %v", err)
	}
	if err := rx.Bind(options.SockaddrIn(dst)); err != nil {
		t.Fatalf("bind: %v", err)
	}
	var r floodResult
	b := make([]byte, 4)
	if _, err := rx.GetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, b); err != nil {
		t.Fatalf("getsockopt SO_RCVBUF: %v", err)
	}
	r.rcvbuf = int(options.Int32(b))
	to := options.SockaddrIn(dst)
	payload := make([]byte, floodPayload)
	for i := 0; i < floodCount; i++ {
		if _, err := tx.SendMsg(payload, nil, to, unix.MSG_DONTWAIT); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	buf, oob := make([]byte, 2048), make([]byte, 256)
	for i := 0; i <= floodCount; i++ {
		_, _, _, _, err := rx.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		r.queued++
	}
	if _, err := tx.SendMsg([]byte("late"), nil, to, unix.MSG_DONTWAIT); err != nil {
		t.Fatalf("send late: %v", err)
	}
	n, oobn, _, _, err := rx.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
	if err == nil && string(buf[:n]) == "late" {
		r.late = true
		p := options.NewCmsgParser(oob[:oobn])
		for m, ok := p.Next(); ok; m, ok = p.Next() {
			if m.Level == unix.SOL_SOCKET && m.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
				r.dropsMsg = uint32(options.Int32(m.Data))
			}
		}
	}
	return r
}

// kernelSock is a real non-blocking kernel socket with the sock methods.
type kernelSock struct{ fd int }

func newKernelUDP(t *testing.T) *kernelSock {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("kernel socket: %v", err)
	}
	k := &kernelSock{fd: fd}
	t.Cleanup(func() { k.Close() })
	return k
}

func (k *kernelSock) Bind(sa []byte) error {
	ap, _, err := options.ParseSockaddrIn(sa)
	if err != nil {
		return err
	}
	return unix.Bind(k.fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())})
}

func (k *kernelSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	ap, _, err := options.ParseSockaddrIn(to)
	if err != nil {
		return 0, err
	}
	return unix.SendmsgN(k.fd, p, oob, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}, flags)
}

func (k *kernelSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	n, oobn, rf, _, err := unix.Recvmsg(k.fd, p, oob, flags)
	return n, oobn, rf, nil, err
}

func (k *kernelSock) SetSockOpt(level, name int, val []byte) error {
	return unix.SetsockoptString(k.fd, level, name, string(val))
}

func (k *kernelSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	v, err := unix.GetsockoptInt(k.fd, level, name)
	if err != nil {
		return 0, err
	}
	options.PutInt32(buf, int32(v))
	return 4, nil
}

func (k *kernelSock) Close() error { return unix.Close(k.fd) }

// TestUDPFloodStaysWithinRcvbuf floods a UDP socket with a small SO_RCVBUF
// from another socket on lo. The receive queue must hold no more than the
// kernel's socket holds after the same flood (the kernel, run alongside, is
// the oracle for what the buffer allows), every datagram that did not fit
// must be counted as a drop in the stack's RcvbufErrors and in the
// socket's SO_RXQ_OVFL, and a datagram sent after the flood still arrives.
func TestUDPFloodStaysWithinRcvbuf(t *testing.T) {
	s, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	open := func() sock {
		so, err := endpoint.New(s, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { so.Close() })
		return so
	}
	dst := netip.MustParseAddrPort("127.0.0.1:5000")

	before := s.Stats().UDPRcvbufErrors.Load()
	ns := flood(t, open(), open(), dst)
	drops := s.Stats().UDPRcvbufErrors.Load() - before

	// The kernel flood uses an ephemeral port from the kernel itself.
	kr := newKernelUDP(t)
	probe, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(probe, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(probe)
	unix.Close(probe)
	if err != nil {
		t.Fatal(err)
	}
	kdst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*unix.SockaddrInet4).Port))
	kern := flood(t, kr, newKernelUDP(t), kdst)
	t.Logf("kernel: %+v; netsandbox: %+v, RcvbufErrors +%d", kern, ns, drops)

	if ns.rcvbuf != kern.rcvbuf {
		t.Errorf("SO_RCVBUF reads %d, kernel %d", ns.rcvbuf, kern.rcvbuf)
	}
	if ns.queued < 1 || ns.queued > kern.queued {
		t.Errorf("%d datagrams queued after the flood; the kernel's buffer held %d", ns.queued, kern.queued)
	}
	if want := uint64(floodCount - ns.queued); drops != want {
		t.Errorf("RcvbufErrors grew by %d, want %d (sent %d, queued %d)", drops, want, floodCount, ns.queued)
	}
	if !ns.late {
		t.Fatalf("the datagram sent after the flood did not arrive")
	}
	if want := uint32(floodCount - ns.queued); ns.dropsMsg != want {
		t.Errorf("SO_RXQ_OVFL after the flood is %d, want %d", ns.dropsMsg, want)
	}
}
