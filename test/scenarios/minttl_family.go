package scenarios

import (
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/test/harness"
)

// IP_MINTTL on TCP between the DUT and the peer, for an AF_INET socket and
// for an AF_INET6 one over v4-mapped addresses (tcpoptMapped), whose
// IPv4 segments Linux judges by the same min_ttl (tcp_v4_rcv).

// minTTLListener: a listener's minimum drops a SYN below it; the child
// inherits it, and clearing it on the child lets low segments in.
func (n tcpoptNet) minTTLListener(e *harness.Env) {
	l := n.socket(e)
	e.SetInt("IP_MINTTL 64", l, unix.IPPROTO_IP, unix.IP_MINTTL, 64)
	e.Check("bind", l.Bind(n.dutAddr(e, e.BasePort)))
	e.Check("listen", l.Listen(4))
	low := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	e.SetInt("peer IP_TTL 10", low, unix.IPPROTO_IP, unix.IP_TTL, 10)
	e.Rec("peer connect ttl 10", low.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
	r, _ := low.Poll(unix.EPOLLOUT, 500*time.Millisecond)
	e.Rec("connected within 0.5 s", r&unix.EPOLLOUT != 0)
	e.Rec("peer close", low.Close())
	p := e.Socket(e.Peer, unix.AF_INET, unix.SOCK_STREAM, 0)
	e.Rec("peer connect ttl 64", p.Connect(harness.Sockaddr(e.DUTAddr, e.BasePort)))
	a, _, err := l.Accept(0)
	e.Rec("accept", err)
	if err != nil {
		return
	}
	e.GetInt("child IP_MINTTL", a, unix.IPPROTO_IP, unix.IP_MINTTL)
	e.SetInt("peer IP_TTL 10", p, unix.IPPROTO_IP, unix.IP_TTL, 10)
	send(e, "peer send a", p, []byte("a"), nil, 0)
	e.Rec("bytes with ttl 10", streamBytes(a, 1, 300*time.Millisecond))
	e.SetInt("peer IP_TTL 64", p, unix.IPPROTO_IP, unix.IP_TTL, 64)
	send(e, "peer send b", p, []byte("b"), nil, 0)
	e.Rec("bytes after ttl 64", streamBytes(a, 2, 3*time.Second))
	e.SetInt("child IP_MINTTL 0", a, unix.IPPROTO_IP, unix.IP_MINTTL, 0)
	e.SetInt("peer IP_TTL 10", p, unix.IPPROTO_IP, unix.IP_TTL, 10)
	send(e, "peer send c", p, []byte("c"), nil, 0)
	e.Rec("bytes with ttl 10 after clearing", streamBytes(a, 1, 2*time.Second))
}

// minTTLClient: a connecting socket's minimum judges its connection's
// segments.
func (n tcpoptNet) minTTLClient(e *harness.Env) {
	far := n.farListenerSock(e, e.BasePort)
	s := n.socket(e)
	e.SetInt("IP_MINTTL 64", s, unix.IPPROTO_IP, unix.IP_MINTTL, 64)
	e.Rec("connect", s.Connect(n.sa(e.PeerAddr, e.BasePort)))
	a, _, err := far.Accept(0)
	e.Rec("peer accept", err)
	if err != nil {
		return
	}
	send(e, "peer send x", a, []byte("x"), nil, 0)
	e.Rec("bytes with ttl 64", streamBytes(s, 1, 2*time.Second))
	e.SetInt("peer IP_TTL 63", a, unix.IPPROTO_IP, unix.IP_TTL, 63)
	send(e, "peer send y", a, []byte("y"), nil, 0)
	e.Rec("bytes with ttl 63", streamBytes(s, 1, 300*time.Millisecond))
}
