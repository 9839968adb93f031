package stack

import "sync"

// ICMPErrorSocket is a raw or ping socket of the socket layer: Linux gives
// such sockets the ICMP errors quoting their datagrams (raw_icmp_error,
// ping_err), which gVisor never does.
type ICMPErrorSocket interface {
	// QuotedICMPError is called on the delivery path (it must not block)
	// for every ICMP error the tap accepts; quote is the quoted datagram
	// from its IPv4 header on, as far as the message carried it (at least
	// the IPv4 header and 8 more bytes). Both are valid only during the
	// call. It reports whether the error was about this socket's datagram;
	// a matched "fragmentation needed" lowers the path MTU.
	QuotedICMPError(e *ICMPError, quote []byte) (matched bool)
}

// icmpSockets is a set of registered raw and ping sockets of one family.
type icmpSockets[T any] struct {
	mu   sync.RWMutex
	next uint64
	m    map[uint64]T
}

// add registers so until remove is called.
func (t *icmpSockets[T]) add(so T) (remove func()) {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[uint64]T)
	}
	id := t.next
	t.next++
	t.m[id] = so
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.m, id)
			t.mu.Unlock()
		})
	}
}

// list is a snapshot of the registered sockets (nil for none), taken so
// that none is called under the lock.
func (t *icmpSockets[T]) list() []T {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.m) == 0 {
		return nil
	}
	socks := make([]T, 0, len(t.m))
	for _, so := range t.m {
		socks = append(socks, so)
	}
	return socks
}

// AddICMPErrorSocket registers so for ICMP errors until remove is called.
func (s *Stack) AddICMPErrorSocket(so ICMPErrorSocket) (remove func()) {
	return s.icmpSocks.add(so)
}

// deliverToSockets offers an error to every registered socket, as
// icmp_socket_deliver does with raw sockets before the protocol handler.
func (s *Stack) deliverToSockets(e *ICMPError, quote []byte) bool {
	matched := false
	for _, so := range s.icmpSocks.list() {
		if so.QuotedICMPError(e, quote) {
			matched = true
		}
	}
	return matched
}

// ICMP6ErrorSocket is an AF_INET6 raw or ping socket of the socket
// layer: Linux gives such sockets the ICMPv6 errors quoting their
// datagrams (raw6_icmp_error, ping_err), which gVisor never does.
type ICMP6ErrorSocket interface {
	// QuotedICMP6Error is called on the delivery path (it must not
	// block) for every ICMPv6 error the tap accepts; quote is the quoted
	// packet from its IPv6 header on, inner the offset of its upper-layer
	// header (at least 8 bytes of it are there), proto that header's
	// protocol. e.Src and e.Dst are the quoted addresses. Both are valid
	// only during the call.
	QuotedICMP6Error(e *ICMPError, quote []byte, inner int, proto uint8)
}

// AddICMP6ErrorSocket registers so for ICMPv6 errors until remove is
// called.
func (s *Stack) AddICMP6ErrorSocket(so ICMP6ErrorSocket) (remove func()) {
	return s.icmp6Socks.add(so)
}

// deliverToSockets6 offers an ICMPv6 error to every registered socket.
func (s *Stack) deliverToSockets6(e *ICMPError, quote []byte, inner int, proto uint8) {
	for _, so := range s.icmp6Socks.list() {
		so.QuotedICMP6Error(e, quote, inner, proto)
	}
}
