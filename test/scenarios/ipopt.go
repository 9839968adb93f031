package scenarios

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ipOpt names an IPPROTO_IP integer option and the socket it is probed on.
type ipOpt struct {
	label      string
	name       int
	typ, proto int
}

var ipIntOpts = []ipOpt{
	{"IP_TTL", unix.IP_TTL, unix.SOCK_DGRAM, 0},
	{"IP_TOS", unix.IP_TOS, unix.SOCK_DGRAM, 0},
	{"IP_HDRINCL", unix.IP_HDRINCL, unix.SOCK_RAW, unix.IPPROTO_UDP},
}

func ipOptScenarios() []harness.Scenario {
	var scs []harness.Scenario
	for _, o := range ipIntOpts {
		o := o
		for _, l := range optLens {
			l := l
			scs = append(scs, harness.Scenario{
				Name: fmt.Sprintf("ipopt/%s/set-len-%d", o.label, l),
				Run: func(e *harness.Env) {
					s := e.Socket(e.DUT, unix.AF_INET, o.typ, o.proto)
					for _, v := range optVals {
						err := s.SetSockOpt(unix.IPPROTO_IP, o.name, encode(v, l))
						e.Rec(fmt.Sprintf("set val=%d", v), err)
						e.GetInt("  get", s, unix.IPPROTO_IP, o.name)
					}
				},
			})
		}
		scs = append(scs, harness.Scenario{
			Name: fmt.Sprintf("ipopt/%s/get-lengths", o.label),
			Run: func(e *harness.Env) {
				s := e.Socket(e.DUT, unix.AF_INET, o.typ, o.proto)
				getLens(e, s, "default", unix.IPPROTO_IP, o.name)
				// A value that needs more than a byte where one exists.
				for _, v := range []int32{1, 200} {
					if e.SetInt(fmt.Sprintf("set %d", v), s, unix.IPPROTO_IP, o.name, v) == nil {
						getLens(e, s, fmt.Sprint(v), unix.IPPROTO_IP, o.name)
					}
				}
			},
		})
	}
	scs = append(scs,
		harness.Scenario{Name: "ipopt/IP_TTL/tcp", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			for _, v := range []int32{-1, 0, 1, 64, 255, 256, -2} {
				e.SetInt(fmt.Sprintf("set %d", v), s, unix.IPPROTO_IP, unix.IP_TTL, v)
				e.GetInt("  get", s, unix.IPPROTO_IP, unix.IP_TTL)
			}
		}},
		harness.Scenario{Name: "ipopt/IP_TOS/tcp-ecn-bits", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_STREAM, 0)
			for _, v := range []int32{0x10, 0x13, 0xff, 0x100, -1} {
				e.SetInt(fmt.Sprintf("set %#x", v), s, unix.IPPROTO_IP, unix.IP_TOS, v)
				e.GetInt("  get", s, unix.IPPROTO_IP, unix.IP_TOS)
			}
		}},
		harness.Scenario{Name: "ipopt/IP_HDRINCL/non-raw", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				e.SetInt("set 1", s, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
				e.GetInt("get", s, unix.IPPROTO_IP, unix.IP_HDRINCL)
			}
		}},
		harness.Scenario{Name: "ipopt/recv-flags", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			for _, o := range []struct {
				label string
				name  int
			}{{"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS}, {"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_MULTICAST_TTL", unix.IP_MULTICAST_TTL}, {"IP_MULTICAST_LOOP", unix.IP_MULTICAST_LOOP}} {
				e.GetInt(o.label+" default", s, unix.IPPROTO_IP, o.name)
				for _, v := range []int32{5, -1, 256} {
					e.SetInt(fmt.Sprintf("%s set %d", o.label, v), s, unix.IPPROTO_IP, o.name, v)
					e.GetInt("  get", s, unix.IPPROTO_IP, o.name)
				}
				e.Rec(o.label+" set 1 byte", s.SetSockOpt(unix.IPPROTO_IP, o.name, []byte{0}))
				e.GetInt("  get", s, unix.IPPROTO_IP, o.name)
			}
		}},
	)
	return scs
}

// ipoptMinTTLScenarios pin IP_MINTTL's receive filter.
func ipoptMinTTLScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "ipopt/minttl-filter", Run: func(e *harness.Env) {
			s := dutUDP(e, e.BasePort)
			e.SetInt("IP_MINTTL 64", s, unix.IPPROTO_IP, unix.IP_MINTTL, 64)
			e.SetInt("IP_MINTTL 256", s, unix.IPPROTO_IP, unix.IP_MINTTL, 256)
			e.SetInt("IP_MINTTL -1", s, unix.IPPROTO_IP, unix.IP_MINTTL, -1)
			e.GetInt("get", s, unix.IPPROTO_IP, unix.IP_MINTTL)
			p := peerUDP(e, e.BasePort+1)
			for _, ttl := range []int32{10, 63, 64, 200} {
				e.SetInt(fmt.Sprintf("peer IP_TTL %d", ttl), p, unix.IPPROTO_IP, unix.IP_TTL, ttl)
				send(e, "peer send", p, []byte{byte(ttl)}, harness.Sockaddr(e.DUTAddr, e.BasePort), 0)
			}
			time.Sleep(200 * time.Millisecond)
			for i := 0; i < 5; i++ {
				n, _, _, _, err := s.RecvMsg(make([]byte, 4), nil, unix.MSG_DONTWAIT)
				if err != nil {
					e.Rec("recv", err)
					break
				}
				e.Rec("recv", n)
			}
		}},
	}
}
