package nsnet_test

import (
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/nsnet"
	"netsandbox/options"
)

// recvRaw waits for one datagram on s and returns it with its raw
// control bytes, as a user holding the socket itself would see them.
func recvRaw(t *testing.T, s endpoint.Socket, flags int) (data, oob []byte, from []byte) {
	t.Helper()
	buf, ob := make([]byte, 1500), make([]byte, 512)
	mask := uint32(unix.EPOLLIN)
	if flags&unix.MSG_ERRQUEUE != 0 {
		mask = unix.EPOLLERR
	}
	if _, err := s.Wait(mask, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	n, oobn, _, sa, err := s.RecvMsg(buf, ob, flags)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], ob[:oobn], sa
}

// x/net/ipv4's ControlMessage reads the control bytes a netsandbox socket
// delivers, its Marshal output is accepted by a netsandbox sendmsg, and
// our Parse and Marshal agree with it both ways.
func TestXNetIPv4ControlMessageInterop(t *testing.T) {
	w := newWire(t)
	srv, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("0.0.0.0:6000"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SetControlMessage(nsnet.FlagTTL|nsnet.FlagDst|nsnet.FlagInterface, true); err != nil {
		t.Fatal(err)
	}
	cli, err := nsnet.ListenUDP(w.a, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	// x/net's Marshal on our sendmsg: IP_PKTINFO with a source address.
	xcm := &ipv4.ControlMessage{Src: net.IPv4(10, 0, 0, 1), IfIndex: w.ifA}
	to := netip.MustParseAddrPort("10.0.0.2:6000")
	if _, err := cli.Socket().SendMsg([]byte("hi"), xcm.Marshal(), options.SockaddrIn(to), 0); err != nil {
		t.Fatalf("sendmsg with x/net's control bytes: %v", err)
	}
	var ours nsnet.ControlMessage
	if err := ours.Parse(xcm.Marshal()); err != nil || ours.Src != addrA || ours.IfIndex != w.ifA {
		t.Errorf("our Parse of x/net's Marshal = %+v, %v", ours, err)
	}
	var back ipv4.ControlMessage
	if err := back.Parse((&nsnet.ControlMessage{Src: addrA, IfIndex: w.ifA}).Marshal()); err != nil || back.IfIndex != w.ifA {
		t.Errorf("x/net's Parse of our Marshal = %+v, %v", back, err)
	}

	// x/net's Parse on what our recvmsg delivered.
	_, oob, _ := recvRaw(t, srv.Socket(), 0)
	var xr ipv4.ControlMessage
	if err := xr.Parse(oob); err != nil {
		t.Fatal(err)
	}
	var or nsnet.ControlMessage
	if err := or.Parse(oob); err != nil {
		t.Fatal(err)
	}
	if xr.TTL != or.TTL || xr.TTL != 64 || !xr.Dst.Equal(net.IP(or.Dst.AsSlice())) || xr.IfIndex != or.IfIndex || or.IfIndex != w.ifB {
		t.Errorf("x/net parsed %v, we parsed %+v (want TTL 64, dst 10.0.0.2, ifindex %d)", &xr, or, w.ifB)
	}
}

// x/sys/unix's own parsers read our recvmsg control bytes: in_pktinfo,
// IP_ORIGDSTADDR and the error queue's sock_extended_err with offender.
func TestXSysUnixTypesInterop(t *testing.T) {
	w := newWire(t)
	srv, err := nsnet.ListenUDP(w.b, netip.MustParseAddrPort("0.0.0.0:6001"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetControlMessage(nsnet.FlagDst|nsnet.FlagOrigDst, true)
	cli, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:6001"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cli.Write([]byte("x"))
	_, oob, _ := recvRaw(t, srv.Socket(), 0)
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		t.Fatal(err)
	}
	var sawPkt, sawOrig bool
	for i := range msgs {
		m := &msgs[i]
		switch m.Header.Type {
		case unix.IP_PKTINFO:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&m.Data[0]))
			sawPkt = pi.Addr == addrB.As4() && int(pi.Ifindex) == w.ifB
		case unix.IP_ORIGDSTADDR:
			sa, err := unix.ParseOrigDstAddr(m)
			s4, ok := sa.(*unix.SockaddrInet4)
			sawOrig = err == nil && ok && s4.Addr == addrB.As4() && s4.Port == 6001
		}
	}
	if !sawPkt || !sawOrig {
		t.Errorf("x/sys/unix parse: pktinfo ok %v, origdst ok %v (%d messages)", sawPkt, sawOrig, len(msgs))
	}

	// The error queue: unix.SockExtendedErr laid over our bytes.
	dead, err := nsnet.DialUDP(w.a, netip.AddrPort{}, netip.MustParseAddrPort("10.0.0.2:6999"))
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	dead.SetRecvErr(true)
	dead.Write([]byte("y"))
	_, oob, _ = recvRaw(t, dead.Socket(), unix.MSG_ERRQUEUE)
	msgs, err = unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) == 0 || msgs[0].Header.Type != unix.IP_RECVERR {
		t.Fatalf("error queue cmsgs %+v, %v", msgs, err)
	}
	ee := (*unix.SockExtendedErr)(unsafe.Pointer(&msgs[0].Data[0]))
	off := (*unix.RawSockaddrInet4)(unsafe.Pointer(&msgs[0].Data[unsafe.Sizeof(*ee)]))
	if unix.Errno(ee.Errno) != unix.ECONNREFUSED || ee.Origin != unix.SO_EE_ORIGIN_ICMP || ee.Type != 3 || ee.Code != 3 ||
		off.Family != unix.AF_INET || off.Addr != addrB.As4() {
		t.Errorf("sock_extended_err %+v offender %+v", *ee, *off)
	}
}
