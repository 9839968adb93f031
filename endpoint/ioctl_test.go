package endpoint

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// TestTCPSendQueueLayout pins the gVisor fields tcpSendQueue reads: a
// gVisor update that moves them fails here, not as a wrong SIOCOUTQ.
func TestTCPSendQueueLayout(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if _, ok := tcpSendQueue(so.(*tcpSock).endpoint()); !ok {
		t.Fatal("tcpSendQueue cannot read gVisor's send queue fields")
	}
	if _, ok := tcpSendQueue(nil); ok {
		t.Fatal("tcpSendQueue(nil) = ok")
	}
}

// TestIoctlLoopback runs the queue and timestamp ioctls over lo, where
// no namespace is needed; the differential scenarios (test/scenarios
// ioctl.go) pin the rest against the kernel.
func TestIoctlLoopback(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	rx, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	tx, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer rx.Close()
	defer tx.Close()
	if err := rx.Bind(sa("127.0.0.1:4711")); err != nil {
		t.Fatal(err)
	}
	arg := make([]byte, 16)
	if err := rx.Ioctl(unix.SIOCGSTAMP, arg); err != unix.ENOENT {
		t.Fatalf("SIOCGSTAMP before any datagram: %v, want ENOENT", err)
	}
	before := time.Now()
	if _, err := tx.SendMsg(make([]byte, 33), nil, sa("127.0.0.1:4711"), 0); err != nil {
		t.Fatal(err)
	}
	if err := rx.Ioctl(unix.SIOCINQ, arg[:4]); err != nil || binary.NativeEndian.Uint32(arg) != 33 {
		t.Fatalf("FIONREAD: %v %d, want 33", err, binary.NativeEndian.Uint32(arg))
	}
	if err := rx.Ioctl(unix.SIOCINQ, arg[:3]); err != unix.EFAULT {
		t.Fatalf("FIONREAD into 3 bytes: %v, want EFAULT", err)
	}
	if _, _, _, _, err := rx.RecvMsg(make([]byte, 64), nil, unix.MSG_DONTWAIT); err != nil {
		t.Fatal(err)
	}
	if err := rx.Ioctl(unix.SIOCGSTAMPNS, arg); err != nil {
		t.Fatal(err)
	}
	got := time.Unix(int64(binary.NativeEndian.Uint64(arg)), int64(binary.NativeEndian.Uint64(arg[8:])))
	if got.Before(before) || got.After(time.Now()) {
		t.Errorf("SIOCGSTAMPNS %v not between the send (%v) and now", got, before)
	}
	conf := make([]byte, options.SizeofIfconf)
	if err := rx.Ioctl(unix.SIOCGIFCONF, conf); err != nil || binary.NativeEndian.Uint32(conf) != options.SizeofIfreq {
		t.Errorf("SIOCGIFCONF size query: %v %d, want one entry for lo", err, binary.NativeEndian.Uint32(conf))
	}
	if err := rx.Ioctl(0x1234, nil); err != unix.ENOTTY {
		t.Errorf("unknown ioctl: %v, want ENOTTY", err)
	}
}
