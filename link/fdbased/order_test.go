package fdbased

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// orderRecorder is a NetworkDispatcher that keeps the sequence numbers
// (the first four payload bytes) of the IPv4 packets it is given.
type orderRecorder struct {
	mu   sync.Mutex
	seqs []uint32
}

func (r *orderRecorder) DeliverNetworkPacket(_ tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	b := pkt.ToView().AsSlice()
	if len(b) < header.IPv4MinimumSize+4 || b[9] != 253 {
		return
	}
	ihl := int(b[0]&0xf) * 4
	r.mu.Lock()
	r.seqs = append(r.seqs, binary.BigEndian.Uint32(b[ihl:]))
	r.mu.Unlock()
}

func (*orderRecorder) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

func (r *orderRecorder) got() []uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint32(nil), r.seqs...)
}

// TestReceiveKeepsOrder: packets of one source and destination reach the
// stack in the order they came off the wire, whatever their first payload
// bytes. gVisor's fdbased spreads frames over one goroutine per CPU by a
// hash that takes any protocol's first four bytes for TCP ports, so an
// IGMP query and the report right behind it (or two ICMP messages) could
// swap; Linux keeps a device's packets in order.
func TestReceiveKeepsOrder(t *testing.T) {
	needNetns(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several CPUs, so gVisor would use several goroutines
	ns := newNetns(t)
	tun := "nsbxtun" + suffix()
	fd := openRawTAP(t, ns, tun, unix.IFF_TUN|unix.IFF_NO_PI)
	ep, _, err := Adopt(fd, Options{MTU: 1500, IPOnly: true})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	defer ep.Close()
	rec := &orderRecorder{}
	ep.Attach(rec)
	mustRun(t, "ip", "-n", ns, "link", "set", tun, "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.18.3.1/24", "dev", tun)

	const n = 400
	err = inNetns(t, ns, func() error {
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 253)
		if err != nil {
			return err
		}
		defer unix.Close(s)
		to := &unix.SockaddrInet4{Addr: [4]byte{198, 18, 3, 2}}
		msg := make([]byte, 16)
		for i := range n {
			// Each packet's would-be "ports" differ, so a hash over
			// them spreads the packets.
			binary.BigEndian.PutUint32(msg, uint32(i))
			if err := unix.Sendto(s, msg, 0, to); err != nil {
				return err
			}
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // stay within the TUN's queue
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.got()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := rec.got()
	if len(got) < n*9/10 {
		t.Fatalf("%d of %d packets arrived", len(got), n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("packet %d arrived after packet %d (%d of %d arrived)", got[i], got[i-1], len(got), n)
		}
	}
}
