package fuzz

import (
	"net/netip"
)

// frameSeed is one named FuzzFrames input.
type frameSeed struct {
	name string
	data []byte
}

// frameSeeds are well-formed starting points for FuzzFrames, one input per
// situation the stack must survive; the fuzzer mutates from there.
func frameSeeds() []frameSeed {
	fix := byte(fixIPChecksum | fixL4Checksum)
	peer := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(peerAddr, port) }
	local := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(localAddr, port) }
	toUs := ipv4{src: peerAddr, dst: localAddr, proto: 17, id: 1}
	arpReply := encodeFrame(nil, linkARP, arp(2, []byte(peerMAC), peerAddr, []byte(localMAC), localAddr))

	var seeds []frameSeed
	add := func(name string, records ...[]byte) {
		var in []byte
		for _, r := range records {
			in = append(in, r...)
		}
		seeds = append(seeds, frameSeed{name, in})
	}
	rec := func(flags byte, body []byte) []byte { return encodeFrame(nil, flags, body) }

	// UDP to each socket, broadcast and multicast.
	add("udp-bound", rec(fix, toUs.packet(udp(6000, portBound, []byte("hello")))))
	add("udp-connected", rec(fix, toUs.packet(udp(6000, portConnected, []byte("to connected")))))
	add("udp-recverr", rec(fix, toUs.packet(udp(6001, portRecvErr, nil))))
	bcast := toUs
	bcast.dst = netip.MustParseAddr("198.18.0.255")
	add("udp-broadcast", rec(fix|linkBroadcast, bcast.packet(udp(6000, portBound, []byte("bcast")))))
	mcast := toUs
	mcast.dst, mcast.ttl = mcastGroup, 1
	mpkt := mcast.packet(udp(6000, portBound, []byte("mcast")))
	fixTransportChecksum(mpkt)
	fixIPv4Checksum(mpkt)
	add("udp-multicast", rec(linkRaw, ethernet([]byte{0x01, 0x00, 0x5e, 0x01, 0x01, 0x01}, 0x0800, mpkt)))
	groupFrame := func(src, group netip.Addr, payload string) []byte {
		h := toUs
		h.src, h.dst, h.ttl = src, group, 1
		p := h.packet(udp(6000, portBound, []byte(payload)))
		fixTransportChecksum(p)
		fixIPv4Checksum(p)
		a := group.As4()
		return rec(linkRaw, ethernet([]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}, 0x0800, p))
	}
	add("udp-multicast-blocked-source", groupFrame(blockedSource, mcastGroup, "blocked"))
	add("udp-ssm", groupFrame(peerAddr, ssmGroup, "ssm"), groupFrame(blockedSource, ssmGroup, "not included"))
	add("udp-no-port", rec(fix, toUs.packet(udp(6000, 9, []byte("no port")))))

	// IP options: record route, timestamp, router alert, a source route.
	opts := toUs
	opts.options = []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x94, 4, 0, 0, 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	add("udp-ip-options", rec(fix, opts.packet(udp(6000, portBound, []byte("options")))))
	lsrr := toUs
	lsrr.options = []byte{0x83, 7, 4, 198, 18, 0, 9, 1}
	add("udp-lsrr", rec(fix, lsrr.packet(udp(6000, portBound, []byte("lsrr")))))

	// A datagram in three fragments, out of order, and an overlapping pair.
	whole := udpChecksummed(peer(6000), local(portBound), make([]byte, 2000))
	frag := func(off, end int, more bool) []byte {
		h := toUs
		h.id, h.fragOff, h.more = 77, uint16(off), more
		return rec(fixIPChecksum, h.packet(whole[off:end]))
	}
	add("frags-out-of-order", frag(1480, len(whole), false), frag(0, 744, true), frag(744, 1480, true))
	add("frags-overlap", frag(0, 1000, true), frag(992, len(whole), false))

	// ICMP errors quoting the UDP datagrams our sockets sent.
	quote := func(src, dst netip.AddrPort, proto byte, l4 []byte) []byte {
		return ipv4{src: src.Addr(), dst: dst.Addr(), proto: proto, id: 9}.packet(l4)
	}
	icmpTo := ipv4{src: peerAddr, dst: localAddr, proto: 1, id: 2}
	sent := quote(local(portConnected), peer(6000), 17, udp(portConnected, 6000, []byte("payload")))
	add("icmp-port-unreach", rec(fix, icmpTo.packet(icmp(3, 3, 0, sent))))                                   // port unreachable
	add("icmp-frag-needed", rec(fix, icmpTo.packet(icmp(3, 4, 576, quote(local(portRecvErr), peer(6001), 17, // frag needed
		udp(portRecvErr, 6001, make([]byte, 1000)))))))
	add("icmp-time-exceeded", rec(fix, icmpTo.packet(icmp(11, 0, 0, quote(local(portRecvErr), peer(6001), 17, udp(portRecvErr, 6001, nil)))))) // time exceeded
	add("icmp-host-unreach-short", rec(fix, icmpTo.packet(icmp(3, 1, 0, sent[:28]))))                                                          // host unreachable, header only
	add("icmp-param-problem", rec(fix, icmpTo.packet(icmp(12, 0, 0x14000000, sent))))                                                          // parameter problem
	add("icmp-port-unreach-tcp", rec(fix, icmpTo.packet(icmp(3, 3, 0, quote(local(portTCPClient), peer(7000), 6,
		tcpSegment(portTCPClient, 7000, 1, 0, 0x02))))))

	// ICMP echo request to us and an echo reply for the ping socket.
	add("icmp-echo-request", rec(fix, icmpTo.packet(icmp(8, 0, 0x00010001, []byte("ping")))))
	add("icmp-echo-reply", rec(fix, icmpTo.packet(icmp(0, 0, pingIdent<<16|1, []byte("pong")))))

	// IGMP queries: v2 general, v3 general, v3 group-and-source specific,
	// each to 224.0.0.1 with the router alert option and TTL 1.
	igmpTo := ipv4{src: peerAddr, dst: netip.MustParseAddr("224.0.0.1"), proto: 2, ttl: 1, options: []byte{0x94, 4, 0, 0}}
	allHosts := []byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}
	igmpFrame := func(dst netip.Addr, body []byte) []byte {
		h := igmpTo
		h.dst = dst
		p := h.packet(body)
		fixTransportChecksum(p)
		fixIPv4Checksum(p)
		return rec(linkRaw, ethernet(allHosts, 0x0800, p))
	}
	g := mcastGroup.As4()
	add("igmp-v2-query", igmpFrame(igmpTo.dst, []byte{0x11, 100, 0, 0, 0, 0, 0, 0}))
	add("igmp-v3-query", igmpFrame(igmpTo.dst, []byte{0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0}))
	add("igmp-v3-group-source-query", igmpFrame(mcastGroup, []byte{0x11, 10, 0, 0, g[0], g[1], g[2], g[3], 2, 125, 0, 2, 198, 18, 0, 1, 198, 18, 0, 7}))

	// TCP: a SYN to the listener after the peer's ARP reply, and a RST and
	// a bare SYN-ACK to the connecting client.
	tcpTo := ipv4{src: peerAddr, dst: localAddr, proto: 6, id: 3}
	add("tcp-syn-listener", arpReply, rec(fix, tcpTo.packet(tcpSegment(33333, portListen, 1000, 0, 0x02))))
	// ... with IP options, which the SYN-ACK echoes (ip_options_echo).
	tcpOpts := tcpTo
	tcpOpts.options = []byte{7, 11, 8, 198, 18, 0, 1, 0, 0, 0, 0, 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	add("tcp-syn-listener-ip-options", arpReply, rec(fix, tcpOpts.packet(tcpSegment(33334, portListen, 1000, 0, 0x02))))
	add("tcp-synack-client", arpReply, rec(fix, tcpTo.packet(tcpSegment(7000, portTCPClient, 5000, 1, 0x12))))
	add("tcp-rst-client", rec(fix, tcpTo.packet(tcpSegment(7000, portTCPClient, 0, 0, 0x04))))

	// ARP: a request for our address; malformed IPv4 (short header, IHL
	// past the end, total length past the end, a bad checksum).
	add("arp-request", rec(linkARP, arp(1, []byte(peerMAC), peerAddr, make([]byte, 6), localAddr)))
	short := toUs.packet(udp(6000, portBound, []byte("x")))
	add("ipv4-short", rec(linkUnicast, short[:12]))
	ihl := append([]byte(nil), short...)
	ihl[0] = 0x4f
	add("ipv4-ihl-past-end", rec(fixIPChecksum, ihl))
	long := append([]byte(nil), short...)
	long[2], long[3] = 0x10, 0
	add("ipv4-total-length-past-end", rec(fixIPChecksum, long))
	add("ipv4-bad-checksum", rec(linkUnicast, short))
	return seeds
}
