package fdbased

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// TestAttachInterfaceUDPAndTCP checks that datagrams and a TCP stream from
// a kernel peer reach the stack intact once the peer's veth end computes
// checksums and segments in software (DisableTxOffload), and that the
// stack's datagrams reach the kernel.
func TestAttachInterfaceUDPAndTCP(t *testing.T) {
	needNetns(t)
	nsStack, nsPeer := newNetns(t), newNetns(t)
	near, far := vethPair(t, nsStack, nsPeer)
	mustRun(t, "ip", "-n", nsPeer, "addr", "add", "198.18.0.1/24", "dev", far)
	mustRun(t, "ip", "-n", nsPeer, "link", "set", far, "up")
	var ep stack.LinkEndpoint
	if err := inNetns(t, nsPeer, func() error { return DisableTxOffload(far) }); err != nil {
		t.Fatal(err)
	}
	if err := inNetns(t, nsStack, func() (err error) { ep, _, err = AttachInterface(near, Options{}); return err }); err != nil {
		t.Fatal(err)
	}
	s := newGvisorStack(t, ep, netip.MustParsePrefix("198.18.0.2/24"))
	stackAddr := tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4([4]byte{198, 18, 0, 2}), Port: 7}
	deadline := time.Now().Add(10 * time.Second)

	// UDP, kernel -> stack -> kernel.
	uc, err := gonet.DialUDP(s, &stackAddr, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.SetDeadline(deadline)
	var kfd int
	if err := inNetns(t, nsPeer, func() (err error) {
		kfd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(kfd)
	unix.SetsockoptTimeval(kfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	if err := unix.Sendto(kfd, []byte("to the stack"), 0, &unix.SockaddrInet4{Port: 7, Addr: [4]byte{198, 18, 0, 2}}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, from, err := uc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the stack" {
		t.Fatalf("stack read %q, %v (UDP checksum errors: %d)", buf[:n], err, s.Stats().UDP.ChecksumErrors.Value())
	}
	if _, err := uc.WriteTo([]byte("to the kernel"), from); err != nil {
		t.Fatal(err)
	}
	n, _, err = unix.Recvfrom(kfd, buf, 0)
	if err != nil || string(buf[:n]) != "to the kernel" {
		t.Fatalf("kernel read %q, %v", buf[:n], err)
	}

	// TCP bulk data from the kernel: large enough that TSO/GSO would make
	// oversized frames if offload were still on.
	ln, err := gonet.ListenTCP(s, stackAddr, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	sent := make(chan error, 1)
	go func() {
		sent <- inNetns(t, nsPeer, func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &unix.Timeval{Sec: 10})
			if err := unix.Connect(fd, &unix.SockaddrInet4{Port: 7, Addr: [4]byte{198, 18, 0, 2}}); err != nil {
				return err
			}
			for off := 0; off < len(want); {
				n, err := unix.Write(fd, want[off:])
				if err != nil {
					return err
				}
				off += n
			}
			return nil
		})
	}()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("stack read %d bytes of TCP, then %v", len(got), err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("kernel send: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stack received %d bytes, want %d identical", len(got), len(want))
	}
}
