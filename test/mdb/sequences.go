package mdb

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Sock is what the sequences need of a socket: kernel sockets of the
// harness and netsandbox's endpoint sockets both have it.
type Sock interface {
	SetSockOpt(level, name int, val []byte) error
	Close() error
}

// Host is one side of the comparison: its address and interface index,
// and how it makes UDP sockets. Sockets are named by the sequences ("A",
// "B") and made on first use.
type Host struct {
	Role    string
	Addr    netip.Addr
	Ifindex int
	Socket  func() (Sock, error)
	socks   map[string]Sock
}

func (h *Host) sock(name string) (Sock, error) {
	if s, ok := h.socks[name]; ok {
		return s, nil
	}
	s, err := h.Socket()
	if err != nil {
		return nil, err
	}
	if h.socks == nil {
		h.socks = make(map[string]Sock)
	}
	h.socks[name] = s
	return s, nil
}

// CloseAll closes every socket still open.
func (h *Host) CloseAll() {
	for name, s := range h.socks {
		s.Close()
		delete(h.socks, name)
	}
}

// Op is one socket call; Do returns its error (nil, or a unix.Errno).
// Sockets are named within a sequence: seq keeps the sequences apart.
type Op struct {
	Desc string
	Do   func(h *Host, seq string) error
}

// Step is a set of socket calls made at once, then left to settle.
type Step struct {
	Name string
	Ops  []Op
	// Want is the host's merged filter for the sequence's group afterwards
	// (RFC 3376 3.2), as Filter renders a (*,G) entry; "" when the host is
	// no member. The kernel port's entry must show it: proof that the
	// bridge really tracks the state the comparison is about.
	Want string
}

// Sequence is a series of steps on a group of its own.
type Sequence struct {
	Name  string
	Group netip.Addr
	Steps []Step
}

// Sources named in the sequences: addresses in the test subnet that send
// nothing (source filters need no live sender).
var (
	S1 = netip.MustParseAddr("198.18.0.11")
	S2 = netip.MustParseAddr("198.18.0.12")
	S3 = netip.MustParseAddr("198.18.0.13")
	S4 = netip.MustParseAddr("198.18.0.14")
	S5 = netip.MustParseAddr("198.18.0.15")
)

// in and ex write a Want.
func in(srcs ...netip.Addr) string { return "IN" + srcList(srcs) }
func ex(srcs ...netip.Addr) string { return "EX" + srcList(srcs) }

