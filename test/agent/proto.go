package agent

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The wire protocol: gob-encoded Requests from the harness on the agent's
// stdin, gob-encoded Responses on its stdout, matched by ID. Every request
// runs in its own goroutine, so a call that blocks (accept, recvmsg) does
// not hold up the others, as with threads on a kernel.
//
// gob sends neither nil nor empty slices, so the requests say which byte
// slices are nil (a NULL pointer in the system call) with the *Nil flags.

// Request is one call. Which fields count depends on Op.
type Request struct {
	ID uint64
	Op string
	FD int
	// A, B, C: socket (domain, type, protocol), setsockopt/getsockopt
	// (level, name), listen (backlog), accept/sendmsg/recvmsg (flags),
	// shutdown (how), ioctl (request), poll (mask).
	A, B, C int
	// P is the data buffer (its contents for sendmsg, setsockopt, bind,
	// connect; the caller's buffer for recvmsg and getsockopt, returned
	// with what the call wrote), OOB the control buffer, To the
	// destination address, Arg the ioctl argument.
	P, OOB, To, Arg       []byte
	OOBNil, ToNil, ArgNil bool
	Timeout               time.Duration // poll
	Caps                  []int         // capabilities dropped for this call
	Name, Value           string        // sysctl
}

// Response is the result of a Request.
type Response struct {
	ID    uint64
	Errno int    // unix.Errno, 0 for none
	Err   string // an error that is not an errno (the agent's own)
	// N, OOBN, Flags: byte counts and flags (recvmsg), optlen
	// (getsockopt), the new descriptor (socket, accept), revents (poll).
	N, OOBN, Flags int
	P, OOB, Addr   []byte
	AddrNil        bool
	Value          string
}

// Serve answers requests from r on w until r ends; it closes every socket
// it made when it returns.
func Serve(r io.Reader, w io.Writer) error {
	dec := gob.NewDecoder(r)
	enc := gob.NewEncoder(w)
	var encMu sync.Mutex
	var socksMu sync.Mutex
	socks := map[int]*Sock{}
	sock := func(fd int) *Sock {
		socksMu.Lock()
		defer socksMu.Unlock()
		if s := socks[fd]; s != nil {
			return s
		}
		return NewSock(-1) // EBADF
	}
	keep := func(s *Sock) int {
		socksMu.Lock()
		defer socksMu.Unlock()
		socks[s.FD()] = s
		return s.FD()
	}
	var wg sync.WaitGroup
	defer func() {
		socksMu.Lock()
		for _, s := range socks {
			s.Shutdown(unix.SHUT_RDWR)
		}
		socksMu.Unlock()
		wg.Wait()
		for _, s := range socks {
			s.Close()
		}
	}()
	for {
		var req Request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := serveOne(&req, sock, keep, func(fd int) *Sock {
				socksMu.Lock()
				defer socksMu.Unlock()
				s := socks[fd]
				delete(socks, fd)
				return s
			})
			resp.ID = req.ID
			encMu.Lock()
			defer encMu.Unlock()
			enc.Encode(resp)
		}()
	}
}

func nilIf(b []byte, isNil bool) []byte {
	if isNil {
		return nil
	}
	if b == nil {
		return []byte{}
	}
	return b
}

func setErr(resp *Response, err error) {
	var en unix.Errno
	switch {
	case err == nil:
	case errors.As(err, &en):
		resp.Errno = int(en)
	default:
		resp.Err = err.Error()
	}
}

// serveOne runs one request with its capabilities dropped if it says so.
func serveOne(req *Request, sock func(int) *Sock, keep func(*Sock) int, forget func(int) *Sock) (resp *Response) {
	resp = &Response{}
	run := func() { serveCall(req, resp, sock, keep, forget) }
	if len(req.Caps) == 0 {
		run()
		return resp
	}
	if err := WithoutCaps(req.Caps, run); err != nil {
		resp.Err = err.Error()
	}
	return resp
}

func serveCall(req *Request, resp *Response, sock func(int) *Sock, keep func(*Sock) int, forget func(int) *Sock) {
	s := sock(req.FD)
	var err error
	switch req.Op {
	case "socket":
		var ns *Sock
		if ns, err = Socket(req.A, req.B, req.C); err == nil {
			resp.N = keep(ns)
		}
	case "bind":
		err = s.Bind(nilIf(req.P, false))
	case "connect":
		err = s.Connect(nilIf(req.P, false))
	case "listen":
		err = s.Listen(req.A)
	case "accept":
		var ns *Sock
		var sa []byte
		if ns, sa, err = s.Accept(req.A); err == nil {
			resp.N = keep(ns)
			resp.Addr, resp.AddrNil = sa, sa == nil
		}
	case "getsockname", "getpeername":
		var sa []byte
		if req.Op == "getsockname" {
			sa, err = s.GetSockName()
		} else {
			sa, err = s.GetPeerName()
		}
		resp.Addr, resp.AddrNil = sa, sa == nil
	case "sendmsg":
		resp.N, err = s.SendMsg(nilIf(req.P, false), nilIf(req.OOB, req.OOBNil), nilIf(req.To, req.ToNil), req.A)
	case "recvmsg":
		p, oob := nilIf(req.P, false), nilIf(req.OOB, req.OOBNil)
		var from []byte
		resp.N, resp.OOBN, resp.Flags, from, err = s.RecvMsg(p, oob, req.A)
		resp.P, resp.OOB, resp.Addr, resp.AddrNil = p, oob, from, from == nil
	case "setsockopt":
		err = s.SetSockOpt(req.A, req.B, nilIf(req.P, false))
	case "getsockopt":
		buf := nilIf(req.P, false)
		resp.N, err = s.GetSockOpt(req.A, req.B, buf)
		resp.P = buf
	case "shutdown":
		err = s.Shutdown(req.A)
	case "close":
		if cs := forget(req.FD); cs != nil {
			err = cs.Close()
		} else {
			err = unix.EBADF
		}
	case "ioctl":
		arg := nilIf(req.Arg, req.ArgNil)
		err = s.Ioctl(uint(req.A), arg)
		resp.P = arg
	case "poll":
		var ev uint32
		ev, err = s.Poll(uint32(req.A), req.Timeout)
		resp.N = int(ev)
	case "setsysctl":
		err = WriteSysctl(req.Name, req.Value)
	case "getsysctl":
		resp.Value, err = ReadSysctl(req.Name)
	case "ping":
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	setErr(resp, err)
}
