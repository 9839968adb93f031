package fdbased

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// A packet socket with PACKET_VNET_HDR hands over a train of UDP
// datagrams sent with UDP_SEGMENT (a VIRTIO_NET_HDR_GSO_UDP_L4 frame)
// whole: one IP and one UDP header, then gso_size bytes for every datagram
// but the last. (A TAP never does: we do not offer TUN_F_USO4.) Delivered
// as it is, the train would reach a socket as one datagram; it is cut into
// the datagrams the sender wrote, each with its own lengths, IPv4
// identifier and checksums, as the kernel's __udp_gso_segment does before
// a device that cannot take the train.

const vnetGSOUDPL4 = 5 // VIRTIO_NET_HDR_GSO_UDP_L4

// splitUDPGSO cuts frame (Ethernet, IPv4 or IPv6 without extension
// headers, UDP) into datagrams of gsoSize payload bytes. false for a frame
// that is not such a train: the caller drops it.
func splitUDPGSO(frame []byte, gsoSize int) ([][]byte, bool) {
	const eth = header.EthernetMinimumSize
	if gsoSize <= 0 || len(frame) < eth {
		return nil, false
	}
	var ipLen int
	var src, dst tcpip.Address
	v4 := header.Ethernet(frame).Type() == header.IPv4ProtocolNumber
	switch header.Ethernet(frame).Type() {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(frame[eth:])
		if len(ip) < header.IPv4MinimumSize || !ip.IsValid(len(ip)) ||
			ip.TransportProtocol() != header.UDPProtocolNumber || ip.More() || ip.FragmentOffset() != 0 {
			return nil, false
		}
		ipLen = int(ip.HeaderLength())
		frame = frame[:eth+int(ip.TotalLength())]
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
	case header.IPv6ProtocolNumber:
		ip := header.IPv6(frame[eth:])
		if !ip.IsValid(len(ip)) || ip.NextHeader() != uint8(header.UDPProtocolNumber) { // no extension headers
			return nil, false
		}
		ipLen = header.IPv6MinimumSize
		frame = frame[:eth+ipLen+int(ip.PayloadLength())]
		src, dst = ip.SourceAddress(), ip.DestinationAddress()
	default:
		return nil, false
	}
	hdrs := eth + ipLen + header.UDPMinimumSize
	if len(frame) < hdrs {
		return nil, false
	}
	payload := frame[hdrs:]
	segs := make([][]byte, 0, (len(payload)+gsoSize-1)/gsoSize)
	for i := 0; len(payload) > 0; i++ {
		chunk := payload[:min(gsoSize, len(payload))]
		payload = payload[len(chunk):]
		seg := make([]byte, hdrs+len(chunk))
		copy(seg, frame[:hdrs])
		copy(seg[hdrs:], chunk)
		udpLen := header.UDPMinimumSize + len(chunk)
		if v4 {
			ip := header.IPv4(seg[eth:])
			ip.SetTotalLength(uint16(ipLen + udpLen))
			ip.SetID(ip.ID() + uint16(i))
			ip.SetChecksum(0)
			ip.SetChecksum(^ip.CalculateChecksum())
		} else {
			binary.BigEndian.PutUint16(seg[eth+4:], uint16(udpLen)) // payload length
		}
		u := header.UDP(seg[eth+ipLen:])
		u.SetLength(uint16(udpLen))
		u.SetChecksum(0)
		sum := header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, uint16(udpLen))
		sum = checksum.Checksum(seg[eth+ipLen:], sum)
		if sum != 0xffff {
			sum = ^sum
		}
		u.SetChecksum(sum) // a sum of 0 is sent as 0xffff (RFC 768)
		segs = append(segs, seg)
	}
	return segs, true
}

// deliverUDPGSO delivers the datagrams of a GSO_UDP_L4 frame (the n bytes
// the reader holds), or drops a frame that is not a UDP train.
func (e *vnetEndpoint) deliverUDPGSO(d stack.NetworkDispatcher, rx *rxBuffers, n int) {
	b := rx.take(n)
	frame := b.Flatten()
	b.Release()
	segs, ok := splitUDPGSO(frame, int(binary.LittleEndian.Uint16(rx.hdr[4:])))
	if !ok {
		e.gsoDropped.Add(1)
		return
	}
	for _, seg := range segs {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(seg)})
		e.deliver(d, pkt)
		pkt.DecRef()
	}
}
