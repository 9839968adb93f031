package stack

import (
	"encoding/binary"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// MLD's wire format (RFC 2710, RFC 3810): the records, timers and query
// handling are IGMPv3's (igmp_*.go); only the messages, their addresses
// and the version rules are MLD's own.

// ICMPv6 types of MLD.
const (
	mldQueryType    = 130
	mldV1ReportType = 131
	mldDoneType     = 132
	mldV2ReportType = 143
	// An MLD packet's headers: IPv6, and a Hop-by-Hop header with Router
	// Alert (value 0, MLD) and a two-byte PadN, as Linux's ip6_mc_hdr.
	mldHdrSize = header.IPv6MinimumSize + 8
	// mldQRV is sysctl_mld_qrv (MLD_QRV_DEFAULT).
	mldQRV = 2
)

var (
	mldv2Routers = netip.MustParseAddr("ff02::16")
	allRouters6  = netip.MustParseAddr("ff02::2")
	allNodes     = netip.MustParseAddr("ff02::1")
)

// mcastScope6 is an IPv6 group's scope field (1 interface-local, 2
// link-local, ...).
func mcastScope6(g netip.Addr) int { return int(g.As16()[1] & 0x0f) }

// mldVersion is the MLD version the interface speaks now, counted as
// IGMP's (3 for MLDv2, 2 for MLDv1), as Linux's mld_in_v1_mode decides
// it: conf/all's force_mld_version when not 0, else the interface's; 2
// forces MLDv2 (and MLDv1 queries are then ignored), 1 forces MLDv1;
// otherwise MLDv1 while an MLDv1 querier was heard lately. Called with
// ctl held.
func (s *Stack) mldVersion(st *igmpIf) int {
	switch force := s.mldForced(st); {
	case force == 2:
		return 3
	case force == 1 || time.Now().Before(st.v2Until):
		return 2
	}
	return 3
}

// mldV1Message is an MLDv1 report or done for group (max delay 0); its
// checksum is sendMLD's.
func mldV1Message(typ byte, group netip.Addr) []byte {
	b := make([]byte, 24)
	b[0] = typ
	copy(b[8:], group.AsSlice())
	return b
}

// mldSource is the source of the interface's MLD messages: its first
// link-local address, else :: (Linux's igmp6_send when ipv6_get_lladdr
// finds none).
func (s *Stack) mldSource(ifindex int) netip.Addr {
	for _, p := range s.Addrs6()[ifindex] {
		if p.Addr().IsLinkLocalUnicast() {
			return p.Addr()
		}
	}
	return netip.IPv6Unspecified()
}

// sendMLD sends an MLD message out of the interface as Linux's
// mld_newpack and igmp6_send build it: hop limit 1, Hop-by-Hop Router
// Alert, traffic class 0, to the group's link-layer address. It goes
// straight to the NIC: gVisor's route lookup wants a source address of
// the interface, and an MLD message may have none.
func (s *Stack) sendMLD(ifindex int, dst netip.Addr, msg []byte) {
	src := s.mldSource(ifindex)
	b := make([]byte, mldHdrSize, mldHdrSize+len(msg))
	header.IPv6(b).Encode(&header.IPv6Fields{
		PayloadLength:     uint16(8 + len(msg)),
		TransportProtocol: tcpip.TransportProtocolNumber(header.IPv6HopByHopOptionsExtHdrIdentifier),
		HopLimit:          1,
		SrcAddr:           gAddr(src),
		DstAddr:           gAddr(dst),
	})
	copy(b[header.IPv6MinimumSize:], []byte{uint8(header.ICMPv6ProtocolNumber), 0, 5, 2, 0, 0, 1, 0})
	sum := header.PseudoHeaderChecksum(header.ICMPv6ProtocolNumber, gAddr(src), gAddr(dst), uint16(len(msg)))
	binary.BigEndian.PutUint16(msg[2:], ^checksum.Checksum(msg, sum))
	b = append(b, msg...)
	link := header.EthernetAddressFromMulticastIPv6Address(gAddr(dst))
	_ = s.g.WritePacketToRemote(tcpip.NICID(ifindex), link, header.IPv6ProtocolNumber, buffer.MakeWithData(b))
}
