package fdbased

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/header/parse"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	vnetKernel = [4]byte{198, 18, 3, 1}
	vnetStack  = [4]byte{198, 18, 3, 2}
)

// tapEnv is a gVisor stack on an adopted TAP whose kernel side is
// 198.18.3.1 in namespace ns; the stack is 198.18.3.2.
type tapEnv struct {
	ns string
	s  *stack.Stack
	ep stack.LinkEndpoint
}

func newTAPEnv(t testing.TB, mtu int, vnet bool) tapEnv {
	t.Helper()
	ns := newNetns(t)
	tap := "nsbxvt" + suffix()
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if vnet {
		flags |= unix.IFF_VNET_HDR
	}
	fd := openRawTAP(t, ns, tap, flags)
	ep, _, err := Adopt(fd, Options{MTU: uint32(mtu)})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if _, ok := ep.(*vnetEndpoint); ok != vnet {
		t.Fatalf("Adopt(TAP, IFF_VNET_HDR %v) gave %T", vnet, ep)
	}
	mustRun(t, "ip", "-n", ns, "link", "set", tap, "mtu", strconv.Itoa(mtu), "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.18.3.1/24", "dev", tap)
	s := newGvisorStack(t, ep, netip.MustParsePrefix("198.18.3.2/24"))
	return tapEnv{ns: ns, s: s, ep: ep}
}

