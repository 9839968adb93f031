package scenarios

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// namedOpt is an option probed for its default and a simple set/get.
type namedOpt struct {
	name  string
	level int
	opt   int
	set   []byte // value to set; nil = probe only
}

// Options whose values differ per socket or per run (SO_COOKIE,
// SO_INCOMING_CPU, SO_MEMINFO) are left out: they cannot be compared.
var sockDefaults = []namedOpt{
	{"SO_DEBUG", unix.SOL_SOCKET, unix.SO_DEBUG, harness.Int32(1)},
	{"SO_DONTROUTE", unix.SOL_SOCKET, unix.SO_DONTROUTE, harness.Int32(1)},
	{"SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, harness.Int32(1)},
	{"SO_OOBINLINE", unix.SOL_SOCKET, unix.SO_OOBINLINE, harness.Int32(1)},
	{"SO_NO_CHECK", unix.SOL_SOCKET, unix.SO_NO_CHECK, harness.Int32(1)},
	{"SO_PRIORITY", unix.SOL_SOCKET, unix.SO_PRIORITY, harness.Int32(6)},
	{"SO_LINGER", unix.SOL_SOCKET, unix.SO_LINGER, append(harness.Int32(1), harness.Int32(5)...)},
	{"SO_PASSCRED", unix.SOL_SOCKET, unix.SO_PASSCRED, harness.Int32(1)},
	{"SO_RCVLOWAT", unix.SOL_SOCKET, unix.SO_RCVLOWAT, harness.Int32(10)},
	{"SO_SNDLOWAT", unix.SOL_SOCKET, unix.SO_SNDLOWAT, harness.Int32(10)},
	{"SO_RCVTIMEO", unix.SOL_SOCKET, unix.SO_RCVTIMEO_OLD, append(append(harness.Int32(1), harness.Int32(0)...), append(harness.Int32(500000), harness.Int32(0)...)...)},
	{"SO_SNDTIMEO", unix.SOL_SOCKET, unix.SO_SNDTIMEO_OLD, append(append(harness.Int32(2), harness.Int32(0)...), append(harness.Int32(0), harness.Int32(0)...)...)},
	{"SO_MARK", unix.SOL_SOCKET, unix.SO_MARK, harness.Int32(7)},
	{"SO_PEEK_OFF", unix.SOL_SOCKET, unix.SO_PEEK_OFF, harness.Int32(0)},
	{"SO_BINDTOIFINDEX", unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX, harness.Int32(2)},
	{"SO_TIMESTAMP", unix.SOL_SOCKET, unix.SO_TIMESTAMP, harness.Int32(1)},
	{"SO_TIMESTAMPNS", unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, harness.Int32(1)},
	{"SO_RXQ_OVFL", unix.SOL_SOCKET, unix.SO_RXQ_OVFL, harness.Int32(1)},
}

var ipDefaults = []namedOpt{
	{"IP_OPTIONS", unix.IPPROTO_IP, unix.IP_OPTIONS, nil},
	{"IP_RECVOPTS", unix.IPPROTO_IP, unix.IP_RECVOPTS, harness.Int32(1)},
	{"IP_RETOPTS", unix.IPPROTO_IP, unix.IP_RETOPTS, harness.Int32(1)},
	{"IP_PKTINFO", unix.IPPROTO_IP, unix.IP_PKTINFO, harness.Int32(1)},
	{"IP_MTU_DISCOVER", unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, harness.Int32(unix.IP_PMTUDISC_DONT)},
	{"IP_RECVERR", unix.IPPROTO_IP, unix.IP_RECVERR, harness.Int32(1)},
	{"IP_MTU", unix.IPPROTO_IP, unix.IP_MTU, nil},
	{"IP_FREEBIND", unix.IPPROTO_IP, unix.IP_FREEBIND, harness.Int32(1)},
	{"IP_PASSSEC", unix.IPPROTO_IP, unix.IP_PASSSEC, harness.Int32(1)},
	{"IP_TRANSPARENT", unix.IPPROTO_IP, unix.IP_TRANSPARENT, harness.Int32(1)},
	{"IP_RECVORIGDSTADDR", unix.IPPROTO_IP, unix.IP_RECVORIGDSTADDR, harness.Int32(1)},
	{"IP_MINTTL", unix.IPPROTO_IP, unix.IP_MINTTL, harness.Int32(10)},
	{"IP_NODEFRAG", unix.IPPROTO_IP, unix.IP_NODEFRAG, harness.Int32(1)},
	{"IP_CHECKSUM", unix.IPPROTO_IP, unix.IP_CHECKSUM, harness.Int32(1)},
	{"IP_BIND_ADDRESS_NO_PORT", unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, harness.Int32(1)},
	{"IP_RECVFRAGSIZE", unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, harness.Int32(1)},
	{"IP_MULTICAST_IF", unix.IPPROTO_IP, unix.IP_MULTICAST_IF, nil},
	{"IP_MULTICAST_TTL", unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, harness.Int32(3)},
	{"IP_MULTICAST_LOOP", unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, harness.Int32(0)},
	{"IP_MULTICAST_ALL", unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, harness.Int32(0)},
	{"IP_ROUTER_ALERT", unix.IPPROTO_IP, unix.IP_ROUTER_ALERT, harness.Int32(1)},
	{"IP_LOCAL_PORT_RANGE", unix.IPPROTO_IP, unix.IP_LOCAL_PORT_RANGE, portRange(40000, 41000)},
}

// probeOpt records an option's default (16-byte buffer) on UDP and TCP
// sockets, then sets it and reads it back.
func probeOpt(e *harness.Env, o namedOpt) {
	get := func(op string, s harness.Sock) {
		buf := make([]byte, 16)
		n, err := s.GetSockOpt(o.level, o.opt, buf)
		e.Rec(op, err, n, buf[:min(max(n, 0), len(buf))])
	}
	for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
		s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
		get("default", s)
		if o.set != nil {
			e.Rec(fmt.Sprintf("set %x", o.set), s.SetSockOpt(o.level, o.opt, o.set))
			get("get", s)
		}
	}
}

func defaultScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, group := range []struct {
		prefix string
		opts   []namedOpt
	}{{"sockopt/default/", sockDefaults}, {"ipopt/default/", ipDefaults}} {
		for _, o := range group.opts {
			o := o
			scs = append(scs, harness.Scenario{Name: group.prefix + o.name, Run: func(e *harness.Env) { probeOpt(e, o) }})
		}
	}
	return append(scs, defaultsSweepScenarios()...)
}

// portRange encodes IP_LOCAL_PORT_RANGE's u32: low port in the low half.
func portRange(lo, hi uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, lo|hi<<16)
	return b
}
