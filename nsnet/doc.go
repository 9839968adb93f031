// Package nsnet adapts netsandbox sockets (endpoint.Socket) to the Go
// vocabulary of package net and golang.org/x/net/ipv4: Dial, Listen and
// ListenPacket on a *stack.Stack return values that satisfy net.Conn,
// net.Listener and net.PacketConn, so net/http and other code written for
// package net runs over a userspace stack.
//
// The UDP conn adds what x/net/ipv4 offers on a kernel socket (typed
// control messages, multicast membership with source filters, TTL, TOS,
// path MTU) and what it lacks: ReadErrQueue, the decoded IP_RECVERR queue.
//
// Addresses are IPv4 literals ("10.0.0.2:80"); netsandbox has no resolver,
// so a host name is an error. Errors are *net.OpError wrapping an
// *os.SyscallError around the socket's unix.Errno, so errors.Is(err,
// unix.ECONNREFUSED) works; an expired deadline wraps
// os.ErrDeadlineExceeded and a closed conn net.ErrClosed, as in package net.
package nsnet
