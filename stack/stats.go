package stack

import "sync/atomic"

// Stats are the stack's UDP counters, named after the Udp: fields of
// /proc/net/snmp, and the TcpExt: counter of /proc/net/netstat that only
// the stack sees. The stack counts what it sees; a receiver that drops a
// delivered datagram (full receive buffer) adds to UDPRcvbufErrors and
// UDPInErrors itself. Deviation: Linux counts InDatagrams when recvmsg
// dequeues, the stack counts it on delivery to the receiver.
type Stats struct {
	UDPInDatagrams  atomic.Uint64 // datagrams delivered to a socket
	UDPNoPorts      atomic.Uint64 // datagrams to a port with no socket
	UDPInErrors     atomic.Uint64 // datagrams dropped for bad length, checksum or full buffer
	UDPOutDatagrams atomic.Uint64 // datagrams sent
	UDPRcvbufErrors atomic.Uint64 // datagrams dropped because a receive buffer was full
	UDPSndbufErrors atomic.Uint64 // datagrams a full device queue dropped, reported as sent (no IP_RECVERR)
	UDPInCsumErrors atomic.Uint64 // datagrams dropped for a bad checksum
	UDPIgnoredMulti atomic.Uint64 // broadcast/multicast datagrams no socket wanted

	TCPMinTTLDrop atomic.Uint64 // TCP segments dropped for IP_MINTTL (tcp_minttl.go)

	// Counters of inbound outcomes gVisor does not count (accounting.go).
	udpParseErrors        atomic.Uint64 // datagrams Parse refused (also in UDPInErrors)
	udpMcastFiltered      atomic.Uint64 // multicast datagrams a source filter refused
	tcpResetsAnswered     atomic.Uint64 // segments to no socket answered with RST
	tcpResetsNoSocket     atomic.Uint64 // RSTs to no socket, dropped
	icmpEchoReplyNoSocket atomic.Uint64 // echo replies no ping socket wanted
	mldDropped            atomic.Uint64 // malformed or invalid MLD messages (mld_query.go)
}
