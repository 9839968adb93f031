package scenarios

import (
	"fmt"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// optLens are the optlen values every integer option is probed with.
var optLens = []int{0, 1, 2, 3, 4, 5, 8}

// optVals are the values every integer option is set to.
var optVals = []int32{-1, 0, 1, 255, 256}

// encode gives the first l bytes of v as a native int, zero padded past 4.
func encode(v int32, l int) []byte {
	b := append(harness.Int32(v), make([]byte, 4)...)
	return b[:l]
}

// getLens records getsockopt(level, name) with every optlen.
func getLens(e *harness.Env, s harness.Sock, label string, level, name int) {
	for _, l := range optLens {
		buf := make([]byte, l)
		for i := range buf {
			buf[i] = 0xaa // shows which bytes were written
		}
		n, err := s.GetSockOpt(level, name, buf)
		e.Rec(fmt.Sprintf("get %s len=%d", label, l), err, n, buf)
	}
}

// setLens records setsockopt(level, name) for every optlen and value,
// reading the option back after each successful set.
func setLens(e *harness.Env, s harness.Sock, label string, level, name int) {
	for _, l := range optLens {
		for _, v := range optVals {
			err := s.SetSockOpt(level, name, encode(v, l))
			e.Rec(fmt.Sprintf("set %s len=%d val=%d", label, l, v), err)
			if err == nil {
				e.GetInt("  get", s, level, name)
			}
		}
	}
}

// boolOpt probes a SOL_SOCKET boolean option on a socket type.
func boolOpt(e *harness.Env, typ, name int) {
	s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
	e.GetInt("default", s, unix.SOL_SOCKET, name)
	for _, v := range []int32{1, 2, -1, 0} {
		e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_SOCKET, name, v)
		e.GetInt("get", s, unix.SOL_SOCKET, name)
	}
	setLens(e, s, "len", unix.SOL_SOCKET, name)
}

// bufOpt probes SO_RCVBUF/SO_SNDBUF (and the FORCE variants) sizing rules.
func bufOpt(e *harness.Env, typ, set, get int) {
	s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
	e.GetInt("default", s, unix.SOL_SOCKET, get)
	for _, v := range []int32{0, 1, 1000, 2303, 4096, 65536, 100000, 1 << 20, 1 << 30, -1, -100} {
		e.SetInt(fmt.Sprintf("set %d", v), s, unix.SOL_SOCKET, set, v)
		e.GetInt("get", s, unix.SOL_SOCKET, get)
	}
}

func sockOptScenarios() []harness.Scenario {
	udp, tcp := unix.SOCK_DGRAM, unix.SOCK_STREAM
	scs := []harness.Scenario{
		{Name: "sockopt/identity-readonly", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, udp, 0)
			for _, o := range []int{unix.SO_TYPE, unix.SO_PROTOCOL, unix.SO_DOMAIN, unix.SO_ACCEPTCONN, unix.SO_ERROR} {
				e.SetInt(fmt.Sprintf("set %d", o), s, unix.SOL_SOCKET, o, 1)
			}
			getLens(e, s, "SO_TYPE", unix.SOL_SOCKET, unix.SO_TYPE)
			getLens(e, s, "SO_ERROR", unix.SOL_SOCKET, unix.SO_ERROR)
		}},
		{Name: "sockopt/so-error-and-acceptconn", Run: func(e *harness.Env) {
			for _, typ := range []int{udp, tcp} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				e.GetInt("SO_ERROR", s, unix.SOL_SOCKET, unix.SO_ERROR)
				e.GetInt("SO_ACCEPTCONN", s, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
			}
		}},
		{Name: "sockopt/so-broadcast", Run: func(e *harness.Env) { boolOpt(e, udp, unix.SO_BROADCAST) }},
		{Name: "sockopt/so-reuseaddr-udp", Run: func(e *harness.Env) { boolOpt(e, udp, unix.SO_REUSEADDR) }},
		{Name: "sockopt/so-reuseaddr-tcp", Run: func(e *harness.Env) { boolOpt(e, tcp, unix.SO_REUSEADDR) }},
		{Name: "sockopt/so-reuseport", Run: func(e *harness.Env) { boolOpt(e, udp, unix.SO_REUSEPORT) }},
		{Name: "sockopt/so-rcvbuf-udp", Run: func(e *harness.Env) { bufOpt(e, udp, unix.SO_RCVBUF, unix.SO_RCVBUF) }},
		{Name: "sockopt/so-sndbuf-udp", Run: func(e *harness.Env) { bufOpt(e, udp, unix.SO_SNDBUF, unix.SO_SNDBUF) }},
		{Name: "sockopt/so-rcvbuf-tcp", Run: func(e *harness.Env) { bufOpt(e, tcp, unix.SO_RCVBUF, unix.SO_RCVBUF) }},
		{Name: "sockopt/so-sndbuf-tcp", Run: func(e *harness.Env) { bufOpt(e, tcp, unix.SO_SNDBUF, unix.SO_SNDBUF) }},
		{Name: "sockopt/so-rcvbufforce", Run: func(e *harness.Env) { bufOpt(e, udp, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF) }},
		{Name: "sockopt/so-sndbufforce", Run: func(e *harness.Env) { bufOpt(e, udp, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF) }},
		{Name: "sockopt/so-rcvbuf-lengths", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, udp, 0)
			getLens(e, s, "SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF)
			setLens(e, s, "SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF)
		}},
		{Name: "sockopt/so-bindtodevice", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, udp, 0)
			get := func(op string, l int) {
				buf := make([]byte, l)
				n, err := s.GetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, buf)
				e.Rec(op, err, n, buf[:min(max(n, 0), l)])
			}
			get("get unbound", 16)
			for _, dev := range []string{"eth0", "", "nosuchdev", "lo", "eth0\x00junk", "0123456789abcdefXYZ"} {
				e.Rec(fmt.Sprintf("set %q", dev), s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte(dev)))
				get("get", 16)
			}
			e.Rec("set eth0 NUL", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("eth0\x00")))
			get("get len 16", 16)
			get("get len 4", 4)
			get("get len 0", 0)
			e.Rec("set empty", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, nil))
			get("get", 16)
		}},
		{Name: "sockopt/so-bindtodevice-traffic", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, udp, 0)
			e.Rec("bind lo", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("lo")))
			send(e, "sendto peer via lo", s, []byte("x"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			e.Rec("bind eth0", s.SetSockOpt(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte("eth0")))
			p := peerUDP(e, e.BasePort)
			send(e, "sendto peer via eth0", s, []byte("y"), harness.Sockaddr(e.PeerAddr, e.BasePort), 0)
			e.RecvDgram("peer recv", p, 16, 0)
		}},
		{Name: "sockopt/unknown-options", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, udp, 0)
			for _, tc := range [][2]int{{unix.SOL_SOCKET, 9999}, {unix.IPPROTO_IP, 9999}, {unix.IPPROTO_UDP, 9999}, {unix.IPPROTO_TCP, unix.TCP_NODELAY}} {
				e.Rec(fmt.Sprintf("set %d/%d", tc[0], tc[1]), s.SetSockOpt(tc[0], tc[1], harness.Int32(1)))
				n, err := s.GetSockOpt(tc[0], tc[1], make([]byte, 4))
				e.Rec(fmt.Sprintf("get %d/%d", tc[0], tc[1]), err, n)
			}
		}},
	}
	return scs
}
