// Package scenarios holds the differential conformance scenarios: each is a
// small function written once against harness.Env and run on a kernel host
// and on a netsandbox host.
package scenarios

import "netsandbox/test/harness"

// All returns every scenario in a fixed order (the order sets each
// scenario's private port block, so append new groups at the end). A
// group's file may hold several of these lists where the group's
// scenarios were registered at different places.
func All() []harness.Scenario {
	var all []harness.Scenario
	for _, group := range [][]harness.Scenario{
		socketScenarios(),
		bindScenarios(),
		connectScenarios(),
		udpScenarios(),
		shutdownScenarios(),
		tcpScenarios(),
		sockOptScenarios(),
		ipOptScenarios(),
		rawScenarios(),
		cmsgScenarios(),
		defaultScenarios(),
		wireScenarios(),
		icmpScenarios(),
		mcastScenarios(),
		udpReceiveScenarios(),
		bindFreebindScenarios(),
		sysctlIPScenarios(),
		mcastGroupAPIScenarios(),
		blockingScenarios(),
		cmsgSendPktinfoScenarios(),
		recvOrigDstScenarios(),
		ipoptMinTTLScenarios(),
		mcastTTLWireScenarios(),
		pingBoundIdentScenarios(),
		rawReceiveFilterScenarios(),
		querierScenarios(),
		tcpRebindScenarios(),
		udpAnyDestScenarios(),
		icmpLocalScenarios(),
		recvCmsgScenarios(),
		mcastFilterScenarios(),
		errQueueScenarios(),
		ipOptionsScenarios(),
		mcastSequenceScenarios(),
		cmsgSendScenarios(),
		ioctlScenarios(),
		errnoScenarios(),
		rowScenarios(),
		ipIDScenarios(),
		igmpCompatScenarios(),
		ipv6MappedScenarios(),
		ipv6HdrInclScenarios(),
		ipv6McastKindScenarios(), // ipv6_mcast_kinds.go
		ipv6RFC4884Scenarios(),   // ipv6_rfc4884.go
		igmpKnobScenarios(),
		tcpMaxsegScenarios(),
		tcpOptScenarios(),
		forwardingScenarios(),
		udpliteScenarios(),
		sockCmsgSendScenarios(),
		ipv6Scenarios(), // ipv6.go
		tcpBacklogScenarios(),
		ipv6RawPingScenarios(),       // ipv6_raw_ping.go
		ipv6HopcountUcastScenarios(), // ipv6_hopcount_ucast.go
		udplite6Scenarios(),          // udplite6.go
		ipv6ICMPErrorScenarios(),     // ipv6_icmp6err.go
		ipv6FragScenarios(),          // ipv6_frag.go
		ipv6McastFilterScenarios(),   // ipv6_mcast_filters.go
		mldScenarios(),               // ipv6_mld.go
		ipv6NonLocalScenarios(),      // ipv6_nonlocal.go
		nonLocalSourceScenarios(),    // ipv6_nonlocal.go
		ipv6SrcPrefsScenarios(),      // ipv6_srcprefs.go
		rawPingMTUScenarios(),        // ipv6_frag.go
	} {
		all = append(all, group...)
	}
	return all
}

// Expected maps scenario names to the reason netsandbox must differ from
// Linux there. Keep it empty unless a difference is deliberate.
var Expected = map[string]string{
	// Missing: gVisor's TCP has no urgent data, so MSG_OOB is refused rather
	// than faked.
	"blocking/tcp-waitall-and-peek": "missing: send(MSG_OOB) on TCP answers EOPNOTSUPP (gVisor TCP has no urgent data)",
	// Missing: no transmit timestamps are taken, so a message asking for
	// them is refused rather than ignored.
	"cmsg/send-sol-socket-udp-tx-timestamp": "missing: sendmsg with a SO_TIMESTAMPING message carrying SOF_TIMESTAMPING_TX_* flags answers EINVAL (netsandbox queues no transmit timestamps)",
	// Missing: gVisor registers raw endpoints under a transport protocol,
	// and it has none numbered 255.
	// Missing: gVisor's routes refuse a source no NIC has unless the NIC
	// spoofs, which would make it answer ARP for every address.
	"bind/nonlocal-source":         "missing: a TCP connect, and an AF_INET6 raw or ping send, from an address bound under IP_FREEBIND/IPV6_FREEBIND answer EADDRNOTAVAIL (gVisor routes no source its NICs lack); Linux sends from it (a TCP connect to ::1 waits: EINPROGRESS at SO_SNDTIMEO; to 127.0.0.1 ENETUNREACH)",
	"ipv6/raw-ipproto-raw-receive": "missing: an AF_INET6 IPPROTO_RAW socket receives nothing (gVisor has no transport of protocol 255 to register a receiving raw endpoint under); Linux delivers packets of next header 255 to it",
}
