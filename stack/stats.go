package stack

import "sync/atomic"

// Stats are the stack's UDP counters, named after the Udp: fields of
// /proc/net/snmp.
type Stats struct {
	UDPInDatagrams  atomic.Uint64 // datagrams delivered to a socket
	UDPNoPorts      atomic.Uint64 // datagrams to a port with no socket
	UDPInErrors     atomic.Uint64 // datagrams dropped for bad length, checksum or full buffer
	UDPOutDatagrams atomic.Uint64 // datagrams sent
	UDPRcvbufErrors atomic.Uint64 // datagrams dropped because a receive buffer was full
	UDPInCsumErrors atomic.Uint64 // datagrams dropped for a bad checksum
	UDPIgnoredMulti atomic.Uint64 // broadcast/multicast datagrams no socket wanted
}
