package scenarios

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// echoRequest builds an ICMP echo request with a valid checksum.
func echoRequest(id, seq uint16, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	b[0] = 8
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], payload)
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
	binary.BigEndian.PutUint16(b[2:], ^uint16(sum))
	return b
}

const pingGroupRange = "net.ipv4.ping_group_range"

func rawScenarios() []harness.Scenario {
	return append([]harness.Scenario{
		{Name: "raw/hdrincl-defaults", Run: func(e *harness.Env) {
			for _, p := range []int{unix.IPPROTO_RAW, unix.IPPROTO_ICMP, unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, p)
				e.GetInt("IP_HDRINCL", s, unix.IPPROTO_IP, unix.IP_HDRINCL)
				socketIdentity(e, s)
				recName(e, "getsockname", s)
			}
		}},
		{Name: "raw/icmp-echo-to-peer", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			req := echoRequest(0x4242, 1, []byte("raw ping"))
			send(e, "sendto peer", s, req, harness.Sockaddr(e.PeerAddr, 0), 0)
			// The raw socket sees every ICMP packet; find the reply.
			deadline := time.Now().Add(2 * time.Second)
			for i := 0; i < 8 && time.Now().Before(deadline); i++ {
				harness.WaitReadable(s, time.Until(deadline))
				buf := make([]byte, 256)
				n, _, _, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv", err)
					break
				}
				if n < 28 || buf[20] != 0 {
					continue
				}
				ihl := int(buf[0]&0xf) * 4
				e.Rec("reply", n, e.SA(from), "ihl", ihl, "proto", buf[9], "src", buf[12:16], "dst", buf[16:20], "icmp", buf[ihl:ihl+2], buf[ihl+4:n])
				break
			}
		}},
		{Name: "ping/without-group-range", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "1 0"))
			_, err := e.DUT.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("socket ping", err)
		}},
		{Name: "ping/with-group-range", Run: func(e *harness.Env) {
			e.Check("set ping_group_range", e.SetSysctl(e.DUT, pingGroupRange, "0 0"))
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			socketIdentity(e, s)
			e.Rec("connect", s.Connect(harness.Sockaddr(e.PeerAddr, 0)))
			// A ping socket's "port" is its ICMP identifier, chosen at
			// random outside ip_local_port_range: record only that it is set.
			sa, err := s.GetSockName()
			e.Rec("getsockname", err, len(sa), len(sa) >= 4 && (sa[2] != 0 || sa[3] != 0), sa[4:8])
			send(e, "send echo", s, echoRequest(0, 7, []byte("dgram ping")), nil, 0)
			harness.WaitReadable(s, 2*time.Second)
			buf := make([]byte, 64)
			n, _, fl, from, err := s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err != nil || n < 8 {
				e.Rec("recv", err, n)
				return
			}
			// Bytes 4-5 carry the socket's identifier (its local port).
			e.Rec("recv", n, fl, e.SA(from), "type/code", buf[:2], "seq", buf[6:8], "data", buf[8:n])
			_, err = e.DUT.Socket(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
			e.Rec("socket again", err)
		}},
		{Name: "ping/group-range-sysctl", Run: func(e *harness.Env) {
			v, err := e.DUT.GetSysctl(pingGroupRange)
			e.Rec("get default", err, v)
			for _, val := range []string{"0 0", "0 2147483647", "5 1", "0 4294967295", "x y"} {
				err := e.SetSysctl(e.DUT, pingGroupRange, val)
				v, gerr := e.DUT.GetSysctl(pingGroupRange)
				e.Rec("set "+val, err != nil, gerr, v)
			}
		}},
	}, pingIdentScenarios()...) // ping_ident.go
}

// rawReceiveFilterScenarios pin which datagrams a raw socket receives.
func rawReceiveFilterScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "raw/receive-filtering", Run: func(e *harness.Env) {
			raw := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			bound := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.Rec("bind raw to loopback", bound.Bind(harness.Sockaddr(loopback, 0)))
			u := dutUDP(e, e.BasePort)
			p := peerUDP(e, e.BasePort+1)
			send(e, "peer send", p, []byte("seen raw"), harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			e.RecvDgram("udp recv", u, 64, 0)
			harness.WaitReadable(raw, time.Second)
			buf := make([]byte, 128)
			n, _, _, from, err := raw.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			if err == nil && n >= 28 {
				e.Rec("raw recv", n, e.SA(from), ipHeader(buf[:n]), buf[20:28], buf[28:n])
			} else {
				e.Rec("raw recv", err, n)
			}
			_, _, _, _, err = bound.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
			e.Rec("raw bound elsewhere", err)
			icmpF := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			fbuf := make([]byte, 4)
			n, err = icmpF.GetSockOpt(unix.SOL_RAW, 1, fbuf) // ICMP_FILTER
			e.Rec("get ICMP_FILTER", err, n, fbuf)
			e.Rec("set ICMP_FILTER", icmpF.SetSockOpt(unix.SOL_RAW, 1, []byte{0xff, 0xff, 0xff, 0xfe}))
			n, err = icmpF.GetSockOpt(unix.SOL_RAW, 1, fbuf)
			e.Rec("get ICMP_FILTER", err, n, fbuf)
			e.Rec("ICMP_FILTER on udp raw", raw.SetSockOpt(unix.SOL_RAW, 1, fbuf))
		}},
	}
}
