package scenarios

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// cmsgInt builds one control message carrying a native int.
func cmsgInt(level, typ int, v int32) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	// struct cmsghdr on 64-bit Linux: size_t len, int level, int type.
	binary.NativeEndian.PutUint64(b, uint64(unix.CmsgLen(4)))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(v))
	return b
}

// peerRecvCmsgs waits for a datagram on p and records payload and cmsgs.
func peerRecvCmsgs(e *harness.Env, op string, p harness.Sock) {
	harness.WaitReadable(p, 2*time.Second)
	buf, oob := make([]byte, 64), make([]byte, 256)
	n, oobn, fl, from, err := p.RecvMsg(buf, oob, unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, n, fl, e.SA(from), buf[:n], harness.Cmsgs(oob[:oobn]))
}

func cmsgScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/send-ttl-tos", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			e.SetInt("peer IP_RECVTTL", p, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("peer IP_RECVTOS", p, unix.IPPROTO_IP, unix.IP_RECVTOS, 1)
			s := dutUDP(e, 0)
			to := harness.Sockaddr(e.PeerAddr, e.BasePort)
			for _, tc := range []struct {
				op  string
				oob []byte
			}{
				{"IP_TTL 9", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 9)},
				{"IP_TTL 0", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 0)},
				{"IP_TTL 256", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 256)},
				{"IP_TOS 0x20 int", cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x20)},
				{"both", append(cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 12), cmsgInt(unix.IPPROTO_IP, unix.IP_TOS, 0x08)...)},
				{"unknown IP cmsg", cmsgInt(unix.IPPROTO_IP, 9999, 1)},
				{"SOL_SOCKET unknown", cmsgInt(unix.SOL_SOCKET, 9999, 1)},
				{"truncated header", cmsgInt(unix.IPPROTO_IP, unix.IP_TTL, 9)[:8]},
			} {
				n, err := s.SendMsg([]byte(tc.op), tc.oob, to, 0)
				e.Rec("send "+tc.op, err, n)
				if err == nil {
					peerRecvCmsgs(e, "peer recv", p)
				}
			}
		}},
		{Name: "cmsg/recv-pktinfo", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			send(e, "peer send", p, []byte("pi"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			peerRecvCmsgs(e, "recv", s)
			send(e, "self via loopback", s, []byte("lo"), harness.Sockaddr(loopback, e.BasePort+1), 0)
			peerRecvCmsgs(e, "recv", s)
		}},
		{Name: "cmsg/recv-ctrunc", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVTTL", s, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			e.SetInt("IP_PKTINFO", s, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, l := range []int{0, 8, 16, 20, 24, 40} {
				send(e, "peer send", p, []byte("c"), to, 0)
				harness.WaitReadable(s, 2*time.Second)
				oob := make([]byte, l)
				n, oobn, fl, _, err := s.RecvMsg(make([]byte, 8), oob, unix.MSG_DONTWAIT)
				e.Rec("recv oob", l, err, n, oobn, fl, oob[:min(oobn, l)])
			}
		}},
		{Name: "cmsg/so-timestamp", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			e.GetInt("get SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP)
			send(e, "peer send", p, []byte("t"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			peerRecvCmsgs(e, "recv", s)
			e.SetInt("SO_TIMESTAMPNS", s, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
			send(e, "peer send", p, []byte("n"), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			peerRecvCmsgs(e, "recv", s)
		}},
	}
}
