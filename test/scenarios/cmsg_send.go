package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// cmsgSendScenarios: sendmsg control messages and per-packet options on raw, ping and TCP sockets, and IP_RECVFRAGSIZE.
func cmsgSendScenarios() []harness.Scenario {
	s := recvFragsizeScenarios()
	s = append(s, rawPingSendCmsgScenarios()...)
	return s
}

// fragSizes are datagram payloads around the peer's 1500-byte link MTU:
// one that fits, the largest that fits (1472 + 8 + 20), and ones that the
// peer splits into fragments of various last sizes.
var fragSizes = []int{64, 1472, 1473, 3000, 5000}

// recvRaw reads one packet from a raw socket with a read buffer of n bytes
// and records the length, flags and control messages.
func recvRaw(e *harness.Env, op string, s harness.Sock, n, flags int) {
	harness.WaitReadable(s, 2*time.Second)
	buf, oob := make([]byte, n), make([]byte, 256)
	m, oobn, fl, from, err := s.RecvMsg(buf, oob, flags|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, m, e.SA(from), fl, harness.Cmsgs(oob[:oobn]))
}

func recvFragsizeScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "cmsg/recvfragsize-udp-peer", Run: func(e *harness.Env) {
			// The peer fragments at its 1500-byte MTU: only the datagrams
			// that came in pieces carry the largest piece's IP length.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range fragSizes {
				send(e, "peer send", p, make([]byte, n), to, 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
		}},
		{Name: "cmsg/recvfragsize-udp-far", Run: func(e *harness.Env) {
			// From behind the 1280-MTU link: the far host's fragments
			// pass the peer unchanged.
			f := farUDP(e, 0, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range []int{1000, 1252, 1253, 2000, 4000} {
				send(e, "far send", f, make([]byte, n), to, 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
			e.SetInt("far IP_MTU_DISCOVER DONT", f, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
			send(e, "far send DONT", f, make([]byte, 3000), to, 0)
			recvWithOOB(e, "recv", s, 64, 0)
		}},
		{Name: "cmsg/recvfragsize-order", Run: func(e *harness.Env) {
			// IP_RECVFRAGSIZE comes last of ip_cmsg_recv_offset's messages.
			p := peerUDP(e, e.BasePort)
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Check("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
			for _, o := range []struct {
				label string
				name  int
			}{{"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS},
				{"IP_RECVORIGDSTADDR", unix.IP_RECVORIGDSTADDR}, {"IP_RECVFRAGSIZE", unix.IP_RECVFRAGSIZE}} {
				e.SetInt(o.label, s, unix.IPPROTO_IP, o.name, 1)
			}
			e.SetInt("SO_TIMESTAMP", s, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, make([]byte, 2500), to, 0)
			recvWithOOB(e, "recv", s, 512, 0)
			// Room for everything but the last message: MSG_CTRUNC.
			send(e, "peer send", p, make([]byte, 2500), to, 0)
			recvWithOOB(e, "recv short oob", s, 120, 0)
		}},
		{Name: "cmsg/recvfragsize-all", Run: func(e *harness.Env) {
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			enableAllRecvCmsgs(e, s)
			send(e, "peer send", p, make([]byte, 4000), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
			recvWithOOB(e, "recv", s, 512, 0)
		}},
		{Name: "cmsg/recvfragsize-late-and-peek", Run: func(e *harness.Env) {
			// frag_max_size is kept with the datagram: the option may be
			// set after it arrived, and a peek reports it too.
			p := peerUDP(e, e.BasePort)
			s := dutUDP(e, e.BasePort+1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			send(e, "peer send", p, make([]byte, 3000), to, 0)
			harness.WaitReadable(s, 2*time.Second)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			recvWithOOB(e, "peek", s, 64, unix.MSG_PEEK)
			recvWithOOB(e, "recv", s, 64, 0)
			e.SetInt("IP_RECVFRAGSIZE 0", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 0)
			send(e, "peer send", p, make([]byte, 3000), to, 0)
			recvWithOOB(e, "recv off", s, 64, 0)
		}},
		{Name: "cmsg/recvfragsize-peer-ipoptions", Run: func(e *harness.Env) {
			// Options change the header length of the first fragment
			// (record route is not copied into the others).
			p := peerUDP(e, e.BasePort)
			e.Rec("peer IP_OPTIONS rr", p.SetSockOpt(unix.IPPROTO_IP, unix.IP_OPTIONS, []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
			s := dutUDP(e, e.BasePort+1)
			e.SetInt("IP_RECVFRAGSIZE", s, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			for _, n := range []int{100, 3000} {
				send(e, "peer send", p, make([]byte, n), harness.Sockaddr(e.DUTAddr, e.BasePort+1), 0)
				recvWithOOB(e, "recv", s, 64, 0)
			}
		}},
		{Name: "cmsg/recvfragsize-raw", Run: func(e *harness.Env) {
			// A raw socket gets the reassembled datagram with the same
			// message, also when its buffer is too short for the header.
			p := peerUDP(e, e.BasePort)
			u := dutUDP(e, e.BasePort+1)
			r := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			e.SetInt("raw IP_RECVFRAGSIZE", r, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
			e.SetInt("raw IP_RECVTTL", r, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
			to := harness.Sockaddr(e.DUTAddr, e.BasePort+1)
			for _, n := range []int{64, 3000} {
				send(e, "peer send", p, make([]byte, n), to, 0)
				recvRaw(e, "raw recv", r, 4096, 0)
				recvWithOOB(e, "udp recv", u, 64, 0)
			}
			send(e, "peer send", p, make([]byte, 2000), to, 0)
			recvRaw(e, "raw peek", r, 8, unix.MSG_PEEK)
			recvRaw(e, "raw recv short", r, 8, 0)
		}},
	}
}

func rawPingSendCmsgScenarios() []harness.Scenario {
	return nil
}
