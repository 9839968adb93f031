package scenarios

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

var (
	anyAddr   = netip.IPv4Unspecified()
	loopback  = netip.MustParseAddr("127.0.0.1")
	loopback2 = netip.MustParseAddr("127.0.0.2")
	foreign   = netip.MustParseAddr("198.18.0.99") // on-link, owned by nobody
	subnetBC  = netip.MustParseAddr("198.18.0.255")
	limitedBC = netip.MustParseAddr("255.255.255.255")
	mcastAll  = netip.MustParseAddr("224.0.0.1")
	offNet    = netip.MustParseAddr("10.99.0.1") // no route in the namespace
)

// withFamily returns a copy of sa with its family field replaced.
func withFamily(sa []byte, fam uint16) []byte {
	b := append([]byte(nil), sa...)
	binary.NativeEndian.PutUint16(b, fam)
	return b
}

// recName records getsockname of s.
func recName(e *harness.Env, op string, s harness.Sock) {
	sa, err := s.GetSockName()
	e.Rec(op, err, e.SA(sa))
}

// recPeer records getpeername of s.
func recPeer(e *harness.Env, op string, s harness.Sock) {
	sa, err := s.GetPeerName()
	e.Rec(op, err, e.SA(sa))
}

// reuseBind binds two sockets of type typ to the same port after setting
// opt (0 = none) on each as told, recording each step.
func reuseBind(e *harness.Env, typ int, addr netip.Addr, opt int, first, second bool) {
	port := e.BasePort
	for i, set := range []bool{first, second} {
		s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
		if set {
			e.SetInt("setsockopt", s, unix.SOL_SOCKET, opt, 1)
		}
		e.Rec("bind", i, s.Bind(harness.Sockaddr(addr, port)))
	}
}