// kernelSocket opens a socket in the environment's namespace.
func (e tapEnv) kernelSocket(t testing.TB, typ int) int {
	t.Helper()
	var fd int
	if err := inNetns(t, e.ns, func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tv := unix.Timeval{Sec: 10}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	return fd
}

// toKernel sends data from a stack TCP connection to a kernel listener
// and returns what the kernel received.
func (e tapEnv) toKernel(t testing.TB, port int, data []byte) []byte {
	t.Helper()
	l := e.kernelSocket(t, unix.SOCK_STREAM)
	defer unix.Close(l)
	unix.SetsockoptInt(l, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(l, &unix.SockaddrInet4{Addr: vnetKernel, Port: port}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 1); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		c, err := gonet.DialTCP(e.s, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(vnetKernel), Port: uint16(port)}, ipv4.ProtocolNumber)
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		_, err = c.Write(data)
		sent <- err
	}()
	c, _, err := unix.Accept(l)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	got := make([]byte, 0, len(data))
	buf := make([]byte, 256<<10)
	for len(got) < len(data) {
		n, err := unix.Read(c, buf)
		if err != nil || n == 0 {
			t.Fatalf("kernel read %d of %d bytes, then %d, %v", len(got), len(data), n, err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-sent; err != nil {
		t.Fatalf("stack write: %v", err)
	}
	return got
}

// fromKernel sends data from a kernel TCP socket to a stack listener and
// returns what the stack received.
func (e tapEnv) fromKernel(t testing.TB, port int, data []byte) []byte {
	t.Helper()
	ln, err := gonet.ListenTCP(e.s, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(vnetStack), Port: uint16(port)}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fd := e.kernelSocket(t, unix.SOCK_STREAM)
	sent := make(chan error, 1)
	go func() {
		defer unix.Close(fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: vnetStack, Port: port}); err != nil {
			sent <- err
			return
		}
		for off := 0; off < len(data); {
			n, err := unix.Write(fd, data[off:])
			if err != nil {
				sent <- err
				return
			}
			off += n
		}
		sent <- nil
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("stack read %d of %d bytes, then %v", len(got), len(data), err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("kernel write: %v", err)
	}
	return got
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestAdoptVnetTAP: over a TAP made with IFF_VNET_HDR, ping, UDP both ways
// and 4 MiB of TCP each way arrive intact, and the stack's TCP leaves as
// GSO frames (several MSS per write) that the kernel accepts.
func TestAdoptVnetTAP(t *testing.T) {
	needNetns(t, "ping")
	for _, mtu := range []int{1500, 9000, 65520} {
		t.Run(strconv.Itoa(mtu), func(t *testing.T) {
			e := newTAPEnv(t, mtu, true)
			pingFrom(t, e.ns, "198.18.3.2")

			uc, err := gonet.DialUDP(e.s, &tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(vnetStack), Port: 7}, nil, ipv4.ProtocolNumber)
			if err != nil {
				t.Fatal(err)
			}
			defer uc.Close()
			uc.SetDeadline(time.Now().Add(10 * time.Second))
			k := e.kernelSocket(t, unix.SOCK_DGRAM)
			defer unix.Close(k)
			for _, size := range []int{1, mtu - 28, 3*mtu + 5} {
				size = min(size, 65000)
				msg := randomBytes(size)
				if err := unix.Sendto(k, msg, 0, &unix.SockaddrInet4{Addr: vnetStack, Port: 7}); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 70000)
				n, from, err := uc.ReadFrom(buf)
				if err != nil || !bytes.Equal(buf[:n], msg) {
					t.Fatalf("stack got %d bytes (%v), want the %d sent", n, err, size)
				}
				if _, err := uc.WriteTo(msg, from); err != nil {
					t.Fatal(err)
				}
				n, _, err = unix.Recvfrom(k, buf, 0)
				if err != nil || !bytes.Equal(buf[:n], msg) {
					t.Fatalf("kernel got %d bytes (%v), want the %d sent", n, err, size)
				}
			}

			const size = 4 << 20
			vep := e.ep.(*vnetEndpoint)
			frames0, gso0 := vep.framesOut.Load(), vep.gsoFramesOut.Load()
			data := randomBytes(size)
			if got := e.toKernel(t, 7001, data); !bytes.Equal(got, data) {
				t.Fatalf("kernel received %d bytes, not the %d sent", len(got), size)
			}
			frames, gso := vep.framesOut.Load()-frames0, vep.gsoFramesOut.Load()-gso0
			segments := size / (mtu - 40)
			t.Logf("stack -> kernel: %d bytes in %d frames (%d GSO), %d MSS-sized segments", size, frames, gso, segments)
			if mtu < 16000 && (gso == 0 || frames > uint64(segments)/2) {
				t.Errorf("stack -> kernel: %d frames (%d GSO) for %d segments of MSS: GSO unused", frames, gso, segments)
			}
			data = randomBytes(size)
			in0, gsoIn0 := vep.framesIn.Load(), vep.gsoFramesIn.Load()
			if got := e.fromKernel(t, 7002, data); !bytes.Equal(got, data) {
				t.Fatalf("stack received %d bytes, not the %d sent", len(got), size)
			}
			in, gsoIn := vep.framesIn.Load()-in0, vep.gsoFramesIn.Load()-gsoIn0
			t.Logf("kernel -> stack: %d bytes in %d frames (%d GSO)", size, in, gsoIn)
			if mtu < 16000 && gsoIn == 0 {
				t.Errorf("kernel -> stack: no GSO frame among %d: TSO offload unused", in)
			}
		})
	}
}

// TestVnetHeader pins the virtio_net_hdr built for a packet: none for a
// packet without GSO options, checksum fields for a short TCP segment,
// and GSO type and size for one longer than its MSS.
func TestVnetHeader(t *testing.T) {
	mk := func(payload int, g stack.GSO) *stack.PacketBuffer {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
			ReserveHeaderBytes: 14 + 20 + 20,
			Payload:            buffer.MakeWithData(make([]byte, payload)),
		})
		pkt.TransportHeader().Push(20)
		pkt.NetworkHeader().Push(20)
		pkt.LinkHeader().Push(14)
		pkt.GSOOptions = g
		return pkt
	}
	tcp := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: header.TCPChecksumOffset, MSS: 1448, L3HdrLen: 20}
	for _, c := range []struct {
		name    string
		payload int
		gso     stack.GSO
		want    [vnetHdrSize]byte
	}{
		{"no GSO", 1000, stack.GSO{}, [vnetHdrSize]byte{}},
		{"one segment", 1000, tcp, hdrBytes(1, 0, 54, 0, 34, 16)},
		{"GSO", 10000, tcp, hdrBytes(1, vnetGSOTCPv4, 54, 1448, 34, 16)},
	} {
		pkt := mk(c.payload, c.gso)
		var got [vnetHdrSize]byte
		for i := range got {
			got[i] = 0xee // vnetHeader must set every byte
		}
		vnetHeader(got[:], pkt)
		pkt.DecRef()
		if got != c.want {
			t.Errorf("%s: header % x, want % x", c.name, got, c.want)
		}
	}
}

