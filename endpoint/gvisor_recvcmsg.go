package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
	"netsandbox/stack"
)

// pushRecvOpts has a gVisor raw or ping endpoint always record TTL, TOS
// and packet info: which of them reach the caller is decided per recvmsg
// from the socket's own flags (see datagramCmsgs).
func (g *gsock) pushRecvOpts() {
	if g.isTCP() {
		return
	}
	so := g.endpoint().SocketOptions()
	so.SetReceiveTTL(true)
	so.SetReceiveTOS(true)
	so.SetReceivePacketInfo(true)
}

// datagramCmsgs builds the control messages of raw_recvmsg and
// ping_recvmsg from what gVisor recorded: the SOL_SOCKET timestamp, then
// ip_cmsg_recv's IP_PKTINFO, IP_TTL, IP_TOS and IP_ORIGDSTADDR. data is
// what was copied to the caller (for raw, the packet from its IP header;
// for ping, from the ICMP header), read for the "port" Linux takes from
// the transport header. IP options are not passed up by gVisor's raw
// endpoints, so IP_RECVOPTS/IP_RETOPTS add nothing here.
func (g *gsock) datagramCmsgs(oob []byte, res *tcpip.ReadResult, data []byte) (int, int) {
	f := g.rx()
	if f == 0 {
		return 0, 0
	}
	cm := &res.ControlMessages
	b := options.NewCmsgBuilder(oob)
	var stamp int64
	if cm.HasTimestamp {
		stamp = cm.Timestamp.UnixNano()
	}
	putTimestamp(&b, f, stamp)
	if f&rxIPMask == 0 {
		return b.Len(), b.Flags()
	}
	dst := netip.AddrFrom4(cm.PacketInfo.DestinationAddr.As4())
	if f&rxPktinfo != 0 && cm.HasIPPacketInfo {
		d := stack.Datagram{
			Src:     netip.AddrPortFrom(addrPortOf(res.RemoteAddr).Addr(), 0),
			Dst:     netip.AddrPortFrom(dst, 0),
			IfIndex: int(cm.PacketInfo.NIC),
		}
		pi := options.InPktinfo{IfIndex: int32(pktinfoIfIndex(g.s, &d)), Addr: dst}
		if !g.isPing() {
			// ping_queue_rcv_skb skips ipv4_pktinfo_prepare: Linux
			// reports spec_dst 0.0.0.0 on ping sockets (measured).
			pi.SpecDst = specDst(g.s, &d)
		}
		enc := pi.Encode()
		b.Put(unix.SOL_IP, unix.IP_PKTINFO, enc[:])
	}
	if f&rxTTL != 0 && cm.HasTTL {
		b.PutInt32(unix.SOL_IP, unix.IP_TTL, int32(cm.TTL))
	}
	if f&rxTOS != 0 && cm.HasTOS {
		tos := [1]byte{cm.TOS}
		b.Put(unix.SOL_IP, unix.IP_TOS, tos[:])
	}
	if f&rxOrigDst != 0 && cm.HasIPPacketInfo {
		if port, ok := g.transportPort(data); ok {
			sa := options.SockaddrInArray(netip.AddrPortFrom(dst, port))
			b.Put(unix.SOL_IP, unix.IP_ORIGDSTADDR, sa[:])
		}
	}
	return b.Len(), b.Flags()
}

// transportPort is what ip_cmsg_recv_dstaddr reads as the destination
// port: bytes 2..3 after the IP header (for ICMP, its checksum).
func (g *gsock) transportPort(data []byte) (uint16, bool) {
	off := 0
	if !g.isPing() {
		if len(data) < 1 {
			return 0, false
		}
		off = int(data[0]&0x0f) * 4
	}
	if len(data) < off+4 {
		return 0, false
	}
	return binary.BigEndian.Uint16(data[off+2 : off+4]), true
}
