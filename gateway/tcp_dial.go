package gateway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// synInfo is what the gateway keeps of a sandbox SYN for the host connect:
// the TTL and TOS to carry, and the packet's head to quote in an ICMP error.
type synInfo struct {
	ttl, tos uint8
	head     []byte
}

// synTable holds the SYNs whose host connect is in progress.
type synTable struct {
	mu sync.Mutex
	m  map[gstack.TransportEndpointID]synInfo
}

func (t *synTable) put(id gstack.TransportEndpointID, s synInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[gstack.TransportEndpointID]synInfo{}
	}
	if len(t.m) < 4*tcpMaxInFlight {
		t.m[id] = s
	}
}

func (t *synTable) take(id gstack.TransportEndpointID) (synInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[id]
	delete(t.m, id)
	return s, ok
}

// noteSYN runs on the delivery path for a TCP segment no endpoint wants. A
// SYN whose TTL would end at the gateway gets time exceeded (TCP
// traceroute's first hop) and is consumed.
func (gw *Gateway) noteSYN(id gstack.TransportEndpointID, pkt *gstack.PacketBuffer) (consumed bool) {
	th := header.TCP(pkt.TransportHeader().Slice())
	if len(th) < header.TCPMinimumSize || th.Flags()&(header.TCPFlagSyn|header.TCPFlagAck) != header.TCPFlagSyn {
		return false
	}
	if gw.isGatewayAddr(addrOf(id.LocalAddress)) {
		return false
	}
	ttl, tos := hopAndClass(pkt)
	if ttl <= 1 {
		gw.errTimeExceeded(packetHead(pkt))
		return true
	}
	gw.syns.put(id, synInfo{ttl: ttl - 1, tos: tos, head: packetHead(pkt)})
	return false
}

// hostICMPError is an ICMP error the host received for a connect.
type hostICMPError struct {
	offender       netip.Addr
	typ, code, ttl uint8
	info           uint32
}

// dialHost connects to the host destination with the sandbox's TTL and TOS
// (ttl 0: the host's default). When the connect fails on an ICMP error, the
// error is returned too, so the sandbox can get it from the real offender.
func (gw *Gateway) dialHost(ctx context.Context, to netip.AddrPort, ttl, tos uint8) (*net.TCPConn, *hostICMPError, error) {
	h, err := openHostSockFor(to.Addr(), unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	o := optsFor(to.Addr())
	if ttl != 0 {
		h.setInt(o.level, o.ttl, int(ttl))
	}
	h.setInt(o.level, o.tos, int(tos))
	h.setInt(o.level, o.recvErr, 1)
	h.setInt(o.level, o.recvTTL, 1)
	stop := context.AfterFunc(ctx, func() { h.Close() })
	defer stop()

	err = h.connect(to)
	if errors.Is(err, unix.EINPROGRESS) {
		err = nil
		cerr := h.rc.Write(func(fd uintptr) bool {
			if _, perr := unix.Getpeername(int(fd)); perr == nil {
				return true
			}
			soerr, gerr := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case gerr != nil:
				err = gerr
			case soerr != 0:
				err = unix.Errno(soerr)
			default:
				return false // not connected yet: wait for writability
			}
			return true
		})
		if err == nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		buf, oob := make([]byte, 64), make([]byte, 256)
		var ie *hostICMPError
		h.control(func(fd int) error {
			_, oobn, _, _, rerr := unix.Recvmsg(fd, buf, oob, unix.MSG_ERRQUEUE)
			if rerr != nil {
				return nil
			}
			if ci := parseCmsgs(oob[:oobn]); ci.ee != nil && icmpOrigin(ci.ee.Origin) && ci.offender.IsValid() {
				ie = &hostICMPError{offender: ci.offender, typ: ci.ee.Type, code: ci.ee.Code, info: ci.ee.Info, ttl: ci.ttl}
			}
			return nil
		})
		return nil, ie, err
	}
	// Errors of the established connection are TCP's business, not a queue
	// nobody reads.
	h.setInt(o.level, o.recvErr, 0)
	c, err := net.FileConn(h.f)
	if err != nil {
		return nil, nil, err
	}
	return c.(*net.TCPConn), nil, nil
}
