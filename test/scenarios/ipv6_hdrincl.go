package scenarios

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ipv6HdrIncl is IPV6_HDRINCL (Linux 4.5).
const ipv6HdrIncl = 36

// udp6Packet is a whole IPv6 packet carrying a UDP datagram from src to
// dst, checksummed.
func udp6Packet(src, dst netip.AddrPort, payload string) []byte {
	n := 8 + len(payload)
	b := make([]byte, 40+n)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(n))
	b[6], b[7] = unix.IPPROTO_UDP, 64
	s, d := src.Addr().As16(), dst.Addr().As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	u := b[40:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(n))
	copy(u[8:], payload)
	// RFC 8200 8.1: the pseudo-header is both addresses, the upper-layer
	// length and the next header.
	var sum uint32
	add := func(p []byte) {
		for i := 0; i+1 < len(p); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(p[i:]))
		}
		if len(p)%2 == 1 {
			sum += uint32(p[len(p)-1]) << 8
		}
	}
	add(b[8:40])
	sum += uint32(n) + unix.IPPROTO_UDP
	add(u)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return b
}

func ipv6HdrInclScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipv6/raw-hdrincl", Run: func(e *harness.Env) {
			u := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			e.GetInt("UDP IPV6_HDRINCL", u, unix.SOL_IPV6, ipv6HdrIncl)
			e.SetInt("UDP IPV6_HDRINCL 1", u, unix.SOL_IPV6, ipv6HdrIncl, 1)

			rx := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_DGRAM, 0)
			to := netip.AddrPortFrom(v6Loopback, uint16(e.BasePort))
			e.Check("receiver bind", rx.Bind(sa6(to.Addr(), int(to.Port()))))
			from := netip.AddrPortFrom(v6Loopback, 4242)

			r := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.GetInt("IPV6_HDRINCL default", r, unix.SOL_IPV6, ipv6HdrIncl)
			e.GetInt("SOL_RAW IPV6_HDRINCL default", r, unix.SOL_RAW, ipv6HdrIncl)
			e.Rec("IPV6_HDRINCL short", r.SetSockOpt(unix.SOL_IPV6, ipv6HdrIncl, []byte{1, 0}))
			e.SetInt("IPV6_HDRINCL 7", r, unix.SOL_IPV6, ipv6HdrIncl, 7)
			e.GetInt("IPV6_HDRINCL", r, unix.SOL_IPV6, ipv6HdrIncl)
			e.GetInt("SOL_RAW IPV6_HDRINCL", r, unix.SOL_RAW, ipv6HdrIncl)
			n, err := r.SendMsg(udp6Packet(from, to, "header included"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send", n, err)
			v6Recv(e, "received", rx, 0)
			n, err = r.SendMsg(udp6Packet(from, to, "to ::"), nil, sa6(netip.IPv6Unspecified(), unix.IPPROTO_UDP), 0)
			e.Rec("send to :: (port 17)", n, err)
			v6Recv(e, "received", rx, 0)
			n, err = r.SendMsg(udp6Packet(from, to, "x")[:39], nil, sa6(v6Loopback, 0), 0)
			e.Rec("send 39 bytes", n, err)
			n, err = r.SendMsg(udp6Packet(from, to, "other port"), nil, sa6(v6Loopback, unix.IPPROTO_TCP), 0)
			e.Rec("send with port 6", n, err)
			n, err = r.SendMsg(udp6Packet(from, to, "unconnected"), nil, nil, 0)
			e.Rec("send without address", n, err)
			e.SetInt("IPV6_RECVERR", r, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
			n, err = r.SendMsg(make([]byte, 65537), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send 65537 bytes", n, err)
			recvErr6(e, "errqueue", r, 2*time.Second)

			a := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
			e.GetInt("IPPROTO_RAW IPV6_HDRINCL", a, unix.SOL_IPV6, ipv6HdrIncl)
			n, err = a.SendMsg(udp6Packet(from, to, "IPPROTO_RAW"), nil, sa6(v6Loopback, unix.IPPROTO_UDP), 0)
			e.Rec("IPPROTO_RAW send (port 17)", n, err)
			v6Recv(e, "received", rx, 0)
			n, err = a.SendMsg(udp6Packet(from, to, "port 300"), nil, sa6(v6Loopback, 300), 0)
			e.Rec("IPPROTO_RAW send (port 300)", n, err)
			r2, err := a.Poll(unix.EPOLLIN, 100*time.Millisecond)
			e.Rec("IPPROTO_RAW socket receives nothing", r2, err)
			// Without IPV6_HDRINCL the socket writes the header, next
			// header 255.
			e.SetInt("IPPROTO_RAW IPV6_HDRINCL 0", a, unix.SOL_IPV6, ipv6HdrIncl, 0)
			n, err = a.SendMsg([]byte("no header"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("IPPROTO_RAW send without header", n, err)
		}},
		{Name: "ipv6/raw-ipproto-raw-receive", Run: func(e *harness.Env) {
			// Linux hands a packet of next header 255 to the IPPROTO_RAW
			// sockets (raw6_local_deliver matches the protocol).
			a := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
			e.SetInt("IPV6_HDRINCL 0", a, unix.SOL_IPV6, ipv6HdrIncl, 0)
			n, err := a.SendMsg([]byte("no header"), nil, sa6(v6Loopback, 0), 0)
			e.Rec("send without header", n, err)
			r, err := a.Poll(unix.EPOLLIN, 200*time.Millisecond)
			e.Rec("poll", r, err)
			buf := make([]byte, 64)
			n, _, _, from, err := a.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("recv", n, err, e.SA(from), buf[:max(n, 0)])
		}},
	}
}
