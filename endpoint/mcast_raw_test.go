package endpoint

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// TestRawSocketMembershipMatchesKernel checks, against a kernel in a
// private namespace, that a raw IPPROTO_UDP socket gets a group's
// datagrams only once the interface has joined the group and as its own
// source filter allows, several unwanted datagrams in a row included, and
// that closing it leaves the group.
func TestRawSocketMembershipMatchesKernel(t *testing.T) {
	s := newStack(t, stack.CapNetRaw, nil)
	const port = 45322
	group := netip.MustParseAddr("239.7.7.9")
	diffWorldsIn(t, privateNetnsWorld(t, nil), s, func(w *world, l *logger) {
		raw := w.sock(unix.SOCK_RAW, unix.IPPROTO_UDP)
		obs := w.sock(unix.SOCK_DGRAM, 0)
		l.add("observer bind %s", errStr(obs.Bind(sa(fmt.Sprintf("0.0.0.0:%d", port)))))
		sender := func(src string) api {
			x := w.sock(unix.SOCK_DGRAM, 0)
			l.add("bind %s %s", src, errStr(x.Bind(sa(src+":0"))))
			l.add("IP_MULTICAST_IF lo %s", errStr(x.SetSockOpt(unix.SOL_IP, unix.IP_MULTICAST_IF, lmreqn(netip.IPv4Unspecified(), 1))))
			return x
		}
		a, b := sender("127.0.0.2"), sender("127.0.0.3")
		to := sa(fmt.Sprintf("%s:%d", group, port))
		round := func(step string) {
			for _, x := range []struct {
				s   api
				msg string
			}{{a, "a1"}, {a, "a2"}, {b, "b1"}, {a, "a3"}, {a, "a4"}, {b, "b2"}, {a, "a5"}} {
				if _, err := x.s.SendMsg([]byte(x.msg), nil, to, 0); err != nil {
					l.add("%s: send %s %s", step, x.msg, errStr(err))
				}
			}
			time.Sleep(100 * time.Millisecond)
			for _, r := range []struct {
				s    api
				name string
				hdr  int
			}{{raw, "raw", 28}, {obs, "observer", 0}} {
				var got []string
				for i := 0; i < 16; i++ {
					buf := make([]byte, 64)
					n, _, _, _, err := r.s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
					if err != nil {
						break
					}
					if n >= r.hdr && (r.hdr == 0 || netip.AddrFrom4([4]byte(buf[16:20])) == group) {
						got = append(got, string(buf[r.hdr:n]))
					}
				}
				l.add("%s:   %s got [%s]", step, r.name, strings.Join(got, " "))
			}
		}
		set := func(op string, name int, v []byte) {
			l.add("%s: %s", op, errStr(raw.SetSockOpt(unix.SOL_IP, name, v)))
		}
		round("nobody joined")
		set("raw joins on lo", unix.IP_ADD_MEMBERSHIP, lmreqn(group, 1))
		round("joined")
		set("raw blocks .2", unix.IP_BLOCK_SOURCE, lmreqSource(group.String(), "127.0.0.1", "127.0.0.2"))
		round("blocked .2")
		set("raw IP_MULTICAST_ALL 0", unix.IP_MULTICAST_ALL, intOpt(0))
		set("raw leaves", unix.IP_DROP_MEMBERSHIP, lmreqn(group, 1))
		round("left")
		set("raw joins again", unix.IP_ADD_MEMBERSHIP, lmreqn(group, 1))
		l.add("close raw %s", errStr(raw.Close()))
		round("closed")
	})
	if g := s.McastGroups(1); len(g) != 0 {
		t.Errorf("lo still in groups after the raw socket closed: %v", g)
	}
}
