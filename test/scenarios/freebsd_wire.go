package scenarios

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/freebsd"
	"netsandbox/test/harness"
)

// Helpers of the FreeBSD group (freebsd.go): FreeBSD sockaddrs and control
// messages, and the kernel peer's view of the wire.

// bsdSA builds a FreeBSD struct sockaddr_in.
func bsdSA(a netip.Addr, port int) []byte {
	return freebsd.SockaddrIn(netip.AddrPortFrom(a, uint16(port)))
}

// bsdSAString renders a FreeBSD sockaddr_in ("bsd-inet:LEN:ADDR:PORT"), a
// port of the scenario's block as "base+N".
func bsdSAString(e *harness.Env, b []byte) string {
	if len(b) != freebsd.SizeofSockaddrIn || b[1] != freebsd.AF_INET {
		return fmt.Sprintf("sa%d[%x]", len(b), b)
	}
	port := fmt.Sprint(binary.BigEndian.Uint16(b[2:4]))
	if d := int(binary.BigEndian.Uint16(b[2:4])) - e.BasePort; d >= 0 && d < 10 {
		port = fmt.Sprintf("base+%d", d)
	}
	return fmt.Sprintf("bsd-inet:%d:%s:%s", b[0], netip.AddrFrom4([4]byte(b[4:8])), port)
}

func bsdInt(v int32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return b
}

// bsdGet records getsockopt with an n-byte buffer: error, optlen, bytes.
func bsdGet(e *harness.Env, op string, s harness.Sock, level, name, n int) {
	buf := make([]byte, n)
	got, err := s.GetSockOpt(level, name, buf)
	if err != nil {
		e.Rec(op, err)
		return
	}
	e.Rec(op, err, got, buf[:got])
}

// bsdCmsgs renders FreeBSD control messages; a sockaddr_dl's link address
// is shown as "mac(IFNAME)" when it is that interface's address on h.
func bsdCmsgs(h harness.BSDHost, oob []byte) string {
	msgs, err := freebsd.ParseCmsgs(oob)
	var parts []string
	for _, m := range msgs {
		data := hex.EncodeToString(m.Data)
		if m.Level == freebsd.IPPROTO_IP && m.Type == freebsd.IP_RECVIF && len(m.Data) >= 8 {
			data = sdlString(h, m.Data)
		}
		parts = append(parts, fmt.Sprintf("len=%d %d/%d/%s", m.Len, m.Level, m.Type, data))
	}
	if err != nil {
		parts = append(parts, "malformed")
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func sdlString(h harness.BSDHost, d []byte) string {
	nlen, alen := int(d[5]), int(d[6])
	if 8+nlen+alen > len(d) {
		return "sdl?" + hex.EncodeToString(d)
	}
	name := string(d[8 : 8+nlen])
	mac := hex.EncodeToString(d[8+nlen : 8+nlen+alen])
	if ifc, ok := h.Stack().InterfaceByName(name); ok && hex.EncodeToString(ifc.MAC) == mac && alen > 0 {
		mac = "mac(" + name + ")"
	}
	rest := d[8+nlen+alen:]
	zero := true
	for _, c := range rest {
		zero = zero && c == 0
	}
	return fmt.Sprintf("sdl(len=%d family=%d index=%d type=%#x nlen=%d alen=%d slen=%d name=%q addr=%s restzero=%v)",
		d[0], d[1], binary.LittleEndian.Uint16(d[2:4]), d[4], nlen, alen, d[7], name, mac, zero)
}

// wireTap is a raw IPPROTO_UDP socket on a kernel host: it sees every UDP
// datagram the host receives, IP header first.
type wireTap struct{ s harness.Sock }

func tapUDP(e *harness.Env, h harness.Host) *wireTap {
	s, err := h.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		e.Rec("tap socket", err)
		return nil
	}
	return &wireTap{s}
}

// expect waits (bounded) for the next datagram to port and records it as a
// wire line: source, destination, TTL, TOS, DF, IP options, UDP length and
// payload. No datagram in time records "none".
func (w *wireTap) expect(e *harness.Env, what string, port int) { w.expectPorts(e, what, port, false) }

// expectPorts is expect; with sport, the UDP source port is recorded too.
func (w *wireTap) expectPorts(e *harness.Env, what string, port int, sport bool) {
	if w == nil {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	buf := make([]byte, 70000)
	for time.Now().Before(deadline) {
		if harness.WaitReadable(w.s, time.Until(deadline)) == 0 {
			break
		}
		n, _, _, _, err := w.s.RecvMsg(buf, nil, unix.MSG_DONTWAIT)
		if err != nil || n < 28 {
			continue
		}
		p := buf[:n]
		ihl := int(p[0]&0xf) * 4
		if ihl < 20 || n < ihl+8 || int(binary.BigEndian.Uint16(p[ihl+2:])) != port {
			continue
		}
		line := fmt.Sprintf("src=%s dst=%s ttl=%d tos=%#x df=%v opts=[%x] udplen=%d payload=[%x]",
			netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), p[8], p[1],
			p[6]&0x40 != 0, p[20:ihl], binary.BigEndian.Uint16(p[ihl+4:]), bsdTrim(p[ihl+8:]))
		if sport {
			sp := int(binary.BigEndian.Uint16(p[ihl:]))
			if d := sp - e.BasePort; d >= 0 && d < 10 {
				line += fmt.Sprintf(" sport=base+%d", d)
			} else {
				line += fmt.Sprintf(" sport=%d", sp)
			}
		}
		e.Wire(what, line)
		return
	}
	e.Wire(what, "none")
}

func bsdTrim(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

// bsdPeerUDP makes a UDP socket on the kernel peer, bound to its address and
// port; failures are recorded.
func bsdPeerUDP(e *harness.Env, port int) harness.Sock {
	s, err := e.Peer.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		e.Rec("peer socket", err)
		return nil
	}
	if err := s.Bind(harness.Sockaddr(e.PeerAddr, port)); err != nil {
		e.Rec("peer bind", err)
	}
	return s
}
