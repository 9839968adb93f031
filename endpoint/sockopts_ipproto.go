package endpoint

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/options"
)

// IP_PROTOCOL reads inet_num (do_ip_getsockopt), which is not the
// protocol for every socket: a raw socket's is its protocol, a TCP or UDP
// socket's its local port (0 until it has one), a ping socket's its
// identifier. It cannot be set (ENOPROTOOPT, as any unknown option).

// getIPProtocol answers IP_PROTOCOL on a raw socket.
func (g *rawSock) getIPProtocol(buf []byte) (int, error) {
	return options.PutIPInt(buf, int32(g.proto)), nil
}

// getIPProtocol answers IP_PROTOCOL on a ping socket: its identifier.
func (p *pingSock) getIPProtocol(buf []byte) (int, error) {
	return options.PutIPInt(buf, int32(sockaddrPort(p.GetSockName()))), nil
}

// getIPProtocol answers IP_PROTOCOL on a TCP socket.
func (t *tcpSock) getIPProtocol(buf []byte) (int, error) {
	port := sockaddrPort(t.GetSockName())
	switch tcp.EndpointState(t.endpoint().State()) {
	case tcp.StateClose, tcp.StateError:
		// tcp_set_state(TCP_CLOSE) gives back a port bind(2) did not
		// name (inet_put_port clears inet_num).
		t.mu.Lock()
		named := t.bound.Port() != 0
		t.mu.Unlock()
		if !named {
			port = 0
		}
	}
	return options.PutIPInt(buf, int32(port)), nil
}

// getIPProtocol answers IP_PROTOCOL on a UDP socket.
func (u *udpSock) getIPProtocol(buf []byte) (int, error) {
	return options.PutIPInt(buf, int32(sockaddrPort(u.GetSockName()))), nil
}

// getIPMTU is IP_MTU on a UDP socket: the path MTU of a connected
// socket's route, ENOTCONN without a peer. The other sockets' is
// gsock.getIPMTU, in gsock_opts.go.
func (u *udpSock) getIPMTU(buf []byte) (int, error) {
	u.bindMu.Lock()
	remote := u.remote
	var local netip.Addr
	if u.binding != nil {
		local = u.binding.Local().Addr()
	}
	u.bindMu.Unlock()
	if !remote.IsValid() {
		return 0, unix.ENOTCONN
	}
	mtu, err := u.s.PathMTU(local, remote.Addr(), u.optsSnapshot().bindIf)
	if err != nil || mtu == 0 {
		return 0, unix.ENOTCONN
	}
	return options.PutIPInt(buf, int32(mtu)), nil
}

// sockaddrPort is the port of a getsockname answer, 0 on error.
func sockaddrPort(sa []byte, err error) int {
	if err != nil || len(sa) < 4 {
		return 0
	}
	return int(binary.BigEndian.Uint16(sa[2:4]))
}

// getIPPktoptions is IP_PKTOPTIONS on a TCP socket: the control messages
// recvmsg would carry for the flags set (do_ip_getsockopt), built from the
// socket, packed into optlen bytes as put_cmsg packs them: IP_PKTINFO
// with the local IPv4 address (rcvSaddr4) and the multicast interface (never set on TCP,
// so 0), IP_TTL with the multicast TTL (likewise always 1), IP_TOS with
// the TOS of the segment that completed the handshake (rcv_tos, set by
// tcp_v4_syn_recv_sock). gVisor does not keep that TOS, so an accepted
// socket reports 0 as a connecting one does; Linux reports the peer's
// handshake ACK's TOS there.
func (t *tcpSock) getIPPktoptions(buf []byte) (int, error) {
	f := t.rx()
	b := options.NewCmsgBuilder(buf)
	if f&rxPktinfo != 0 {
		var pi [12]byte // struct in_pktinfo: ifindex, spec_dst, addr
		a := t.rcvSaddr4().As4()
		copy(pi[4:8], a[:])
		copy(pi[8:12], a[:])
		b.Put(unix.SOL_IP, unix.IP_PKTINFO, pi[:])
	}
	if f&rxTTL != 0 {
		b.PutInt32(unix.SOL_IP, unix.IP_TTL, 1)
	}
	if f&rxTOS != 0 {
		b.PutInt32(unix.SOL_IP, unix.IP_TOS, 0)
	}
	return b.Len(), nil
}