func srcList(srcs []netip.Addr) string {
	s := slices.Clone(srcs)
	slices.SortFunc(s, func(a, b netip.Addr) int { return a.Compare(b) })
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = a.String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func group(n int) netip.Addr { return netip.AddrFrom4([4]byte{239, 99, byte(n), 1}) }

// Sequences are the socket-call sequences both hosts run: any-source
// membership, source-specific INCLUDE, EXCLUDE with blocked sources,
// IP_MSFILTER mode switches, and two sockets whose filters merge. Every
// step changes the interface's filter once (or adds sources in one mode),
// so its state-change records do not depend on how fast the calls follow
// each other.
func Sequences() []Sequence {
	g1, g2, g3, g4, g5, g6 := group(1), group(2), group(3), group(4), group(5), group(6)
	return []Sequence{
		{Name: "asm", Group: g1, Steps: []Step{
			{"join", []Op{join("A", g1)}, ex()},
			{"leave", []Op{leave("A", g1)}, ""},
		}},
		{Name: "ssm-include", Group: g2, Steps: []Step{
			{"add S1 S2", []Op{addSource("A", g2, S1), addSource("A", g2, S2)}, in(S1, S2)},
			{"drop S2", []Op{dropSource("A", g2, S2)}, in(S1)},
			{"drop S1, the last source", []Op{dropSource("A", g2, S1)}, ""},
		}},
		{Name: "exclude-block", Group: g3, Steps: []Step{
			{"join", []Op{join("A", g3)}, ex()},
			{"block S3", []Op{block("A", g3, S3)}, ex(S3)},
			{"unblock S3", []Op{unblock("A", g3, S3)}, ex()},
			{"block S3 again", []Op{block("A", g3, S3)}, ex(S3)},
			{"close", []Op{closeSock("A")}, ""},
		}},
		{Name: "msfilter", Group: g4, Steps: []Step{
			{"join", []Op{join("A", g4)}, ex()},
			{"msfilter IN{S1,S2}", []Op{msfilter("A", g4, unix.MCAST_INCLUDE, S1, S2)}, in(S1, S2)},
			{"msfilter EX{S3}", []Op{msfilter("A", g4, unix.MCAST_EXCLUDE, S3)}, ex(S3)},
			{"msfilter IN{S1}", []Op{msfilter("A", g4, unix.MCAST_INCLUDE, S1)}, in(S1)},
			{"msfilter IN{}, a leave", []Op{msfilter("A", g4, unix.MCAST_INCLUDE)}, ""},
		}},
		// RFC 3376 3.2: INCLUDE lists merge by union; once any socket
		// excludes, the interface excludes the intersection of the
		// EXCLUDE lists less every source some INCLUDE socket wants.
		{Name: "two-socket-merge", Group: g5, Steps: []Step{
			{"A add S1 S2", []Op{addSource("A", g5, S1), addSource("A", g5, S2)}, in(S1, S2)},
			{"B MCAST_JOIN_SOURCE_GROUP S2 S3", []Op{joinSourceGroup("B", g5, S2), joinSourceGroup("B", g5, S3)}, in(S1, S2, S3)},
			{"B msfilter EX{S1,S2,S4}", []Op{msfilter("B", g5, unix.MCAST_EXCLUDE, S1, S2, S4)}, ex(S4)},
			{"A msfilter EX{S2,S4,S5}", []Op{msfilter("A", g5, unix.MCAST_EXCLUDE, S2, S4, S5)}, ex(S2, S4)},
			{"B leaves", []Op{leave("B", g5)}, ex(S2, S4, S5)},
			{"A closes", []Op{closeSock("A")}, ""},
		}},
		{Name: "asm-and-include", Group: g6, Steps: []Step{
			{"A join", []Op{join("A", g6)}, ex()},
			{"B add S1", []Op{addSource("B", g6, S1)}, ex()},
			{"A leaves", []Op{leave("A", g6)}, in(S1)},
			{"B drops S1, the last source", []Op{dropSource("B", g6, S1)}, ""},
		}},
	}
}

// setOpt is an IPPROTO_IP option on socket s, with a value built from the
// host (its interface address or index).
func setOpt(s string, name int, optName string, desc string, val func(h *Host) []byte) Op {
	return Op{
		Desc: fmt.Sprintf("%s %s %s", s, optName, desc),
		Do: func(h *Host, seq string) error {
			so, err := h.sock(seq + "/" + s)
			if err != nil {
				return err
			}
			return so.SetSockOpt(unix.IPPROTO_IP, name, val(h))
		},
	}
}

// ipMreq is struct ip_mreq: group and interface address.
func ipMreq(g netip.Addr) func(h *Host) []byte {
	return func(h *Host) []byte { return cat4(g, h.Addr) }
}

// ipMreqSource is struct ip_mreq_source: group, interface, source.
func ipMreqSource(g, src netip.Addr) func(h *Host) []byte {
	return func(h *Host) []byte { return cat4(g, h.Addr, src) }
}

func cat4(as ...netip.Addr) []byte {
	var b []byte
	for _, a := range as {
		v := a.As4()
		b = append(b, v[:]...)
	}
	return b
}

func join(s string, g netip.Addr) Op {
	return setOpt(s, unix.IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP", g.String(), ipMreq(g))
}

func leave(s string, g netip.Addr) Op {
	return setOpt(s, unix.IP_DROP_MEMBERSHIP, "IP_DROP_MEMBERSHIP", g.String(), ipMreq(g))
}

func addSource(s string, g, src netip.Addr) Op {
	return setOpt(s, unix.IP_ADD_SOURCE_MEMBERSHIP, "IP_ADD_SOURCE_MEMBERSHIP", g.String()+" "+src.String(), ipMreqSource(g, src))
}

func dropSource(s string, g, src netip.Addr) Op {
	return setOpt(s, unix.IP_DROP_SOURCE_MEMBERSHIP, "IP_DROP_SOURCE_MEMBERSHIP", g.String()+" "+src.String(), ipMreqSource(g, src))
}

func block(s string, g, src netip.Addr) Op {
	return setOpt(s, unix.IP_BLOCK_SOURCE, "IP_BLOCK_SOURCE", g.String()+" "+src.String(), ipMreqSource(g, src))
}

func unblock(s string, g, src netip.Addr) Op {
	return setOpt(s, unix.IP_UNBLOCK_SOURCE, "IP_UNBLOCK_SOURCE", g.String()+" "+src.String(), ipMreqSource(g, src))
}

// msfilter is IP_MSFILTER with struct ip_msfilter: group, interface,
// mode and count (native-endian u32), then the sources.
func msfilter(s string, g netip.Addr, mode uint32, srcs ...netip.Addr) Op {
	name := map[uint32]string{unix.MCAST_INCLUDE: "IN", unix.MCAST_EXCLUDE: "EX"}[mode]
	return setOpt(s, unix.IP_MSFILTER, "IP_MSFILTER", g.String()+" "+name+srcList(srcs), func(h *Host) []byte {
		b := cat4(g, h.Addr)
		b = binary.NativeEndian.AppendUint32(b, mode)
		b = binary.NativeEndian.AppendUint32(b, uint32(len(srcs)))
		return append(b, cat4(srcs...)...)
	})
}

// joinSourceGroup is MCAST_JOIN_SOURCE_GROUP with struct group_source_req
// (interface index, then two sockaddr_storage, 8-byte aligned).
func joinSourceGroup(s string, g, src netip.Addr) Op {
	return setOpt(s, unix.MCAST_JOIN_SOURCE_GROUP, "MCAST_JOIN_SOURCE_GROUP", g.String()+" "+src.String(), func(h *Host) []byte {
		const storage = 128
		b := make([]byte, 8+2*storage)
		binary.NativeEndian.PutUint32(b, uint32(h.Ifindex))
		putSockaddr(b[8:], g)
		putSockaddr(b[8+storage:], src)
		return b
	})
}

func putSockaddr(b []byte, a netip.Addr) {
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	v := a.As4()
	copy(b[4:8], v[:])
}

func closeSock(s string) Op {
	return Op{
		Desc: s + " close",
		Do: func(h *Host, seq string) error {
			so, ok := h.socks[seq+"/"+s]
			if !ok {
				return fmt.Errorf("no socket %s in %s", s, seq)
			}
			delete(h.socks, seq+"/"+s)
			return so.Close()
		},
	}
}
