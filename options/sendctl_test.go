package options

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// loopbackPair makes a kernel socket of type typ connected over loopback
// (TCP: to an accepted peer) and returns it with the address it sends to.
func loopbackPair(t *testing.T, typ int) (int, unix.Sockaddr) {
	t.Helper()
	mk := func() int {
		fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return fd
	}
	sink, fd := mk(), mk()
	if err := unix.Bind(sink, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	to, _ := unix.Getsockname(sink)
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(sink, 1); err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(fd, to); err != nil {
			t.Fatal(err)
		}
		a, _, err := unix.Accept(sink)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(a) })
		return fd, nil
	}
	return fd, to
}

// TestSendControlTypesMatchKernel sends one SOL_SOCKET message of every
// type 0..99, with 0, 4 and 8 bytes of data, on kernel UDP and TCP
// sockets and compares the errno with the parser's (ParseIPSendControl
// for UDP, ParseSocketSendControl for TCP).
func TestSendControlTypesMatchKernel(t *testing.T) {
	pol := SendCmsgPolicy{NetAdminOrRaw: true}
	for _, kind := range []struct {
		name  string
		typ   int
		parse func([]byte, SendCmsgPolicy) (IPSendControl, error)
	}{
		{"udp", unix.SOCK_DGRAM, ParseIPSendControl},
		{"tcp", unix.SOCK_STREAM, ParseSocketSendControl},
	} {
		fd, to := loopbackPair(t, kind.typ)
		for typ := int32(0); typ < 100; typ++ {
			if kind.typ == unix.SOCK_STREAM && typ == unix.SCM_DEVMEM_DMABUF {
				// tcp_sendmsg refuses a dma-buf id without MSG_ZEROCOPY
				// after the parse; the socket layer does the same.
				continue
			}
			for _, n := range []int{0, 4, 8} {
				data := make([]byte, n)
				if n >= 4 {
					binary.NativeEndian.PutUint32(data, 1)
				}
				ctl := AppendCmsg(nil, unix.SOL_SOCKET, typ, data)
				_, kerr := unix.SendmsgN(fd, []byte("x"), ctl, to, unix.MSG_DONTWAIT)
				_, perr := kind.parse(ctl, pol)
				if asErrno(kerr) != asErrno(perr) {
					t.Errorf("%s: unix.SOL_SOCKET type %d, %d bytes: kernel %v, parser %v", kind.name, typ, n, kerr, perr)
				}
			}
		}
		// TCP skips SOL_IP messages, valid or not.
		if kind.typ == unix.SOCK_STREAM {
			ctl := AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, make([]byte, 1))
			_, kerr := unix.SendmsgN(fd, []byte("x"), ctl, to, unix.MSG_DONTWAIT)
			_, perr := kind.parse(ctl, pol)
			if kerr != nil || perr != nil {
				t.Errorf("tcp: bad unix.IP_TTL message: kernel %v, parser %v", kerr, perr)
			}
		}
	}
}

func TestParseSendControlMixed(t *testing.T) {
	ttl := AppendCmsg(nil, unix.SOL_IP, unix.IP_TTL, []byte{7, 0, 0, 0})
	rights := AppendCmsg(nil, unix.SOL_SOCKET, unix.SCM_RIGHTS, []byte{0, 0, 0, 0})
	mark := AppendCmsg(nil, unix.SOL_SOCKET, unix.SO_MARK, []byte{5, 0, 0, 0})
	ctl := append(append(append([]byte(nil), ttl...), rights...), mark...)
	c, err := ParseIPSendControl(ctl, SendCmsgPolicy{NetAdminOrRaw: true})
	if err != nil || !c.HasTTL || c.TTL != 7 || !c.HasMark || c.Mark != 5 {
		t.Errorf("TTL, RIGHTS, MARK: %+v %v", c, err)
	}
	if _, err := ParseIPSendControl(ctl, SendCmsgPolicy{}); err != unix.EPERM {
		t.Errorf("MARK without capabilities: %v, want EPERM", err)
	}
	c, err = ParseSocketSendControl(ctl, SendCmsgPolicy{NetAdminOrRaw: true})
	if err != nil || c.HasTTL || !c.HasMark {
		t.Errorf("stream: %+v %v, want the mark and no TTL", c, err)
	}
}
