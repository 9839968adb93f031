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

// icmpSockets is the set of registered raw and ping sockets.
type icmpSockets struct {
	mu   sync.RWMutex
	next uint64
	m    map[uint64]ICMPErrorSocket
}

// AddICMPErrorSocket registers so for ICMP errors until remove is called.
func (s *Stack) AddICMPErrorSocket(so ICMPErrorSocket) (remove func()) {
	t := &s.icmpSocks
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[uint64]ICMPErrorSocket)
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

// deliverToSockets offers an error to every registered socket, as
// icmp_socket_deliver does with raw sockets before the protocol handler.
func (s *Stack) deliverToSockets(e *ICMPError, quote []byte) bool {
	t := &s.icmpSocks
	t.mu.RLock()
	if len(t.m) == 0 {
		t.mu.RUnlock()
		return false
	}
	socks := make([]ICMPErrorSocket, 0, len(t.m))
	for _, so := range t.m {
		socks = append(socks, so)
	}
	t.mu.RUnlock()
	matched := false
	for _, so := range socks {
		if so.QuotedICMPError(e, quote) {
			matched = true
		}
	}
	return matched
}