func hdrBytes(flags, gsoType uint8, hdrLen, gsoSize, csumStart, csumOff uint16) [vnetHdrSize]byte {
	var b [vnetHdrSize]byte
	b[0], b[1] = flags, gsoType
	binary.LittleEndian.PutUint16(b[2:], hdrLen)
	binary.LittleEndian.PutUint16(b[4:], gsoSize)
	binary.LittleEndian.PutUint16(b[6:], csumStart)
	binary.LittleEndian.PutUint16(b[8:], csumOff)
	return b
}

// BenchmarkTAPTCP measures TCP through an adopted TAP, per MiB, each way,
// with and without IFF_VNET_HDR (as root; not run by CI):
//
//	go test ./link/fdbased -run '^$' -bench TAPTCP -benchtime 64x
func BenchmarkTAPTCP(b *testing.B) {
	needNetns(b)
	for _, mtu := range []int{1500, 65520} {
		for _, vnet := range []bool{false, true} {
			e := newTAPEnv(b, mtu, vnet)
			kind := "plain"
			if vnet {
				kind = "vnet"
			}
			b.Run(fmt.Sprintf("%s/mtu%d/to-kernel", kind, mtu), func(b *testing.B) {
				data := randomBytes(b.N << 20)
				b.SetBytes(1 << 20)
				b.ResetTimer()
				e.toKernel(b, 7101, data)
			})
			b.Run(fmt.Sprintf("%s/mtu%d/from-kernel", kind, mtu), func(b *testing.B) {
				data := randomBytes(b.N << 20)
				b.SetBytes(1 << 20)
				b.ResetTimer()
				e.fromKernel(b, 7102, data)
			})
		}
	}
}

// TestFinishChecksum: a TCP segment whose checksum field holds only the
// pseudo-header sum, as the kernel hands it with NEEDS_CSUM, gets the full
// checksum back however the frame is split between head view and scratch;
// offsets outside the frame are refused.
func TestFinishChecksum(t *testing.T) {
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 2, 100}), tcpip.AddrFrom4([4]byte{198, 18, 3, 1})
	for _, payload := range []int{0, 1, 1447, 3000} {
		frame := make([]byte, 14+20+20+payload)
		ip := header.IPv4(frame[14:])
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(frame) - 14), TTL: 64, Protocol: uint8(header.TCPProtocolNumber), SrcAddr: src, DstAddr: dst})
		tcp := header.TCP(frame[34:])
		tcp.Encode(&header.TCPFields{SrcPort: 1, DstPort: 2, SeqNum: 7, DataOffset: 20, Flags: header.TCPFlagAck, WindowSize: 100})
		copy(frame[54:], randomBytes(payload))
		pseudo := header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(20+payload))
		tcp.SetChecksum(^checksum.Checksum(tcp, pseudo))
		want := append([]byte(nil), frame...)
		tcp.SetChecksum(pseudo)
		hdr := hdrBytes(vnetFlagNeedsCsum, 0, 0, 0, 34, header.TCPChecksumOffset)
		for _, split := range []int{20, 34, 35, 51, 54, len(frame)} {
			if split > len(frame) {
				continue
			}
			f := append([]byte(nil), frame...)
			if !finishChecksum(hdr[:], f[:split], f[split:]) || !bytes.Equal(f, want) {
				t.Errorf("payload %d, split %d: checksum %#04x, want %#04x", payload, split, header.TCP(f[34:]).Checksum(), header.TCP(want[34:]).Checksum())
			}
		}
		bad := hdrBytes(vnetFlagNeedsCsum, 0, 0, 0, uint16(len(frame)-1), 4)
		if finishChecksum(bad[:], frame, nil) {
			t.Errorf("payload %d: field past the frame accepted", payload)
		}
	}
}

