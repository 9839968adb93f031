package endpoint

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"netsandbox/stack"
)

// sendFragmented sends a raw or ping socket's datagram larger than its
// output MTU, which gVisor's endpoints refuse (raw) or cut at the device
// MTU (ping) where Linux fragments at the path MTU
// (Stack.SendRaw6Fragmented); handled is false for one that fits. It
// takes the header values the endpoint would: IPV6_PKTINFO's source and
// interface, else the bound address and oif (the destination's scope,
// the multicast or bound interface); the message's hop limit and
// traffic class, else the socket's. checksumAt is where the checksum
// goes (-1: none); ident is a ping socket's identifier (-1: none).
func (k *sock6) sendFragmented(p []byte, dst netip.Addr, oif int, wo tcpip.WriteOptions, tclass, checksumAt, ident int) (handled bool, n int, err error) {
	if header.IPv6MinimumSize+len(p) <= ipv6MinMTU {
		return false, 0, nil // within every MTU: the common send costs nothing here
	}
	k.optMu.Lock()
	v := k.v6
	k.optMu.Unlock()
	var src netip.Addr
	if fa, e := k.endpoint().GetLocalAddress(); e == nil && fa.Addr.Len() == 16 {
		src = netip.AddrFrom16(fa.Addr.As16())
	}
	cm := wo.ControlMessages
	if cm.HasIPv6PacketInfo {
		if cm.IPv6PacketInfo.NIC != 0 {
			oif = int(cm.IPv6PacketInfo.NIC)
		}
		if cm.IPv6PacketInfo.Addr.Len() == 16 {
			src = netip.AddrFrom16(cm.IPv6PacketInfo.Addr.As16())
		}
	}
	hop := v.unicastHops
	if dst.IsMulticast() {
		hop = v.mcastHops
		if oif == 0 {
			oif = v.mcastIf
		}
	}
	if oif == 0 {
		oif = k.optsSnapshot().bindIf
	}
	if cm.HasHopLimit {
		hop = int(cm.HopLimit)
	}
	if tclass < 0 {
		tclass = v.tclass
	}
	m := stack.Raw6Send{
		Src: src, Dst: dst, IfIndex: oif, MulticastLoop: v.mcastLoop,
		Proto: uint8(k.proto), TClass: uint8(tclass), HopLimit: hop,
		ChecksumAt: checksumAt, EchoIdent: ident,
		PMTU: stack.PMTUMode(v.pmtudisc), FragSize: v.fragSize, Payload: p,
	}
	if e := k.takeErr6(); e != 0 {
		return true, 0, e // sock_alloc_send_skb meets a pending error
	}
	handled, err = k.s.SendRaw6Fragmented(&m)
	if !handled || err != nil {
		return handled, 0, err
	}
	return true, len(p), nil
}

// rawChecksumAt is where a raw socket's datagram carries its checksum:
// ICMPv6's at 2 always, else IPV6_CHECKSUM's offset (-1: none).
func (r *raw6Sock) rawChecksumAt() int {
	r.optMu.Lock()
	defer r.optMu.Unlock()
	return r.csumOffset
}

// pingChecksumAt is an ICMPv6 echo's checksum offset.
const pingChecksumAt = 2
