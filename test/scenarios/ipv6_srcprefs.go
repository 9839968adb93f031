package scenarios

import (
	"fmt"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// ipv6SrcPrefsScenarios pin IPV6_ADDR_PREFERENCES (RFC 5014) on the
// AF_INET6 kinds: __ip6_sock_set_addr_preferences's conflicts, which bits
// a value keeps, what getsockopt reads back, and that a socket on ::1
// still takes ::1 as its source under each preference.
func ipv6SrcPrefsScenarios() []harness.Scenario {
	const (
		tmp, public, coa, cga, pubtmpDefault, home, noncga = 0x1, 0x2, 0x4, 0x8, 0x100, 0x400, 0x800
	)
	values := []int32{
		0, tmp, public, pubtmpDefault, tmp | public, tmp | pubtmpDefault, public | pubtmpDefault,
		coa, home, coa | home, cga, noncga, cga | noncga, tmp | coa | cga, public | home | noncga,
		0x10, 0x200, -1,
	}
	kinds := []struct {
		name       string
		typ, proto int
	}{
		{"udp6", unix.SOCK_DGRAM, 0},
		{"tcp6", unix.SOCK_STREAM, 0},
		{"raw6", unix.SOCK_RAW, unix.IPPROTO_ICMPV6},
	}
	var scs []harness.Scenario
	for _, k := range kinds {
		scs = append(scs, harness.Scenario{Name: "ipv6/addr-preferences-" + k.name, Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
			e.GetInt("default", s, unix.SOL_IPV6, unix.IPV6_ADDR_PREFERENCES)
			e.Rec("short", s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_ADDR_PREFERENCES, []byte{1, 0}))
			for _, v := range values {
				e.Rec(fmt.Sprintf("set %#x", v), s.SetSockOpt(unix.SOL_IPV6, unix.IPV6_ADDR_PREFERENCES, harness.Int32(v)))
				e.GetInt("get", s, unix.SOL_IPV6, unix.IPV6_ADDR_PREFERENCES)
			}
			if k.typ != unix.SOCK_DGRAM {
				return
			}
			// The source a connect takes on ::1, under each preference.
			for i, v := range []int32{tmp, public, coa | cga} {
				c := e.Socket(e.DUT, unix.AF_INET6, k.typ, k.proto)
				e.SetInt(fmt.Sprintf("set %#x", v), c, unix.SOL_IPV6, unix.IPV6_ADDR_PREFERENCES, v)
				e.Rec("connect ::1", c.Connect(sa6(v6Loopback, e.BasePort+i)))
				recNameAddr(e, "getsockname", c)
			}
		}})
	}
	return scs
}
