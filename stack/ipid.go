package stack

import (
	"math/rand/v2"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Linux's IP IDs for the packets gVisor builds (ip_select_ident_segs):
// a socket with a peer address (a TCP connection; a raw or ping socket
// after connect) numbers its packets from its own counter, inet_id, which
// connect and accept start at a random value; only a packet of an
// unconnected socket that leaves with DF in IP_PMTUDISC_DO or PROBE mode
// gets ID 0, and TCP segments sent for no full socket (RSTs, TIME_WAIT
// ACKs, SYN-ACKs: the per-CPU control socket and ip_build_and_send_pkt)
// leave with DF and ID 0. gVisor writes ID 0 on every DF packet and a
// random one otherwise, so the IPv4 hook (ipv4_hook.go) hands gVisor's
// IPv4 endpoints a NIC whose WritePacket rewrites the ID, and the header
// checksum with it, of each packet gVisor has finished: TCP segments by
// their connection (ipid_tcp.go), raw and ICMP datagrams by the socket
// gVisor names as their owner (ipid_dgram.go). Other packets cost two
// compares; nothing is allocated per packet.

// ipidNIC is the NIC one IPv4 endpoint writes through.
type ipidNIC struct {
	gstack.NetworkInterface
	s *Stack
}

func (n *ipidNIC) WritePacket(r *gstack.Route, pkt *gstack.PacketBuffer) tcpip.Error {
	n.s.stampIPID(r, pkt)
	return n.NetworkInterface.WritePacket(r, pkt)
}

// ipidState is the stack's part of Linux's IP IDs.
type ipidState struct {
	tcp tcpIDTable
}

// stampIPID gives pkt, whose IPv4 header gVisor has just written, the ID
// Linux would have.
func (s *Stack) stampIPID(r *gstack.Route, pkt *gstack.PacketBuffer) {
	if pkt.TransportProtocolNumber != header.TCPProtocolNumber && pkt.Owner == nil {
		return // neither a TCP segment nor a socket's datagram
	}
	if pkt.NetworkPacketInfo.IsForwardedPacket || r.Loop()&gstack.PacketLoop != 0 {
		// Forwarded: not ours to number. Looped back: the local copy
		// shares the header bytes already delivered.
		return
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	if len(ip) < header.IPv4MinimumSize || ip.More() || ip.FragmentOffset() != 0 {
		// Fragments of one datagram keep the one ID gVisor gave them all.
		return
	}
	if pkt.TransportProtocolNumber == header.TCPProtocolNumber {
		// A header-included packet (raw IP_HDRINCL, or one the stack
		// built, which numbered it) has no transport header here.
		if th := pkt.TransportHeader().Slice(); len(th) >= header.TCPMinimumSize {
			s.stampTCP(r, ip, header.TCP(th), pkt)
		}
		return
	}
	if d, ok := pkt.Owner.(*DatagramIPID); ok {
		d.stamp(ip)
	}
}

// setIPID writes id into ip and recomputes the header checksum.
func setIPID(ip header.IPv4, id uint16) {
	ip.SetID(id)
	ip.SetChecksum(0)
	ip.SetChecksum(^ip.CalculateChecksum())
}

// setDFNoID is what Linux's TCP control socket sends: DF (its pmtudisc is
// IP_PMTUDISC_DO) and ID 0.
func setDFNoID(ip header.IPv4) {
	ip.SetFlagsFragmentOffset(ip.Flags()|header.IPv4FlagDontFragment, 0)
	setIPID(ip, 0)
}

// randomIPID is get_random_u16, the start of a socket's counter.
func randomIPID() uint32 { return uint32(uint16(rand.Uint32())) }
