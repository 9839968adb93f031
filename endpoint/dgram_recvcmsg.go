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
func (g *dgramSock) pushRecvOpts() {
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
// the transport header, and on raw sockets for the IP options; hdr is the
// packet's start as far as it is known (data, or a peek when data is too
// short), which names the datagram for IP_RECVFRAGSIZE.
func (g *dgramSock) datagramCmsgs(oob []byte, res *tcpip.ReadResult, data, hdr []byte) (int, int) {
	f := g.rx()
	g.noteRecvStamp(f, &res.ControlMessages)
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
		pi := options.InPktinfo{IfIndex: int32(pktinfoIfIndex(g.s, &d)), Addr: dst, SpecDst: g.kind.pktinfoSpecDst(&d)}
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
	opts := g.rawIPOptions(data)
	if len(opts) > 0 && cm.HasIPPacketInfo {
		// gVisor hands raw sockets the header as it arrived; Linux has
		// already recorded this hop in it (ip_options_compile on input),
		// in the caller's copy too.
		d := stack.Datagram{Src: netip.AddrPortFrom(addrPortOf(res.RemoteAddr).Addr(), 0), Dst: netip.AddrPortFrom(dst, 0), IfIndex: int(cm.PacketInfo.NIC)}
		fillRecordRoute(opts, specDst(g.s, &d))
	}
	if len(opts) > 0 {
		if f&rxRecvOpts != 0 {
			b.Put(unix.SOL_IP, unix.IP_RECVOPTS, opts)
		}
		if f&rxRetOpts != 0 {
			var echo [maxIPOptions]byte
			n := echoIPOptions(opts, &echo)
			b.Put(unix.SOL_IP, unix.IP_RETOPTS, echo[:n])
		}
	}
	if f&rxOrigDst != 0 && cm.HasIPPacketInfo {
		if port, ok := g.transportPort(data); ok {
			sa := options.SockaddrInArray(netip.AddrPortFrom(dst, port))
			b.Put(unix.SOL_IP, unix.IP_ORIGDSTADDR, sa[:])
		}
	}
	if f&rxFragSize != 0 && g.ipHeader {
		// ip_cmsg_recv_fragsize (a ping socket sees no header to name
		// the datagram by: no message there yet).
		if n := g.s.FragMaxSize(hdr, res.Total); n != 0 {
			b.PutInt32(unix.SOL_IP, unix.IP_RECVFRAGSIZE, int32(n))
		}
	}
	return b.Len(), b.Flags()
}

// rawIPOptions returns the IP options of a packet read by a raw socket,
// whose data starts with the IP header; ping sockets see no header. The
// options are read from what was copied, so a buffer too short for the
// header yields none.
func (g *dgramSock) rawIPOptions(data []byte) []byte {
	if !g.ipHeader || len(data) < 20 {
		return nil
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl <= 20 || len(data) < ihl {
		return nil
	}
	return data[20:ihl]
}

// fillRecordRoute writes addr into the next free slot of a record route
// option and advances its pointer, as ip_options_compile does for a
// received packet; a full or malformed option is left alone.
func fillRecordRoute(opts []byte, addr netip.Addr) {
	rr := findIPOption(opts, options.IPOptRR)
	if len(rr) < 3 {
		return
	}
	ptr := int(rr[2])
	if ptr < 4 || ptr > len(rr) || ptr+3 > len(rr) {
		return
	}
	a := addr.As4()
	copy(rr[ptr-1:ptr+3], a[:])
	rr[2] += 4
}

// transportPort is what ip_cmsg_recv_dstaddr reads as the destination
// port: bytes 2..3 after the IP header (for ICMP, its checksum).
func (g *dgramSock) transportPort(data []byte) (uint16, bool) {
	off := 0
	if g.ipHeader {
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