// TestVnetTAPDropsBadChecksum: with checksum offload taken, a frame the
// sandbox writes itself (a packet socket: no NEEDS_CSUM) with a wrong UDP
// checksum is still dropped by the stack, and the same datagram with the
// right checksum is delivered.
func TestVnetTAPDropsBadChecksum(t *testing.T) {
	needNetns(t)
	e := newTAPEnv(t, 1500, true)
	uc, err := gonet.DialUDP(e.s, &tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(vnetStack), Port: 7}, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.SetDeadline(time.Now().Add(5 * time.Second))
	// The stack's MAC, learnt by the kernel side through ARP.
	pingFrom(t, e.ns, "198.18.3.2")
	stackMAC := e.ep.LinkAddress()
	var tapIndex int
	var tapMAC []byte
	if err := inNetns(t, e.ns, func() error {
		ifs, err := net.Interfaces()
		for _, ifc := range ifs {
			if strings.HasPrefix(ifc.Name, "nsbxvt") {
				tapIndex, tapMAC = ifc.Index, ifc.HardwareAddr
			}
		}
		return err
	}); err != nil || tapIndex == 0 {
		t.Fatalf("TAP not found: %v", err)
	}
	var ps int
	if err := inNetns(t, e.ns, func() (err error) {
		ps, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ps)
	frame := func(payload string, corrupt bool) []byte {
		f := make([]byte, 14+20+8+len(payload))
		header.Ethernet(f).Encode(&header.EthernetFields{SrcAddr: tcpip.LinkAddress(tapMAC), DstAddr: stackMAC, Type: header.IPv4ProtocolNumber})
		ip := header.IPv4(f[14:])
		src, dst := tcpip.AddrFrom4(vnetKernel), tcpip.AddrFrom4(vnetStack)
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(f) - 14), TTL: 64, Protocol: uint8(header.UDPProtocolNumber), SrcAddr: src, DstAddr: dst})
		ip.SetChecksum(^ip.CalculateChecksum())
		u := header.UDP(f[34:])
		u.Encode(&header.UDPFields{SrcPort: 9, DstPort: 7, Length: uint16(8 + len(payload))})
		copy(f[42:], payload)
		sum := ^checksum.Checksum(u, header.PseudoHeaderChecksum(header.UDPProtocolNumber, src, dst, uint16(len(u))))
		if corrupt {
			sum ^= 0x0101
		}
		u.SetChecksum(sum)
		return f
	}
	to := &unix.SockaddrLinklayer{Ifindex: tapIndex, Halen: 6}
	copy(to.Addr[:], stackMAC)
	errs0 := e.s.Stats().UDP.ChecksumErrors.Value()
	for _, f := range [][]byte{frame("corrupt", true), frame("intact", false)} {
		if err := unix.Sendto(ps, f, 0, to); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 100)
	n, _, err := uc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "intact" {
		t.Fatalf("stack read %q, %v: want only the intact datagram", buf[:n], err)
	}
	if got := e.s.Stats().UDP.ChecksumErrors.Value() - errs0; got != 1 {
		t.Errorf("UDP checksum errors %d, want 1", got)
	}
}

