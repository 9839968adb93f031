package stack

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IP_RECVFRAGSIZE: Linux notes in IPCB(skb)->frag_max_size the largest
// fragment (its IP total length, header included) of a datagram it
// reassembled, and recvmsg reports it. gVisor reassembles without keeping
// the fragments' sizes, so each NIC is wrapped (fragTap) to watch the
// fragments as they arrive; the table keeps, per datagram (source,
// destination, IP ID, protocol), the largest size, the payload bytes seen
// and the datagram's length once its last fragment came. The reassembled
// datagram reaches its socket in the same call that delivered its last
// fragment, so the entry is complete by then; a raw socket reads it later,
// which the bounded table allows for as long as fragTableSize newer
// fragmented datagrams have not pushed it out.

// fragTableSize bounds the datagrams remembered (a ring: the oldest goes).
const fragTableSize = 128

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

type fragRec struct {
	max   uint16 // largest fragment's IP total length
	total int32  // datagram payload length; -1 until the last fragment
	meat  int32  // payload bytes of the fragments seen
	slot  int32  // ring slot that owns the entry
}

func (r *fragRec) complete() bool { return r.total >= 0 && r.meat >= r.total }

type fragTable struct {
	n    atomic.Int32 // entries in m: 0 lets every path skip the lock
	mu   sync.Mutex
	m    map[fragKey]fragRec
	ring [fragTableSize]fragKey
	next int32
}

func keyOf(ip []byte) fragKey {
	var k fragKey
	copy(k.src[:], ip[12:16])
	copy(k.dst[:], ip[16:20])
	k.id = binary.BigEndian.Uint16(ip[4:6])
	k.proto = ip[9]
	return k
}

// observe records an inbound IPv4 frame: a fragment updates its
// datagram's entry; a whole datagram removes any entry of the same key,
// which belongs to an older datagram.
func (t *fragTable) observe(pkt *gstack.PacketBuffer) {
	d := pkt.Data()
	ip, ok := d.PullUp(header.IPv4MinimumSize)
	if !ok || ip[0]>>4 != 4 {
		return
	}
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	ff := binary.BigEndian.Uint16(ip[6:8])
	more, off := ff&0x2000 != 0, int(ff&0x1fff)*8
	if !more && off == 0 {
		if t.n.Load() != 0 {
			t.forget(keyOf(ip))
		}
		return
	}
	if ihl < header.IPv4MinimumSize || total < ihl || total > d.Size() {
		return // gVisor drops it as malformed
	}
	if ip, ok = d.PullUp(ihl); !ok || checksum.Checksum(ip, 0) != 0xffff {
		return
	}
	t.note(keyOf(ip), uint16(total), int32(total-ihl), more, int32(off))
}

func (t *fragTable) note(k fragKey, size uint16, payload int32, more bool, off int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[fragKey]fragRec, fragTableSize)
	}
	r, ok := t.m[k]
	if ok && r.complete() {
		ok = false // a new datagram reuses the key
	}
	if !ok {
		slot := t.next
		t.next = (t.next + 1) % fragTableSize
		if old, had := t.m[t.ring[slot]]; had && old.slot == slot {
			delete(t.m, t.ring[slot])
		}
		t.ring[slot] = k
		r = fragRec{total: -1, slot: slot}
	}
	r.max = max(r.max, size)
	r.meat += payload
	if !more {
		r.total = off + payload
	}
	t.m[k] = r
	t.n.Store(int32(len(t.m)))
}

func (t *fragTable) forget(k fragKey) {
	t.mu.Lock()
	if _, ok := t.m[k]; ok {
		delete(t.m, k)
		t.n.Store(int32(len(t.m)))
	}
	t.mu.Unlock()
}

// lookup returns frag_max_size for a delivered datagram whose IP header
// (its first 20 bytes at least) is ip and whose payload after the header
// is payload bytes long: 0 when it did not arrive in fragments.
func (t *fragTable) lookup(ip []byte, payload int) int {
	if t.n.Load() == 0 || len(ip) < header.IPv4MinimumSize {
		return 0
	}
	k := keyOf(ip)
	t.mu.Lock()
	r, ok := t.m[k]
	t.mu.Unlock()
	if !ok || !r.complete() || int(r.total) != payload {
		return 0
	}
	return int(r.max)
}

// FragMaxSize is IP_RECVFRAGSIZE's value for a datagram a socket read:
// hdr is its IP header as delivered (reassembled), datagramLen its IP
// total length. 0 means it did not arrive in fragments.
func (s *Stack) FragMaxSize(hdr []byte, datagramLen int) int {
	if len(hdr) < header.IPv4MinimumSize {
		return 0
	}
	return s.frags.lookup(hdr, datagramLen-int(hdr[0]&0x0f)*4)
}

// fragTap wraps a NIC's link endpoint to show every inbound IPv4 frame to
// the stack's fragment table, and every IPv6 one to the MLD tap
// (mld_query.go), before gVisor's IP layer sees it.
type fragTap struct {
	nested.Endpoint
	t   *fragTable
	s   *Stack
	nic int
}

// tapFragments wraps ep (AddInterface) of NIC id; lo, whose MTU no
// datagram exceeds and where no MLD is spoken, is left alone.
func (s *Stack) tapFragments(ep gstack.LinkEndpoint, id int) gstack.LinkEndpoint {
	if ep.Capabilities()&gstack.CapabilityLoopback != 0 {
		return ep
	}
	f := &fragTap{t: &s.frags, s: s, nic: id}
	f.Endpoint.Init(ep, f)
	return f
}

// DeliverNetworkPacket implements stack.NetworkDispatcher.
func (f *fragTap) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *gstack.PacketBuffer) {
	switch proto {
	case header.IPv4ProtocolNumber:
		f.t.observe(pkt)
	case header.IPv6ProtocolNumber:
		f.s.tapMLD(f.nic, pkt)
	}
	f.Endpoint.DeliverNetworkPacket(proto, pkt)
}
