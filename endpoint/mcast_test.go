package endpoint

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

var lgroup = netip.MustParseAddr("239.7.7.7")

func lmreqn(group netip.Addr, ifindex int32) []byte {
	m := options.IPMreqn{Multiaddr: group, Address: netip.IPv4Unspecified(), IfIndex: ifindex}
	b := m.Encode()
	return b[:]
}

func lmreqSource(group, iface, src string) []byte {
	m := options.IPMreqSource{Multiaddr: netip.MustParseAddr(group), Interface: netip.MustParseAddr(iface), Sourceaddr: netip.MustParseAddr(src)}
	b := m.Encode()
	return b[:]
}

func lmsfilter(group, iface string, mode uint32, srcs ...string) []byte {
	m := options.IPMsfilter{Multiaddr: netip.MustParseAddr(group), Interface: netip.MustParseAddr(iface), Fmode: mode}
	for _, s := range srcs {
		m.Sources = append(m.Sources, netip.MustParseAddr(s))
	}
	return options.AppendIPMsfilter(nil, m, uint32(len(srcs)))
}

// TestMulticastFiltersOnLoopbackMatchKernel joins a group on lo and checks,
// against a kernel in a private namespace, which of two senders' datagrams
// reach a joined and a non-joined socket through a sequence of filter
// changes, and what getsockopt(IP_MSFILTER) reports.
func TestMulticastFiltersOnLoopbackMatchKernel(t *testing.T) {
	s := newStack(t, 0, nil)
	const port = 45321
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		rcv := func(name string) api {
			r := w.sock(unix.SOCK_DGRAM, 0)
			l.add("%s SO_REUSEADDR %s", name, errStr(r.SetSockOpt(unix.SOL_SOCKET, unix.SO_REUSEADDR, intOpt(1))))
			l.add("%s bind %s", name, errStr(r.Bind(sa(fmt.Sprintf("0.0.0.0:%d", port)))))
			return r
		}
		joined, other := rcv("joined"), rcv("other")
		sender := func(src string) api {
			x := w.sock(unix.SOCK_DGRAM, 0)
			l.add("bind %s %s", src, errStr(x.Bind(sa(src+":0"))))
			l.add("IP_MULTICAST_IF lo %s", errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, lmreqn(netip.IPv4Unspecified(), 1))))
			return x
		}
		a, b := sender("127.0.0.2"), sender("127.0.0.3")
		to := sa(fmt.Sprintf("%s:%d", lgroup, port))
		round := func(step string) {
			for _, x := range []struct {
				s   api
				msg string
			}{{a, "a"}, {b, "b"}} {
				n, err := x.s.SendMsg([]byte(x.msg), nil, to, 0)
				l.add("%s: send %s %d %s", step, x.msg, n, errStr(err))
			}
			for _, r := range []struct {
				s    api
				name string
			}{{joined, "joined"}, {other, "other"}} {
				var got []string
				w.wait(r.s, unix.EPOLLIN, 150*time.Millisecond)
				for i := 0; i < 4; i++ {
					buf := make([]byte, 8)
					n, _, _, _, err := r.s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
					if err != nil {
						break
					}
					got = append(got, string(buf[:n]))
				}
				l.add("%s:   %s got [%s]", step, r.name, strings.Join(got, " "))
			}
		}
		set := func(op string, s api, name int, v []byte) {
			l.add("%s: %s", op, errStr(s.SetSockOpt(unix.SOL_IP, name, v)))
		}
		getMsf := func(op string, room int) {
			buf := lmsfilter(lgroup.String(), "127.0.0.1", 0, make([]string, 0)...)
			binary.NativeEndian.PutUint32(buf[12:], uint32(room))
			buf = append(buf, make([]byte, 4*room)...)
			n, err := joined.GetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, buf)
			l.add("%s: %s %d %x", op, errStr(err), n, buf)
		}
		round("not joined")
		set("join on lo", joined, unix.IP_ADD_MEMBERSHIP, lmreqn(lgroup, 1))
		round("joined")
		set("block .2", joined, unix.IP_BLOCK_SOURCE, lmreqSource(lgroup.String(), "127.0.0.1", "127.0.0.2"))
		round("blocked .2")
		getMsf("msfilter after block", 2)
		set("other IP_MULTICAST_ALL 0", other, unix.IP_MULTICAST_ALL, intOpt(0))
		round("multicast_all 0")
		set("other IP_MULTICAST_ALL 1", other, unix.IP_MULTICAST_ALL, intOpt(1))
		set("unblock .2", joined, unix.IP_UNBLOCK_SOURCE, lmreqSource(lgroup.String(), "127.0.0.1", "127.0.0.2"))
		round("unblocked")
		set("msfilter include .3", joined, unix.IP_MSFILTER, lmsfilter(lgroup.String(), "127.0.0.1", unix.MCAST_INCLUDE, "127.0.0.3"))
		round("include .3")
		getMsf("msfilter include", 1)
		set("msfilter exclude .3 .9", joined, unix.IP_MSFILTER, lmsfilter(lgroup.String(), "127.0.0.1", unix.MCAST_EXCLUDE, "127.0.0.3", "127.0.0.9"))
		round("exclude .3")
		getMsf("msfilter exclude room 1", 1)
		set("add source on exclude", joined, unix.IP_ADD_SOURCE_MEMBERSHIP, lmreqSource(lgroup.String(), "127.0.0.1", "127.0.0.2"))
		set("leave", joined, unix.IP_DROP_MEMBERSHIP, lmreqn(lgroup, 1))
		round("left")
		set("ssm join .2", joined, unix.IP_ADD_SOURCE_MEMBERSHIP, lmreqSource(lgroup.String(), "127.0.0.1", "127.0.0.2"))
		round("ssm .2")
		set("drop .2 (leaves)", joined, unix.IP_DROP_SOURCE_MEMBERSHIP, lmreqSource(lgroup.String(), "127.0.0.1", "127.0.0.2"))
		round("ssm left")
		getMsf("msfilter after leave", 0)
	})
	if g := s.McastGroups(1); len(g) != 0 {
		t.Errorf("lo still in groups after the last leave: %v", g)
	}
}

