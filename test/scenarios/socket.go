package scenarios

import (
	"fmt"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// socketIdentity records SO_TYPE, SO_PROTOCOL and SO_DOMAIN of s.
func socketIdentity(e *harness.Env, s harness.Sock) {
	e.GetInt("SO_TYPE", s, unix.SOL_SOCKET, unix.SO_TYPE)
	e.GetInt("SO_PROTOCOL", s, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	e.GetInt("SO_DOMAIN", s, unix.SOL_SOCKET, unix.SO_DOMAIN)
}

// trySocket records socket(2)'s result and, on success, its identity.
func trySocket(e *harness.Env, domain, typ, proto int) {
	s, err := e.DUT.Socket(domain, typ, proto)
	e.Rec(fmt.Sprintf("socket(%d,%#x,%d)", domain, typ, proto), err)
	if err == nil {
		socketIdentity(e, s)
	}
}

func socketScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "socket/udp-default-protocol", Run: func(e *harness.Env) {
			trySocket(e, unix.AF_INET, unix.SOCK_DGRAM, 0)
			trySocket(e, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
		}},
		{Name: "socket/tcp-default-protocol", Run: func(e *harness.Env) {
			trySocket(e, unix.AF_INET, unix.SOCK_STREAM, 0)
			trySocket(e, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP)
		}},
		{Name: "socket/mismatched-protocol", Run: func(e *harness.Env) {
			trySocket(e, unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_TCP)
			trySocket(e, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP)
			trySocket(e, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_ICMP)
		}},
		{Name: "socket/bad-protocol-numbers", Run: func(e *harness.Env) {
			for _, p := range []int{-1, 255, 256, 1000} {
				trySocket(e, unix.AF_INET, unix.SOCK_DGRAM, p)
				trySocket(e, unix.AF_INET, unix.SOCK_STREAM, p)
			}
		}},
		// SOCK_PACKET is left out: Linux turns AF_INET+SOCK_PACKET into a
		// packet socket, another family.
		{Name: "socket/types", Run: func(e *harness.Env) {
			for _, t := range []int{0, unix.SOCK_RDM, unix.SOCK_SEQPACKET, 6, 11, 15} {
				trySocket(e, unix.AF_INET, t, 0)
			}
		}},
		{Name: "socket/nonblock-cloexec", Run: func(e *harness.Env) {
			s, err := e.DUT.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			e.Check("socket", err)
			socketIdentity(e, s)
			// Non-blocking: an empty receive queue gives EAGAIN at once.
			_, _, _, _, err = s.RecvMsg(make([]byte, 8), nil, 0)
			e.Rec("recv", err)
		}},
		{Name: "socket/stream-nonblock-accept", Run: func(e *harness.Env) {
			s, err := e.DUT.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
			e.Check("socket", err)
			e.Rec("listen", s.Listen(4))
			_, _, err = s.Accept(0)
			e.Rec("accept", err)
		}},
		{Name: "socket/bad-type-flags", Run: func(e *harness.Env) {
			for _, f := range []int{0x100, 0x1000, 0x40000000, unix.SOCK_NONBLOCK << 1} {
				trySocket(e, unix.AF_INET, unix.SOCK_DGRAM|f, 0)
			}
		}},
		{Name: "socket/bad-family", Run: func(e *harness.Env) {
			trySocket(e, 1000, unix.SOCK_DGRAM, 0)
			trySocket(e, -1, unix.SOCK_DGRAM, 0)
			trySocket(e, unix.AF_MAX, unix.SOCK_STREAM, 0)
		}},
		{Name: "socket/raw-needs-protocol", Run: func(e *harness.Env) {
			trySocket(e, unix.AF_INET, unix.SOCK_RAW, 0)
			trySocket(e, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
			trySocket(e, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
			trySocket(e, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		}},
	}
}
