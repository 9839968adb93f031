// Package nsnet adapts netsandbox sockets (endpoint.Socket) to the Go
// vocabulary of package net and golang.org/x/net/ipv4: Dial, Listen and
// ListenPacket on a *stack.Stack return values that satisfy net.Conn,
// net.Listener and net.PacketConn, so net/http and other code written for
// package net runs over a userspace stack.
//
// The datagram conns, UDPConn, IPConn (raw, ListenIP/DialIP) and ICMPConn
// (unprivileged ping, ListenICMP/DialICMP), share one set of methods for
// what x/net/ipv4 offers on a kernel socket (typed control messages,
// multicast membership with source filters, TTL, TOS, path MTU) and for
// what it lacks: ReadErrQueue, the decoded IP_RECVERR queue.
//
// There is no ReadBatch or WriteBatch. On a kernel socket they exist to
// pay for one recvmmsg or sendmmsg system call instead of many; here a
// socket call is a Go method call in the same process, and a batch would
// be a loop over ReadMsg or WriteMsg saving only a wait-queue registration
// per datagram. Call those in a loop instead.
//
// Addresses are IPv4 literals ("10.0.0.2:80"); netsandbox has no resolver,
// so a host name is an error. Errors are *net.OpError wrapping an
// *os.SyscallError around the socket's unix.Errno, so errors.Is(err,
// unix.ECONNREFUSED) works; an expired deadline wraps
// os.ErrDeadlineExceeded and a closed conn net.ErrClosed, as in package net.
package nsnet
