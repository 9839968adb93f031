package endpoint

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/options"
	"netsandbox/stack"
)

// IPV6_RECVPATHMTU and IPV6_PATHMTU on AF_INET6 UDP (RFC 3542, 11): a
// send that IPV6_DONTFRAG refuses leaves the MTU it met for the
// next recvmsg, which returns it instead of data (ipv6_local_rxpmtu,
// ipv6_recv_rxpmtu); getsockopt(IPV6_PATHMTU) reads a connected
// socket's.

// pathMTUNote is ipv6_local_rxpmtu's skb: where the send went, by which
// interface, the MTU and when.
type pathMTUNote struct {
	dst   netip.Addr
	oif   uint32
	mtu   int
	stamp int64
}

// sizeofIP6MTUInfo is sizeof(struct ip6_mtuinfo): a sockaddr_in6 and the
// MTU.
const sizeofIP6MTUInfo = unix.SizeofSockaddrInet6 + 4

// notePathMTU keeps the MTU a send refused under IPV6_DONTFRAG met
// (whatever IPV6_MTU_DISCOVER says: __ip6_append_data checks
// IPV6_DONTFRAG first), when IPV6_RECVPATHMTU asks for it; a later one
// replaces it.
func (k *udp6) notePathMTU(err error, m *stack.UDPSend) {
	if err != unix.EMSGSIZE || !m.DontFrag || !m.Dst.Addr().Is6() {
		return
	}
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	if !k.v6.rxPathMTU {
		return
	}
	k.rxpmtu = &pathMTUNote{dst: m.Dst.Addr(), oif: uint32(m.IfIndex), mtu: k.sendMTU(m), stamp: time.Now().UnixNano()}
}

// takePathMTUNote hands the kept path MTU to recvmsg once, if
// IPV6_RECVPATHMTU is on.
func (k *udp6) takePathMTUNote() *pathMTUNote {
	k.v6mu.Lock()
	defer k.v6mu.Unlock()
	n := k.rxpmtu
	if n == nil || !k.v6.rxPathMTU {
		return nil
	}
	k.rxpmtu = nil
	return n
}

// ip6MTUInfo encodes a struct ip6_mtuinfo.
func ip6MTUInfo(dst netip.Addr, scope uint32, mtu int) []byte {
	b := make([]byte, sizeofIP6MTUInfo)
	if dst.IsValid() {
		copy(b, options.SockaddrIn6Bytes(netip.AddrPortFrom(dst, 0), scope))
	}
	binary.NativeEndian.PutUint32(b[unix.SizeofSockaddrInet6:], uint32(mtu))
	return b
}

// recvPathMTU is ipv6_recv_rxpmtu: no data, msg_name the destination
// with the interface as its scope id, the timestamp, and IPV6_PATHMTU.
func (k *udp6) recvPathMTU(n *pathMTUNote, oob []byte) (int, int, int, []byte, error) {
	cb := options.NewCmsgBuilder(oob)
	putTimestamp(&cb, k.rx(), n.stamp)
	cb.Put(unix.SOL_IPV6, unix.IPV6_PATHMTU, ip6MTUInfo(n.dst, n.oif, n.mtu))
	return 0, cb.Len(), cb.Flags(), options.SockaddrIn6Bytes(netip.AddrPortFrom(n.dst, 0), n.oif), nil
}

// putPathMTUInfo answers getsockopt(IPV6_PATHMTU) for a socket of any
// kind: a buffer shorter than struct ip6_mtuinfo is EINVAL, no cached
// route ENOTCONN, else the MTU with a zero address.
func putPathMTUInfo(buf []byte, pathMTU func() (int, error)) (int, error) {
	if len(buf) < sizeofIP6MTUInfo {
		return 0, unix.EINVAL
	}
	mtu, err := pathMTU()
	if err != nil {
		return 0, err
	}
	return copy(buf, ip6MTUInfo(netip.Addr{}, 0, mtu)), nil
}

// sendMTU is the MTU a send to an IPv6 destination is held to
// (ip6_setup_cork's fragsize): the path MTU below IPV6_PMTUDISC_PROBE,
// the device MTU from it on, lowered to IPV6_MTU; what an EMSGSIZE
// reports. An IPv4 destination's is udpSock's.
func (k *udp6) sendMTU(m *stack.UDPSend) int {
	if !m.Dst.Addr().Is6() {
		return k.udpSock.sendMTU(m)
	}
	mtu, err := k.s.SendMTU6(m)
	if err != nil {
		return 0
	}
	return mtu
}