// TestRxBuffers: frames of every size come out of the read buffers intact
// whatever the head's size, a frame that fits the head is one view, and
// the head grows after a large frame and shrinks after a run of small
// ones.
func TestRxBuffers(t *testing.T) {
	rx := rxBuffers{scratch: make([]byte, vnetMaxFrame)}
	defer rx.release()
	sizes := []int{60, 1514, 2048, 2049, 9014, 60, 40000, 65536, 65549, 100}
	for i := 0; i < vnetSmallRun; i++ {
		sizes = append(sizes, 60+i)
	}
	sizes = append(sizes, 1514, 70)
	for i, n := range sizes {
		iov := rx.iovecs()
		headLen := int(iov[1].Len)
		frame := randomBytes(n)
		copy(rx.head.AsSlice(), frame)
		if n > headLen {
			copy(rx.scratch, frame[headLen:])
		}
		wantBig := rx.big
		b := rx.take(n)
		if got := b.Flatten(); !bytes.Equal(got, frame) {
			t.Fatalf("frame %d (%d bytes, head %d): got %d bytes, not the frame", i, n, headLen, len(got))
		}
		if n <= headLen && b.Size() > 0 {
			views := 0
			b.SubApply(0, int(b.Size()), func(*buffer.View) { views++ })
			if views != 1 {
				t.Errorf("frame %d (%d bytes, head %d): %d views, want 1", i, n, headLen, views)
			}
		}
		if wantBig && headLen != vnetBigHead || !wantBig && headLen != vnetHeadSize {
			t.Errorf("frame %d: head %d bytes in big=%v mode", i, headLen, wantBig)
		}
		b.Release()
		if i == 3 && !rx.big {
			t.Errorf("after a %d-byte frame the reader stays on small heads", n)
		}
	}
	if rx.big {
		t.Errorf("after %d small frames the reader stays on big heads", vnetSmallRun+2)
	}
}

// ipv4Frame is an Ethernet frame with an IPv4 header (ihl bytes, no
// fragment unless fragOff) and n bytes after it, of protocol proto; a TCP
// or UDP header (tcpLen for TCP) starts the n bytes.
func ipv4Frame(proto uint8, ihl, tcpLen, n int, fragOff uint16) []byte {
	f := randomBytes(14 + ihl + n)
	header.Ethernet(f).Encode(&header.EthernetFields{Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(f[14:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(ihl + n), TTL: 64, Protocol: proto, FragmentOffset: fragOff,
		SrcAddr: tcpip.AddrFrom4(vnetKernel), DstAddr: tcpip.AddrFrom4(vnetStack)})
	ip.SetHeaderLength(uint8(ihl))
	switch {
	case fragOff != 0, n < tcpLen:
	case proto == uint8(header.TCPProtocolNumber):
		header.TCP(f[14+ihl:]).Encode(&header.TCPFields{DataOffset: uint8(tcpLen), Flags: header.TCPFlagAck})
	case proto == uint8(header.UDPProtocolNumber):
		header.UDP(f[14+ihl:]).Encode(&header.UDPFields{Length: uint16(n)})
	}
	return f
}

// TestWithHeadersApart: an IPv4 frame's headers get a view of their own
// and, once gVisor parsed them, the payload is a single view (so header
// reads never copy a shared big chunk and a datagram is sent as it is);
// other frames (and one that is all headers) stay whole; no byte changes.
func TestWithHeadersApart(t *testing.T) {
	for _, c := range []struct {
		name  string
		frame []byte
		hdr   int // frameHeaderLen; split when short of the frame
	}{
		{"udp", ipv4Frame(17, 20, 0, 8+65000, 0), 42},
		{"udp options", ipv4Frame(17, 24, 0, 8+100, 0), 46},
		{"tcp", ipv4Frame(6, 20, 32, 32+60000, 0), 66},
		{"tcp ack", ipv4Frame(6, 20, 32, 32, 0), 66},
		{"later fragment", ipv4Frame(17, 20, 0, 1480, 185), 34},
		{"icmp", ipv4Frame(1, 20, 0, 1000, 0), 34},
		{"short tcp", ipv4Frame(6, 20, 20, 10, 0), 0},
		{"arp", append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 6}, make([]byte, 28)...), 0},
	} {
		if got := frameHeaderLen(c.frame); got != c.hdr {
			t.Errorf("%s: frameHeaderLen %d, want %d", c.name, got, c.hdr)
		}
		b := withHeadersApart(buffer.NewViewWithData(c.frame))
		if !bytes.Equal(b.Flatten(), c.frame) {
			t.Errorf("%s: bytes changed", c.name)
		}
		var sizes []int
		b.SubApply(0, int(b.Size()), func(v *buffer.View) { sizes = append(sizes, v.Size()) })
		split := c.hdr != 0 && c.hdr < len(c.frame)
		if split && (len(sizes) != 2 || sizes[0] != c.hdr) || !split && len(sizes) != 1 {
			t.Errorf("%s: views %v, want the %d header bytes apart", c.name, sizes, c.hdr)
		}
		if c.name == "udp" || c.name == "tcp" {
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: b})
			pkt.LinkHeader().Consume(14)
			parse.IPv4(pkt)
			if c.name == "udp" {
				parse.UDP(pkt)
			} else {
				parse.TCP(pkt)
			}
			d := pkt.Data().ToBuffer()
			views := 0
			d.SubApply(0, int(d.Size()), func(*buffer.View) { views++ })
			if views != 1 {
				t.Errorf("%s: parsed payload of %d bytes in %d views, want 1", c.name, d.Size(), views)
			}
			d.Release()
			pkt.DecRef()
		} else {
			b.Release()
		}
	}
}

