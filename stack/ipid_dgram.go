package stack

import (
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// DatagramIPID is the IP ID state of one raw, ping or UDP socket (ipid.go).
// The socket layer makes it the owner of the gVisor endpoint's packets
// (SetOwner), so the IPv4 hook (ipv4_hook.go) finds it on every packet
// gVisor builds for the socket, and passes it to SendRawIP for the headers
// the stack builds. Connected, the socket numbers its datagrams from its
// own counter, which each connect starts at a random value and each
// datagram advances before taking it (atomic_add_return in
// ip_select_ident_segs);
// unconnected, a datagram gets ID 0 only with DF in IP_PMTUDISC_DO or
// PROBE mode (skb->ignore_df is set in the other modes), else a non-zero
// one.
type DatagramIPID struct {
	s    *Stack
	so   *tcpip.SocketOptions
	conn atomic.Bool
	mode atomic.Int32 // PMTUMode
	next atomic.Uint32
}

// NewDatagramIPID gives the raw or ICMP endpoint ep its IP ID state and
// makes it the owner of ep's packets.
func (s *Stack) NewDatagramIPID(ep tcpip.Endpoint) *DatagramIPID {
	d := s.NewSocketIPID()
	d.so = ep.SocketOptions()
	ep.SetOwner(d)
	return d
}

// NewSocketIPID is the IP ID state of a socket whose headers the stack
// builds (UDP, UDPSend.IPID).
func (s *Stack) NewSocketIPID() *DatagramIPID {
	d := &DatagramIPID{s: s}
	d.mode.Store(int32(PMTUWant))
	return d
}

// datagramIPID is the ID of a datagram whose header the stack builds and
// that is not to carry 0: the socket's counter when it is connected, else
// the stack's.
func (s *Stack) datagramIPID(d *DatagramIPID, connected bool) uint16 {
	if connected && d != nil {
		return d.take()
	}
	return s.nextIPID()
}

// KUID is tcpip.PacketOwner's; the stack has no iptables owner rules.
func (d *DatagramIPID) KUID() uint32 { return 0 }

// KGID is tcpip.PacketOwner's.
func (d *DatagramIPID) KGID() uint32 { return 0 }

// Connected is connect(2) succeeding (ip4_datagram_connect): a new
// random start. d may be nil (a socket without the state).
func (d *DatagramIPID) Connected() {
	if d == nil {
		return
	}
	d.next.Store(randomIPID())
	d.conn.Store(true)
}

// Disconnected is connect(AF_UNSPEC).
func (d *DatagramIPID) Disconnected() {
	if d != nil {
		d.conn.Store(false)
	}
}

// SetPMTUMode records the socket's IP_MTU_DISCOVER mode.
func (d *DatagramIPID) SetPMTUMode(m PMTUMode) {
	if d != nil {
		d.mode.Store(int32(m))
	}
}

// take advances the counter and returns its new value.
func (d *DatagramIPID) take() uint16 { return uint16(d.next.Add(1)) }

// stamp numbers a datagram gVisor built for the socket.
func (d *DatagramIPID) stamp(ip header.IPv4) {
	if d.so != nil && d.so.GetHeaderIncluded() {
		// raw_send_hdrinc keeps the caller's ID (gVisor fills a zero
		// one as Linux does).
		return
	}
	if d.conn.Load() {
		setIPID(ip, d.take())
		return
	}
	if ip.ID() != 0 {
		return // no DF: gVisor's random ID
	}
	if m := PMTUMode(d.mode.Load()); ip.Flags()&header.IPv4FlagDontFragment != 0 && (m == PMTUDo || m == PMTUProbe) {
		return
	}
	setIPID(ip, d.s.nextIPID())
}