func bindScenarios() []harness.Scenario {
	udp, tcp := unix.SOCK_DGRAM, unix.SOCK_STREAM
	scs := []harness.Scenario{
		{Name: "bind/addrlen", Run: func(e *harness.Env) {
			sa := harness.Sockaddr(anyAddr, e.BasePort)
			for _, l := range []int{0, 1, 2, 8, 15} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				e.Rec("bind", l, s.Bind(sa[:l]))
			}
			long := append(append([]byte(nil), sa...), make([]byte, 113)...)
			for _, l := range []int{16, 17, 128, 129} {
				s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
				e.Rec("bind", l, s.Bind(long[:l]))
				recName(e, "getsockname", s)
				s.Close()
			}
		}},
		{Name: "bind/family", Run: func(e *harness.Env) {
			for _, tc := range []struct {
				fam  uint16
				addr netip.Addr
			}{
				{unix.AF_INET6, anyAddr}, {unix.AF_UNIX, anyAddr}, {unix.AF_UNSPEC, anyAddr},
				{unix.AF_UNSPEC, harness.DUTAddr}, {unix.AF_UNSPEC, loopback}, {0xffff, anyAddr},
			} {
				for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
					s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
					e.Rec("bind", tc.fam, tc.addr, s.Bind(withFamily(harness.Sockaddr(tc.addr, 0), tc.fam)))
					recName(e, "getsockname", s)
					s.Close()
				}
			}
		}},
		{Name: "bind/address-kinds", Run: func(e *harness.Env) {
			for i, a := range []netip.Addr{anyAddr, harness.DUTAddr, loopback, loopback2, foreign, subnetBC, limitedBC, mcastAll, offNet, harness.PeerAddr} {
				for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
					s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
					e.Rec("bind", a, typ, s.Bind(harness.Sockaddr(a, e.BasePort+i)))
					recName(e, "getsockname", s)
					s.Close()
				}
			}
		}},
		{Name: "bind/twice", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				e.Rec("bind", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
				e.Rec("bind again", s.Bind(harness.Sockaddr(anyAddr, e.BasePort+1)))
				e.Rec("bind again same", s.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
				recName(e, "getsockname", s)
				s.Close()
			}
		}},
		{Name: "bind/ephemeral-port", Run: func(e *harness.Env) {
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				recName(e, "getsockname unbound", s)
				e.Rec("bind", s.Bind(harness.Sockaddr(harness.DUTAddr, 0)))
				recName(e, "getsockname", s)
			}
		}},
		{Name: "bind/privileged-port", Run: func(e *harness.Env) {
			// Both hosts run with CAP_NET_BIND_SERVICE.
			for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
				s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
				e.Rec("bind", s.Bind(harness.Sockaddr(anyAddr, 80)))
				recName(e, "getsockname", s)
				s.Close()
			}
		}},
		{Name: "bind/getsockname-buffer", Run: func(e *harness.Env) {
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("bind", s.Bind(harness.Sockaddr(loopback, e.BasePort)))
			recName(e, "getsockname", s)
			recPeer(e, "getpeername", s)
		}},
	}
	for _, tc := range []struct {
		name          string
		typ           int
		addr          netip.Addr
		opt           int
		first, second bool
	}{
		{"bind/udp-in-use", udp, anyAddr, 0, false, false},
		{"bind/udp-in-use-specific-vs-any", udp, harness.DUTAddr, 0, false, false},
		{"bind/udp-reuseaddr-both", udp, anyAddr, unix.SO_REUSEADDR, true, true},
		{"bind/udp-reuseaddr-first-only", udp, anyAddr, unix.SO_REUSEADDR, true, false},
		{"bind/udp-reuseaddr-second-only", udp, anyAddr, unix.SO_REUSEADDR, false, true},
		{"bind/udp-reuseport-both", udp, anyAddr, unix.SO_REUSEPORT, true, true},
		{"bind/udp-reuseport-second-only", udp, harness.DUTAddr, unix.SO_REUSEPORT, false, true},
		{"bind/tcp-in-use", tcp, anyAddr, 0, false, false},
		{"bind/tcp-reuseaddr-both", tcp, harness.DUTAddr, unix.SO_REUSEADDR, true, true},
		{"bind/tcp-reuseport-both", tcp, anyAddr, unix.SO_REUSEPORT, true, true},
	} {
		tc := tc
		scs = append(scs, harness.Scenario{Name: tc.name, Run: func(e *harness.Env) {
			reuseBind(e, tc.typ, tc.addr, tc.opt, tc.first, tc.second)
		}})
	}
	scs = append(scs, harness.Scenario{Name: "bind/udp-specific-then-any", Run: func(e *harness.Env) {
		a := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		e.Rec("bind specific", a.Bind(harness.Sockaddr(loopback, e.BasePort)))
		b := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		e.Rec("bind other specific", b.Bind(harness.Sockaddr(harness.DUTAddr, e.BasePort)))
		c := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
		e.Rec("bind any", c.Bind(harness.Sockaddr(anyAddr, e.BasePort)))
	}})
	return scs
}

// bindFreebindScenarios pin IP_FREEBIND and IP_TRANSPARENT on bind.
func bindFreebindScenarios() []harness.Scenario {
	return []harness.Scenario{
		{Name: "bind/freebind-transparent", Run: func(e *harness.Env) {
			for _, opt := range []struct {
				name string
				opt  int
			}{{"IP_FREEBIND", unix.IP_FREEBIND}, {"IP_TRANSPARENT", unix.IP_TRANSPARENT}} {
				for _, typ := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
					s := e.Socket(e.DUT, unix.AF_INET, typ, 0)
					e.SetInt(opt.name, s, unix.IPPROTO_IP, opt.opt, 1)
					e.Rec("bind foreign", s.Bind(harness.Sockaddr(foreign, e.BasePort)))
					recName(e, "getsockname", s)
					s.Close()
				}
			}
			s := e.Socket(e.DUT, unix.AF_INET, unix.SOCK_DGRAM, 0)
			e.Rec("sysctl ip_nonlocal_bind", e.SetSysctl(e.DUT, "net.ipv4.ip_nonlocal_bind", "1"))
			e.Rec("bind foreign with sysctl", s.Bind(harness.Sockaddr(foreign, e.BasePort+1)))
		}},
	}
}
