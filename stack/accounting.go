package stack

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Inbound accounting: every frame a NIC takes in ends in exactly one
// outcome, and Accounting sums the counters that say which. gVisor's
// counters are not a partition (one frame moves several: PacketsReceived,
// ValidPacketsReceived, PacketsDelivered, ...), so only the counters that
// mark where a frame's journey ends are summed, plus ours where gVisor
// counts nothing.
//
// Known gaps (no counter moves; the frame fuzzer recognises these frames
// and the table test pins them, see test/fuzz):
//   - an IPv4 fragment held for reassembly: gVisor's reassembler counts
//     nothing until the datagram completes (the completing fragment is
//     counted as the datagram's outcome) or a fragment is refused
//     (IPMalformed);
//   - an IP option problem gVisor drops without an ICMP answer
//     (IPv4OptParameterProblem.NeedICMP false: a timestamp option with a
//     ragged data length, any option on a broadcast/multicast packet when
//     the interface has no address);
//   - an IGMP message shorter than 8 bytes: gVisor counts it in Invalid,
//     which it also adds to typed messages that failed validation, so
//     Invalid is not summed;
//   - frames the link layer drops before the NIC (Ethernet frames shorter
//     than their header) move neither Frames nor any outcome.
//
// Limits: a broadcast or multicast UDP datagram delivered to (or filtered
// by) n sockets counts n times, as each socket's delivery is counted; a
// valid TCP segment counts as consumed when gVisor queues it for its
// connection or listener (what the connection then does with it, e.g. an
// out-of-window segment, is TCP's business, as in Linux's InSegs); an echo
// reply a ping socket drops for a full buffer counts as delivered (gVisor
// counts that per socket only); IP_MINTTL drops are among the unparsable
// transport headers (the TCP wrapper refuses them in Parse; its own count
// is Stats.TCPMinTTLDrop). The TCP reset counters exist only on a host
// stack (a Gateway stack runs gVisor's TCP unwrapped). The counters are
// stack-wide, lo included.

// OutcomeClass is the kind of terminal outcome.
type OutcomeClass int

const (
	Delivered OutcomeClass = iota // handed to a socket
	Answered                      // the stack replied (echo reply, port/protocol unreachable, TCP RST)
	Consumed                      // the stack used it (ARP, IGMP, ICMP errors, TCP segments)
	Dropped                       // discarded, with a reason
)

func (c OutcomeClass) String() string {
	return [...]string{"delivered", "answered", "consumed", "dropped"}[c]
}

// Outcome is one counter of inbound frames that ended one way.
type Outcome struct {
	Class  OutcomeClass
	Reason string
	N      uint64
}

// Accounting is a snapshot of the inbound counters.
type Accounting struct {
	Frames   uint64 // frames the NICs took in (received, or refused by a disabled NIC)
	Outcomes []Outcome
}

// Total is the number of frames with a counted outcome.
func (a Accounting) Total() uint64 {
	var n uint64
	for _, o := range a.Outcomes {
		n += o.N
	}
	return n
}

// Class sums the outcomes of one class.
func (a Accounting) Class(c OutcomeClass) uint64 {
	var n uint64
	for _, o := range a.Outcomes {
		if o.Class == c {
			n += o.N
		}
	}
	return n
}

// Get returns the count of one reason (0 if unknown).
func (a Accounting) Get(reason string) uint64 {
	for _, o := range a.Outcomes {
		if o.Reason == reason {
			return o.N
		}
	}
	return 0
}

// Sub returns the change from an earlier snapshot b of the same stack.
func (a Accounting) Sub(b Accounting) Accounting {
	d := Accounting{Frames: a.Frames - b.Frames, Outcomes: make([]Outcome, len(a.Outcomes))}
	for i, o := range a.Outcomes {
		o.N -= b.Outcomes[i].N
		d.Outcomes[i] = o
	}
	return d
}

