package nsnet_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/link/channel"
	"netsandbox/nsnet"
	"netsandbox/options"
	"netsandbox/stack"
)

// Issue #17's lifecycle and input traps, each as the user meets it.

// Linux answers EBADF for a send on a closed fd; a closed UDP socket must
// neither succeed nor deliver.
func TestTrapUDPSendAfterClose(t *testing.T) {
	w := newWire(t)
	rx, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("10.0.0.2:7100"))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	s, err := endpoint.New(w.a, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = s.SendMsg([]byte("ghost"), nil, options.SockaddrIn(netip.MustParseAddrPort("10.0.0.2:7100")), 0)
	if err != unix.EBADF {
		t.Errorf("SendMsg after Close = %v, want EBADF", err)
	}
	rx.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := rx.ReadFrom(make([]byte, 10)); err == nil {
		t.Errorf("a closed socket's datagram was delivered (%d bytes)", n)
	}
}

// Closing the stack must end every call blocked on its sockets.
func TestTrapStackCloseWakesBlockedRecvMsg(t *testing.T) {
	w, err := buildWire()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	s, err := endpoint.New(w.a, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(options.SockaddrIn(netip.MustParseAddrPort("0.0.0.0:7101"))); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RecvMsg(make([]byte, 10), nil, 0) // blocking socket
	}()
	time.Sleep(20 * time.Millisecond)
	w.a.Close()
	w.b.Close()
	within(t, 2*time.Second, "RecvMsg after stack.Close", done)
}

// The same through the adapter: a UDPConn's Read must end when its stack
// closes (nsnet waits on the socket's wait queue, so it needs the stack to
// notify it).
func TestTrapStackCloseWakesBlockedConnRead(t *testing.T) {
	w, err := buildWire()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	u, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var rerr error
	go func() {
		defer close(done)
		_, rerr = u.Read(make([]byte, 10))
	}()
	time.Sleep(20 * time.Millisecond)
	w.a.Close()
	w.b.Close()
	within(t, 2*time.Second, "UDPConn.Read after stack.Close", done)
	if !errors.Is(rerr, net.ErrClosed) {
		t.Errorf("Read after stack.Close = %v, want net.ErrClosed", rerr)
	}
}

func panics(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

// A nil argument is a usage error to report, not a crash.
func TestTrapNilArguments(t *testing.T) {
	if p := panics(func() { endpoint.New(nil, unix.AF_INET, unix.SOCK_DGRAM, 0) }); p != nil {
		t.Errorf("endpoint.New(nil, ...) panics: %v", p)
	}
	st, err := stack.New(stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var err2 error
	if p := panics(func() { _, err2 = st.AddInterface("eth0", nil) }); p != nil {
		t.Errorf("AddInterface(name, nil) panics: %v", p)
	} else if err2 == nil {
		t.Error("AddInterface(name, nil) succeeded")
	}
	var l *channel.Endpoint // a typed nil inside the interface
	if p := panics(func() { _, err2 = st.AddInterface("eth1", l) }); p != nil {
		t.Errorf("AddInterface(name, (*channel.Endpoint)(nil)) panics: %v", p)
	}
}

// Linux's address add installs the prefix route of the subnet, so a
// neighbor is reachable with no route added by hand.
func TestTrapAddAddressAddsSubnetRoute(t *testing.T) {
	la, lb := channel.New(1500, "\x02\x00\x00\x00\x00\x01"), channel.New(1500, "\x02\x00\x00\x00\x00\x02")
	defer channel.Join(la, lb)()
	host := func(l *channel.Endpoint, p string) *stack.Stack {
		st, err := stack.New(stack.Config{})
		if err != nil {
			t.Fatal(err)
		}
		idx, err := st.AddInterface("eth0", l)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddAddress(idx, netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b := host(la, "10.0.0.1/24"), host(lb, "10.0.0.2/24")
	defer a.Close()
	defer b.Close()
	rx, err := nsnet.ListenUDP(b, netip.MustParseAddrPort("0.0.0.0:7102"))
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := nsnet.ListenUDP(a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, err := tx.WriteToUDPAddrPort([]byte("hi"), netip.MustParseAddrPort("10.0.0.2:7102")); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			t.Fatalf("first send to a neighbor on the address's own subnet: %v (no prefix route)", err)
		}
		t.Fatal(err)
	}
	rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := rx.ReadFrom(make([]byte, 10)); err != nil {
		t.Fatalf("neighbor never got the datagram: %v", err)
	}
}