// TestMembershipLimits checks igmp_max_memberships (ENOBUFS on the 21st
// join) and igmp_max_msf (ENOBUFS on the 11th source) against the kernel.
func TestMembershipLimitsMatchKernel(t *testing.T) {
	s := newStack(t, 0, nil)
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		x := w.sock(unix.SOCK_DGRAM, 0)
		for i := 1; i <= 21; i++ {
			g := netip.AddrFrom4([4]byte{239, 8, 0, byte(i)})
			if err := x.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(g, 1)); err != nil || i >= 20 {
				l.add("join %d: %s", i, errStr(err))
			}
		}
		for i := 1; i <= 11; i++ {
			src := fmt.Sprintf("10.1.1.%d", i)
			if err := x.SetSockOpt(unix.SOL_IP, unix.IP_BLOCK_SOURCE, lmreqSource("239.8.0.1", "127.0.0.1", src)); err != nil || i >= 10 {
				l.add("block %d: %s", i, errStr(err))
			}
		}
		srcs := make([]string, 11)
		for i := range srcs {
			srcs[i] = fmt.Sprintf("10.2.2.%d", i+1)
		}
		l.add("msfilter 11: %s", errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lmsfilter("239.8.0.2", "127.0.0.1", unix.MCAST_EXCLUDE, srcs...))))
		l.add("msfilter 10: %s", errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lmsfilter("239.8.0.2", "127.0.0.1", unix.MCAST_EXCLUDE, srcs[:10]...))))
		l.add("close: %s", errStr(x.Close()))
	})
	if g := s.McastGroups(1); len(g) != 0 {
		t.Errorf("memberships survive close: %v", g)
	}
}

// TestMulticastOptionMemoryMatchesKernel raises the membership and source
// limits and checks that net.core.optmem_max then bounds memberships and
// source lists where the kernel's sock_kmalloc does.
func TestMulticastOptionMemoryMatchesKernel(t *testing.T) {
	limits := map[string]string{
		"net.ipv4.igmp_max_memberships": "100000",
		"net.ipv4.igmp_max_msf":         "100000",
		"net.core.optmem_max":           "20000",
	}
	s := newStack(t, 0, limits)
	diffWorldsIn(t, privateNetnsWorld(t, limits), s, func(w *world, l *logger) {
		x := w.sock(unix.SOCK_DGRAM, 0)
		n := 0
		var err error
		for n < 1000 {
			g := netip.AddrFrom4([4]byte{239, 9, byte(n >> 8), byte(n)})
			if err = x.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(g, 1)); err != nil {
				break
			}
			n++
		}
		l.add("joins before %s: %d", errStr(err), n)
		for i := 0; i < 40; i++ {
			g := netip.AddrFrom4([4]byte{239, 9, byte(i >> 8), byte(i)})
			if err := x.SetSockOpt(unix.SOL_IP, unix.IP_DROP_MEMBERSHIP, lmreqn(g, 1)); err != nil {
				l.add("drop %d: %s", i, errStr(err))
			}
		}
		g := netip.AddrFrom4([4]byte{239, 9, 0, 0})
		l.add("rejoin: %s", errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(g, 1))))
		blocked := 0
		for blocked < 1000 {
			src := netip.AddrFrom4([4]byte{10, 3, byte(blocked >> 8), byte(blocked)})
			if err = x.SetSockOpt(unix.SOL_IP, unix.IP_BLOCK_SOURCE, lmreqSource(g.String(), "127.0.0.1", src.String())); err != nil {
				break
			}
			blocked++
		}
		l.add("blocks before %s: %d", errStr(err), blocked)
		for _, k := range []int{100, 300, 400, 1000} {
			srcs := make([]string, k)
			for i := range srcs {
				srcs[i] = fmt.Sprintf("10.4.%d.%d", i>>8, i&0xff)
			}
			l.add("msfilter %d: %s", k, errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_MSFILTER, lmsfilter(g.String(), "127.0.0.1", unix.MCAST_EXCLUDE, srcs...))))
		}
	})
}

// TestMembershipAfterClose checks that a closed socket joins nothing (its
// memberships were left by Close).
func TestMembershipAfterClose(t *testing.T) {
	s := newStack(t, 0, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(lgroup, 1)); err != nil {
		t.Fatal(err)
	}
	if len(s.McastGroups(1)) != 1 {
		t.Fatalf("groups after join: %v", s.McastGroups(1))
	}
	so.Close()
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, lmreqn(lgroup, 1)); err != unix.EBADF {
		t.Errorf("join after close: %v, want EBADF", err)
	}
	if g := s.McastGroups(1); len(g) != 0 {
		t.Errorf("groups after close: %v", g)
	}
}
