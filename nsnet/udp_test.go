package nsnet_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/nsnet"
)

func TestUDPControlMessages(t *testing.T) {
	w := newWire(t)
	srv, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("0.0.0.0:9000"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	all := nsnet.FlagTTL | nsnet.FlagSrc | nsnet.FlagDst | nsnet.FlagInterface | nsnet.FlagTOS | nsnet.FlagOrigDst
	if err := srv.SetControlMessage(all, true); err != nil {
		t.Fatal(err)
	}
	cli, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	to := netip.MustParseAddrPort("10.0.0.2:9000")
	if _, err := cli.WriteMsg([]byte("ping"), &nsnet.ControlMessage{TTL: 7, TOS: 0x28}, to); err != nil {
		t.Fatal(err)
	}
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	var cm nsnet.ControlMessage
	buf := make([]byte, 100)
	n, from, err := srv.ReadMsg(buf, &cm)
	if err != nil {
		t.Fatal(err)
	}
	want := nsnet.ControlMessage{TTL: 7, TOS: 0x28, Src: addrB, Dst: addrB, IfIndex: w.ifB, OrigDst: to}
	if string(buf[:n]) != "ping" || from.Addr() != addrA || cm != want {
		t.Fatalf("ReadMsg = %q from %v, cm %+v; want \"ping\" from %v, cm %+v", buf[:n], from, cm, addrA, want)
	}

	// The reply goes out from the address and interface the request came
	// in on, as a multihomed server answers.
	if _, err := srv.WriteMsg([]byte("pong"), &nsnet.ControlMessage{Src: cm.Src, IfIndex: cm.IfIndex}, from); err != nil {
		t.Fatal(err)
	}
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, rfrom, err := cli.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "pong" || rfrom != to {
		t.Fatalf("reply = %q from %v, %v", buf[:n], rfrom, err)
	}

	// Turning the flags off stops the messages.
	if err := srv.SetControlMessage(all, false); err != nil {
		t.Fatal(err)
	}
	cli.WriteToUDPAddrPort([]byte("x"), to)
	cm = nsnet.ControlMessage{}
	if _, _, err := srv.ReadMsg(buf, &cm); err != nil || cm != (nsnet.ControlMessage{}) {
		t.Fatalf("after SetControlMessage off: cm %+v, %v", cm, err)
	}
}

// Turning one of the IP_PKTINFO flags off keeps the others.
func TestControlFlagsSharePktinfo(t *testing.T) {
	w := newWire(t)
	srv, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("10.0.0.2:9001"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetControlMessage(nsnet.FlagDst|nsnet.FlagInterface, true)
	srv.SetControlMessage(nsnet.FlagDst, false)
	cli, _ := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:9001"))
	defer cli.Close()
	cli.Write([]byte("x"))
	var cm nsnet.ControlMessage
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := srv.ReadMsg(make([]byte, 10), &cm); err != nil || cm.IfIndex != w.ifB {
		t.Fatalf("cm %+v, %v: want IfIndex %d still reported", cm, err, w.ifB)
	}
}

func TestErrQueueAfterPortUnreachable(t *testing.T) {
	w := newWire(t)
	dst := netip.MustParseAddrPort("10.0.0.2:9999") // nothing bound on B
	c, err := nsnet.DialUDP(w.a, netip.AddrPort{}, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetRecvErr(true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello?")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, ee, err := c.ReadErrQueue(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := nsnet.ExtendedError{
		Errno: unix.ECONNREFUSED, Origin: unix.SO_EE_ORIGIN_ICMP, Type: 3, Code: 3,
		Offender: addrB, Dst: dst,
	}
	if *ee != want || string(buf[:n]) != "hello?" {
		t.Fatalf("ReadErrQueue = %+v, quoted %q; want %+v, \"hello?\"", *ee, buf[:n], want)
	}
	if !errors.Is(ee, unix.ECONNREFUSED) {
		t.Error("errors.Is(ExtendedError, ECONNREFUSED) is false")
	}
	// The queue is empty now: ReadErrQueue waits until the deadline.
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := c.ReadErrQueue(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("empty queue: %v, want a deadline error", err)
	}
}

// A connected socket's Read blocked in wait learns of the ICMP error:
// the wait wakes on EPOLLERR, not only on data.
func TestBlockedReadGetsConnRefused(t *testing.T) {
	w := newWire(t)
	c, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:9998"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Read block first
	c.Write([]byte("x"))
	err = <-errc
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("Read = %v, want an OpError with ECONNREFUSED", err)
	}
}

func TestUDPOptions(t *testing.T) {
	w := newWire(t)
	c, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:9000"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, err := range map[string]error{
		"SetTTL":               c.SetTTL(9),
		"SetTOS":               c.SetTOS(0x10),
		"SetMulticastTTL":      c.SetMulticastTTL(4),
		"SetMulticastLoopback": c.SetMulticastLoopback(false),
		"SetMulticastIface":    c.SetMulticastInterface(w.ifA),
		"SetMTUDiscover":       c.SetMTUDiscover(unix.IP_PMTUDISC_DO),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if mtu, err := c.PathMTU(); err != nil || mtu != 1500 {
		t.Errorf("PathMTU = %d, %v; want 1500", mtu, err)
	}
	got, _ := c.Socket().GetSockOpt(unix.SOL_IP, unix.IP_TTL, make([]byte, 4))
	if got != 4 {
		t.Errorf("IP_TTL optlen %d", got)
	}
	if err := c.SetTTL(300); !errors.Is(err, unix.EINVAL) {
		t.Errorf("SetTTL(300) = %v, want EINVAL", err)
	}
	u, _ := nsnet.ListenUDP(w.a, netip.AddrPort{})
	defer u.Close()
	if _, err := u.PathMTU(); !errors.Is(err, unix.ENOTCONN) {
		t.Errorf("PathMTU unconnected = %v, want ENOTCONN", err)
	}
}

// A local error: a datagram over the MTU with DF forced is EMSGSIZE at
// send, and the queue holds it with origin LOCAL, the MTU in Info and no
// offender.
func TestErrQueueLocalEMSGSIZE(t *testing.T) {
	w := newWire(t)
	c, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:9000"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetRecvErr(true)
	c.SetMTUDiscover(unix.IP_PMTUDISC_DO)
	if _, err := c.Write(make([]byte, 2000)); !errors.Is(err, unix.EMSGSIZE) {
		t.Fatalf("oversized send = %v, want EMSGSIZE", err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, ee, err := c.ReadErrQueue(make([]byte, 10))
	if err != nil {
		t.Fatal(err)
	}
	if ee.Errno != unix.EMSGSIZE || ee.Origin != unix.SO_EE_ORIGIN_LOCAL || ee.Info != 1500 || ee.Offender.IsValid() {
		t.Fatalf("local error %+v: want EMSGSIZE, origin LOCAL, info 1500, no offender", *ee)
	}
}

func TestWriteToWantsUDPAddr(t *testing.T) {
	w := newWire(t)
	c, err := nsnet.ListenPacket(w.a, "udp4", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteTo([]byte("x"), &net.TCPAddr{}); err == nil {
		t.Error("WriteTo a *net.TCPAddr: no error")
	}
	if _, err := c.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.0.0.2:9"))); err != nil {
		t.Errorf("WriteTo a *net.UDPAddr: %v", err)
	}
}