// FuzzFrameHeaderLen: for any frame the header length is 0 or covers at
// least Ethernet and IPv4 within the frame, and splitting keeps the bytes.
func FuzzFrameHeaderLen(f *testing.F) {
	f.Add(ipv4Frame(17, 20, 0, 8+100, 0))
	f.Add(ipv4Frame(6, 24, 40, 40+100, 0))
	f.Add(ipv4Frame(17, 20, 0, 200, 100))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, frame []byte) {
		h := frameHeaderLen(frame)
		if h != 0 && (h < 14+header.IPv4MinimumSize || h > len(frame)) {
			t.Fatalf("frameHeaderLen = %d for a %d-byte frame", h, len(frame))
		}
		if len(frame) == 0 {
			return
		}
		b := withHeadersApart(buffer.NewViewWithData(frame))
		if !bytes.Equal(b.Flatten(), frame) {
			t.Fatal("bytes changed")
		}
		b.Release()
	})
}

// TestOmitUDPChecksum: a NEEDS_CSUM UDP datagram's checksum field becomes
// 0 (no checksum); a TCP segment, a later fragment, or offsets that are
// not the UDP header's are left for finishChecksum, untouched.
func TestOmitUDPChecksum(t *testing.T) {
	udp := ipv4Frame(17, 20, 0, 8+100, 0)
	header.UDP(udp[34:]).SetChecksum(0x1234)
	for _, c := range []struct {
		name      string
		frame     []byte
		start, at uint16
		want      bool
	}{
		{"udp", udp, 34, 6, true},
		{"udp, other offset", udp, 34, 4, false},
		{"udp, start not at its header", udp, 38, 6, false},
		{"tcp", ipv4Frame(6, 20, 20, 20+100, 0), 34, 6, false},
		{"later fragment", ipv4Frame(17, 20, 0, 108, 100), 34, 6, false},
	} {
		f := append([]byte(nil), c.frame...)
		hdr := hdrBytes(vnetFlagNeedsCsum, 0, 0, 0, c.start, c.at)
		got := omitUDPChecksum(hdr[:], f)
		if got != c.want {
			t.Errorf("%s: omitUDPChecksum = %v, want %v", c.name, got, c.want)
		}
		want := append([]byte(nil), c.frame...)
		if c.want {
			want[40], want[41] = 0, 0
		}
		if !bytes.Equal(f, want) {
			t.Errorf("%s: frame changed wrongly", c.name)
		}
	}
}
