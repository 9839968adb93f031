package endpoint

import (
	"bytes"
	"io"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// StreamIO is implemented by stream (TCP) sockets: their data moves
// straight between a caller's memory and the connection. A caller whose
// data lives in memory of its own (a sandboxed task's, under the gVisor
// plugin) would otherwise copy it twice, into a []byte for SendMsg or out of
// one after RecvMsg. A stream socket's SendMsg and RecvMsg are these two
// over a slice, so both paths behave alike.
type StreamIO interface {
	// SendFrom is SendMsg with the data read from src: it queues up to
	// src.Len() bytes and returns how many it took. A read error from src
	// (a fault in the caller's memory) ends the call with EFAULT when
	// nothing was taken.
	SendFrom(src Source, oob, to []byte, flags int) (int, error)
	// RecvTo is RecvMsg with at most n bytes written to dst. dst must take
	// each Write whole while the total stays within n; an error from it
	// ends the read (EFAULT when nothing was written).
	RecvTo(dst io.Writer, n int, oob []byte, flags int) (nread, oobn, recvflags int, from []byte, err error)
}

// Source is data a stream send reads: Len is what is left, and each Read
// moves on by what it returned (gVisor's tcpip.Payloader; bytes.Reader and
// gVisor's usermem.IOSequenceReadWriter are Sources).
type Source interface {
	io.Reader
	Len() int
}

// limitedSource is the first n bytes of a Source, for a send handed to
// gVisor in pieces (tcp_opts_cork.go).
type limitedSource struct {
	src Source
	n   int
}

func (l *limitedSource) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	n, err := l.src.Read(p[:min(len(p), l.n)])
	l.n -= n
	return n, err
}

func (l *limitedSource) Len() int { return min(l.n, l.src.Len()) }

// sendStream is tcp_sendmsg's loop: write queues what fits of src until
// all is queued, blocking for room unless the socket or flags forbid it;
// a count is returned once some was queued, whatever stops the loop, and
// fail converts an error that comes before any byte.
func (g *gsock) sendStream(src Source, flags int, ready func(uint32) uint32, write func() (int64, tcpip.Error), fail func(tcpip.Error) error) (int, error) {
	deadline := deadlineAfter(g.optsSnapshot().sndTimeo)
	done := 0
	for {
		n, e := write()
		done += int(n)
		if e == nil && src.Len() == 0 {
			return done, nil
		}
		if e != nil {
			if _, wb := e.(*tcpip.ErrWouldBlock); !wb {
				if done > 0 {
					return done, nil
				}
				return 0, fail(e)
			}
		}
		if !g.mayBlock(flags) {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if _, err := g.waitReady(ready, unix.EPOLLOUT, deadline); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// readStreamTo reads at most n bytes of the connection into dst.
func (t *tcpSock) readStreamTo(dst io.Writer, n int, peek bool) (tcpip.ReadResult, tcpip.Error) {
	return t.endpoint().Read(&tcpip.LimitedWriter{W: dst, N: int64(n)}, tcpip.ReadOptions{Peek: peek})
}

func (t *tcpSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	return t.SendFrom(bytes.NewReader(p), oob, to, flags)
}

func (t *tcpSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	w := tcpip.SliceWriter(p)
	return t.RecvTo(&w, len(p), oob, flags)
}