// String lists the non-zero outcomes, for diagnostics.
func (a Accounting) String() string {
	s := fmt.Sprintf("frames=%d", a.Frames)
	for _, o := range a.Outcomes {
		if o.N != 0 {
			s += fmt.Sprintf(" %s/%s=%d", o.Class, o.Reason, o.N)
		}
	}
	return s
}

// Outcome reasons, as reported by Accounting.
const (
	OutUDP              = "udp"                       // datagram queued on a UDP socket
	OutICMPEchoReply    = "icmp-echo-reply"           // to a ping socket (a full buffer drops it there, counted per socket only)
	OutEchoRequest      = "icmp-echo-request"         // answered with an echo reply
	OutUDPPortUnreach   = "udp-port-unreach"          // no socket: ICMP port unreachable
	OutProtoUnreach     = "proto-unreach"             // no transport: ICMP protocol unreachable
	OutTCPReset         = "tcp-rst"                   // no socket: RST
	OutARP              = "arp"                       // request or reply handled
	OutIGMP             = "igmp"                      // query/report/leave (a typed message gVisor found invalid included)
	OutICMPError        = "icmp-error"                // unreachable, quench, redirect, time exceeded, parameter problem
	OutICMPOther        = "icmp-other"                // timestamp and information messages
	OutTCPSegment       = "tcp-segment"               // valid segment handed to a connection or listener
	DropLinkDisabled    = "nic-disabled"              // NIC disabled
	DropUnknownL3       = "unknown-ethertype"         // no network protocol for the EtherType
	DropARPMalformed    = "arp-malformed"             // ARP header
	DropARPDisabled     = "arp-disabled"              // ARP off on the NIC
	DropIPDisabled      = "ip-disabled"               // IPv4 off on the NIC
	DropIPMalformed     = "ip-malformed"              // IPv4 header, fragment, option problem (ICMP sent)
	DropIPSource        = "ip-bad-source"             // martian/broadcast/multicast/own source
	DropIPDestination   = "ip-not-for-us"             // not a local address, group not joined, loopback
	DropIPTables        = "iptables"                  // prerouting/input chains (unused by netsandbox)
	DropL4Malformed     = "l4-malformed"              // unparsable transport header, TCP bad checksum to no socket, IP_MINTTL
	DropICMPInvalid     = "icmp-invalid"              // short, bad checksum, unknown type
	DropIGMPChecksum    = "igmp-checksum"             // bad checksum
	DropUDPChecksum     = "udp-checksum"              // bad checksum
	DropUDPLength       = "udp-length"                // length field disagrees with the IP length
	DropUDPRcvbuf       = "udp-rcvbuf"                // receive buffer full
	DropUDPNoSocketMult = "udp-ignored-multi"         // broadcast/multicast no socket wanted
	DropUDPMcastFilter  = "udp-mcast-filter"          // multicast source filter (interface or socket)
	DropTCPChecksum     = "tcp-checksum"              // bad checksum, to a socket
	DropTCPInvalid      = "tcp-invalid"               // segment a socket's parser refused
	DropTCPResetNoSock  = "tcp-rst-no-socket"         // RST to no socket: nothing to answer
	DropEchoReplyNoSock = "icmp-echo-reply-no-socket" // no ping socket has its ident
)

