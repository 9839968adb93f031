package endpoint

import (
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Raw sockets and multicast: Linux's raw_v4_input sees a datagram to a
// group only when the arrival interface accepted it (some socket joined
// the group there and the merged source filter lets the source through)
// and then asks the raw socket's own filter (ip_mc_sf_allow: its
// membership, or IP_MULTICAST_ALL without one). gVisor's raw endpoints
// queue every multicast packet the NIC takes, so the socket drops the
// unwanted ones at the head of its queue, as it does for ICMP_FILTER.

// rawMcastWanted tells whether a queued packet (IPv4 header first) that
// arrived on ifindex passes both multicast checks; other packets pass.
func (g *rawSock) rawMcastWanted(pkt []byte, ifindex int) bool {
	if len(pkt) < 20 {
		return true
	}
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	if !dst.IsMulticast() {
		return true
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	return g.s.McastAccepts(ifindex, dst, src) && g.AllowMulticast(dst, src, ifindex)
}

// dropUnwanted discards, at the head of a raw socket's queue, packets
// ICMP_FILTER filters out and multicast packets the socket would not have
// got (rawMcastWanted), so the next packet poll and recvmsg see is one it
// takes. Bounded by what is queued.
func (g *rawSock) dropUnwanted() {
	var mask uint32
	if g.proto == unix.IPPROTO_ICMP {
		mask = g.icmpFilter.Load()
	}
	var head [60 + 1]byte // the longest IPv4 header and the ICMP type
	for {
		w := tcpip.SliceWriter(head[:])
		res, e := g.endpoint().Read(&tcpip.LimitedWriter{W: &w, N: int64(len(head))}, tcpip.ReadOptions{Peek: true, NeedRemoteAddr: true})
		if e != nil {
			return
		}
		pkt := head[:res.Count]
		if (mask == 0 || !icmpFiltered(pkt, mask)) && g.rawMcastWanted(pkt, int(res.RemoteAddr.NIC)) {
			return
		}
		// Reading into no room dequeues the packet and answers
		// ErrBadBuffer; anything else means the queue changed under us.
		var discard tcpip.SliceWriter
		if _, e := g.endpoint().Read(&tcpip.LimitedWriter{W: &discard, N: 0}, tcpip.ReadOptions{}); e != nil {
			if _, dropped := e.(*tcpip.ErrBadBuffer); !dropped {
				return
			}
		}
	}
}
