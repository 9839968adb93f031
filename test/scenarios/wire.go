package scenarios

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ipHeader is what the peer saw of a packet's IPv4 header. The IP ID is
// reduced to zero/non-zero: Linux picks it at random unless it must be 0.
func ipHeader(b []byte) string {
	if len(b) < 20 {
		return fmt.Sprintf("short[%x]", b)
	}
	ihl := int(b[0]&0xf) * 4
	if ihl < 20 || ihl > len(b) {
		return fmt.Sprintf("badihl[%x]", b)
	}
	flags := binary.BigEndian.Uint16(b[6:8])
	return fmt.Sprintf("v=%d ihl=%d tos=%#x len=%d id0=%v df=%v mf=%v off=%d ttl=%d proto=%d src=%d.%d.%d.%d dst=%d.%d.%d.%d opts=%x csumok=%v",
		b[0]>>4, ihl, b[1], binary.BigEndian.Uint16(b[2:4]), binary.BigEndian.Uint16(b[4:6]) == 0,
		flags&0x4000 != 0, flags&0x2000 != 0, flags&0x1fff, b[8], b[9],
		b[12], b[13], b[14], b[15], b[16], b[17], b[18], b[19], b[20:ihl], checksum(b[:ihl]) == 0)
}

// checksum is the Internet checksum of b (0 when b carries a valid one).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// peerTap opens a raw socket on the peer that sees every inbound packet of
// proto with its IP header.
func peerTap(e *harness.Env, proto int) harness.Sock {
	return e.Socket(e.Peer, unix.AF_INET, unix.SOCK_RAW, proto)
}

// capture reads the tap (bounded) until a packet whose transport
// destination port is port arrives, and records its IP header and the
// transport header's length.
func capture(e *harness.Env, op string, tap harness.Sock, port int) {
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for i := 0; i < 32 && time.Now().Before(deadline); i++ {
		harness.WaitReadable(tap, time.Until(deadline))
		n, _, _, _, err := tap.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if n < ihl+4 || int(binary.BigEndian.Uint16(p[ihl+2:])) != port {
			continue
		}
		e.Rec(op, ipHeader(p))
		return
	}
	e.Rec(op, "nothing captured")
}

func wireScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "wire/udp-default-header", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			send(e, "send", s, []byte("hdr"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			capture(e, "peer saw", tap, e.BasePort)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			send(e, "send connected", s, []byte("hdr"), nil, 0)
			capture(e, "peer saw", tap, e.BasePort)
		}},
		{Name: "wire/udp-pmtudisc-modes", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			for _, mode := range []int32{unix.IP_PMTUDISC_DONT, unix.IP_PMTUDISC_WANT, unix.IP_PMTUDISC_DO, unix.IP_PMTUDISC_PROBE, unix.IP_PMTUDISC_INTERFACE, unix.IP_PMTUDISC_OMIT, 6, -1} {
				if e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", mode), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, mode) != nil {
					continue
				}
				send(e, "send", s, []byte("df?"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
				capture(e, "peer saw", tap, e.BasePort)
			}
			e.SetInt("IP_MTU_DISCOVER do", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
			send(e, "send 1473 with DF", s, make([]byte, 1473), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			send(e, "send 1472 with DF", s, make([]byte, 1472), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			capture(e, "peer saw", tap, e.BasePort)
		}},
		{Name: "wire/udp-ttl-tos-header", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			e.SetInt("IP_TTL", s, unix.IPPROTO_IP, unix.IP_TTL, 3)
			e.SetInt("IP_TOS", s, unix.IPPROTO_IP, unix.IP_TOS, 0xb8)
			send(e, "send", s, []byte("ttl"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			capture(e, "peer saw", tap, e.BasePort)
		}},
		{Name: "wire/ip-options", Run: func(e *harness.Env) {
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := dutUDP(e, 0)
			get := func() {
				buf := make([]byte, 48)
				n, err := s.GetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, buf)
				e.Rec("get IP_OPTIONS", err, n, buf[:min(max(n, 0), len(buf))])
			}
			for _, opts := range [][]byte{
				{1, 1, 1},                // NOPs, padded to 4
				{1, 0, 0, 0},             // NOP then end
				{7, 7, 4, 0, 0, 0, 0, 0}, // record route, one slot
				{0x94, 4, 0, 0},          // router alert
				{7, 2},                   // record route with a bad length
				make([]byte, 41),         // longer than 40
			} {
				err := s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, opts)
				e.Rec(fmt.Sprintf("set IP_OPTIONS %x", opts), err)
				get()
				if err == nil {
					send(e, "send", s, []byte("opt"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
					capture(e, "peer saw", tap, e.BasePort)
				}
			}
			e.Rec("clear IP_OPTIONS", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, nil))
			get()
		}},
		{Name: "wire/raw-hdrincl-to-peer", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("peer IP_RECVTOS", p, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			tap := peerTap(e, unix.IPPROTO_UDP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			payload := []byte("handmade")
			pkt := make([]byte, 28+len(payload))
			pkt[0], pkt[1], pkt[8], pkt[9] = 0x45, 0x04, 7, unix.IPPROTO_UDP
			binary.BigEndian.PutUint16(pkt[4:], 0x1234) // id kept as given
			src, dst := e.DUTAddr.As4(), e.PeerAddr.As4()
			copy(pkt[12:], src[:])
			copy(pkt[16:], dst[:])
			binary.BigEndian.PutUint16(pkt[20:], uint16(e.BasePort+1))
			binary.BigEndian.PutUint16(pkt[22:], uint16(e.BasePort))
			binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(payload)))
			copy(pkt[28:], payload) // UDP checksum 0: none
			send(e, "send", s, pkt, harness.Sockaddr(e.PeerAddr, 0), 0)
			capture(e, "peer saw", tap, e.BasePort)
			peerRecvCmsgs(e, "peer recv", p)
			send(e, "send short", s, pkt[:10], harness.Sockaddr(e.PeerAddr, 0), 0)
		}},
		{Name: "wire/tcp-syn-header", Run: func(e *harness.Env) {
			l := peerListener(e, e.BasePort)
			_ = l
			tap := peerTap(e, unix.IPPROTO_TCP)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			e.SetInt("IP_TTL", s, unix.IPPROTO_IP, unix.IP_TTL, 9)
			e.SetInt("IP_TOS", s, unix.IPPROTO_IP, unix.IP_TOS, 0x13)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, e.BasePort)))
			capture(e, "peer saw SYN", tap, e.BasePort)
		}},
		{Name: "wire/tcp6-mapped-pmtudisc", Run: func(e *harness.Env) {
			// An AF_INET6 socket's IPv4 connection takes IP_MTU_DISCOVER's
			// DF (inet->pmtudisc), not IPV6_MTU_DISCOVER's.
			tap := peerTap(e, unix.IPPROTO_TCP)
			for i, m := range []struct{ ip, ip6 int32 }{
				{unix.IP_PMTUDISC_DONT, unix.IPV6_PMTUDISC_DO},
				{unix.IP_PMTUDISC_DO, unix.IPV6_PMTUDISC_DONT},
			} {
				port := e.BasePort + i
				peerListener(e, port)
				s := e.Socket(e.DUT, unix.AF_INET6, unix.SOCK_STREAM, 0)
				e.SetInt(fmt.Sprintf("IP_MTU_DISCOVER %d", m.ip), s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, m.ip)
				e.SetInt(fmt.Sprintf("IPV6_MTU_DISCOVER %d", m.ip6), s, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, m.ip6)
				e.GetInt("IP_MTU_DISCOVER", s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER)
				mapped := netip.AddrFrom16(e.PeerAddr.As16())
				e.Rec("connect v4-mapped", s.Connect(harness.Sockaddr6(mapped, port, 0)))
				capture(e, "peer saw SYN", tap, port)
			}
		}},
		{Name: "wire/ip-mtu", Run: func(e *harness.Env) {
			for _, dst := range []struct {
				op   string
				addr []byte
			}{{"peer", harness.Sockaddr(e.PeerAddr, e.BasePort)}, {"loopback", harness.Sockaddr(loopback, e.BasePort)}} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				e.GetInt("IP_MTU unconnected", s, unix.IPPROTO_IP, unix.IP_MTU)
				e.Rec("connect "+dst.op, s.Connect(dst.addr))
				e.GetInt("IP_MTU", s, unix.IPPROTO_IP, unix.IP_MTU)
				e.Rec("set IP_MTU", s.SetSockOpt(unix.IPPROTO_IP, unix.IP_MTU, harness.Int32(1000)))
			}
		}},
	}
}