// Accounting reads the inbound counters. Snapshots are not atomic: take
// them while no frame is in flight to compare exactly.
func (s *Stack) Accounting() Accounting {
	st := s.g.Stats()
	ip, icmp, igmp, arp, nic := st.IP, st.ICMP.V4.PacketsReceived, st.IGMP.PacketsReceived, st.ARP, st.NICs
	u := &s.stats
	rcvbuf := u.UDPRcvbufErrors.Load()
	// UDPInErrors also counts datagrams Parse refused (short header), which
	// gVisor counts again as unparsable transport headers, and the
	// receiver's full buffers: what is left is the length errors.
	length := u.UDPInErrors.Load() - u.UDPInCsumErrors.Load() - rcvbuf - u.udpParseErrors.Load()
	a := Accounting{
		Frames: nic.Rx.Packets.Value() + nic.DisabledRx.Packets.Value(),
		Outcomes: []Outcome{
			{Delivered, OutUDP, u.UDPInDatagrams.Load() - rcvbuf},
			{Delivered, OutICMPEchoReply, icmp.EchoReply.Value() - u.icmpEchoReplyNoSocket.Load()},
			{Answered, OutEchoRequest, icmp.EchoRequest.Value()},
			{Answered, OutUDPPortUnreach, u.UDPNoPorts.Load()},
			{Answered, OutProtoUnreach, sumMap(nic.UnknownL4ProtocolRcvdPacketCounts)},
			{Answered, OutTCPReset, u.tcpResetsAnswered.Load()},
			{Consumed, OutARP, arp.PacketsReceived.Value() - arp.MalformedPacketsReceived.Value() - arp.DisabledPacketsReceived.Value()},
			{Consumed, OutIGMP, igmp.MembershipQuery.Value() + igmp.V1MembershipReport.Value() + igmp.V2MembershipReport.Value() +
				igmp.V3MembershipReport.Value() + igmp.LeaveGroup.Value() + igmp.Unrecognized.Value()},
			{Consumed, OutICMPError, icmp.DstUnreachable.Value() + icmp.SrcQuench.Value() + icmp.Redirect.Value() +
				icmp.TimeExceeded.Value() + icmp.ParamProblem.Value()},
			{Consumed, OutICMPOther, icmp.Timestamp.Value() + icmp.TimestampReply.Value() + icmp.InfoRequest.Value() + icmp.InfoReply.Value()},
			{Consumed, OutTCPSegment, st.TCP.ValidSegmentsReceived.Value()},
			{Dropped, DropLinkDisabled, nic.DisabledRx.Packets.Value()},
			{Dropped, DropUnknownL3, sumMap(nic.UnknownL3ProtocolRcvdPacketCounts)},
			{Dropped, DropARPMalformed, arp.MalformedPacketsReceived.Value()},
			{Dropped, DropARPDisabled, arp.DisabledPacketsReceived.Value()},
			{Dropped, DropIPDisabled, ip.DisabledPacketsReceived.Value()},
			{Dropped, DropIPMalformed, ip.MalformedPacketsReceived.Value()},
			{Dropped, DropIPSource, ip.InvalidSourceAddressesReceived.Value()},
			{Dropped, DropIPDestination, ip.InvalidDestinationAddressesReceived.Value()},
			{Dropped, DropIPTables, ip.IPTablesPreroutingDropped.Value() + ip.IPTablesInputDropped.Value()},
			{Dropped, DropL4Malformed, nic.MalformedL4RcvdPackets.Value()},
			{Dropped, DropICMPInvalid, icmp.Invalid.Value()},
			{Dropped, DropIGMPChecksum, igmp.ChecksumErrors.Value()},
			{Dropped, DropUDPChecksum, u.UDPInCsumErrors.Load()},
			{Dropped, DropUDPLength, length},
			{Dropped, DropUDPRcvbuf, rcvbuf},
			{Dropped, DropUDPNoSocketMult, u.UDPIgnoredMulti.Load()},
			{Dropped, DropUDPMcastFilter, u.udpMcastFiltered.Load()},
			{Dropped, DropTCPChecksum, st.TCP.ChecksumErrors.Value()},
			{Dropped, DropTCPInvalid, st.TCP.InvalidSegmentsReceived.Value()},
			{Dropped, DropTCPResetNoSock, u.tcpResetsNoSocket.Load()},
			{Dropped, DropEchoReplyNoSock, u.icmpEchoReplyNoSocket.Load()},
		},
	}
	return a
}

func sumMap(m *tcpip.IntegralStatCounterMap) uint64 {
	var n uint64
	for _, k := range m.Keys() {
		if c, ok := m.Get(k); ok {
			n += c.Value()
		}
	}
	return n
}
