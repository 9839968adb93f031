package agent

import (
	"sync/atomic"
	"time"
)

// RemoteSock is a socket in an agent, with Sock's methods. Calls that
// check capabilities run in the agent without the ones the socket was
// made without (Client.Socket's caps).
type RemoteSock struct {
	c    *Client
	caps []int
	fd   atomic.Int64
}

func (s *RemoteSock) call(req *Request) (*Response, error) {
	req.FD = int(s.fd.Load())
	return s.c.Call(req)
}

// privileged is a request that is not capability-checked.
func (s *RemoteSock) privileged(req *Request) (*Response, error) { return s.call(req) }

func (s *RemoteSock) checked(req *Request) (*Response, error) {
	req.Caps = s.caps
	return s.call(req)
}

func (s *RemoteSock) Bind(sa []byte) error {
	_, err := s.checked(&Request{Op: "bind", P: sa})
	return err
}

func (s *RemoteSock) Connect(sa []byte) error {
	_, err := s.checked(&Request{Op: "connect", P: sa})
	return err
}

func (s *RemoteSock) Listen(backlog int) error {
	_, err := s.checked(&Request{Op: "listen", A: backlog})
	return err
}

// Accept returns the accepted socket, which has every capability (as a
// kernel's accept4 does not check them).
func (s *RemoteSock) Accept(flags int) (*RemoteSock, []byte, error) {
	resp, err := s.privileged(&Request{Op: "accept", A: flags})
	if err != nil {
		return nil, nil, err
	}
	return s.c.sock(resp.N, nil), addr(resp.Addr, resp.AddrNil), nil
}

func (s *RemoteSock) GetSockName() ([]byte, error) {
	resp, err := s.privileged(&Request{Op: "getsockname"})
	if err != nil {
		return nil, err
	}
	return addr(resp.Addr, resp.AddrNil), nil
}

func (s *RemoteSock) GetPeerName() ([]byte, error) {
	resp, err := s.privileged(&Request{Op: "getpeername"})
	if err != nil {
		return nil, err
	}
	return addr(resp.Addr, resp.AddrNil), nil
}

func (s *RemoteSock) SendMsg(p, oob, to []byte, flags int) (int, error) {
	resp, err := s.checked(&Request{Op: "sendmsg", P: p, OOB: oob, OOBNil: oob == nil, To: to, ToNil: to == nil, A: flags})
	if err != nil {
		return 0, err
	}
	return resp.N, nil
}

func (s *RemoteSock) RecvMsg(p, oob []byte, flags int) (int, int, int, []byte, error) {
	resp, err := s.privileged(&Request{Op: "recvmsg", P: p, OOB: oob, OOBNil: oob == nil, A: flags})
	if err != nil {
		return 0, 0, 0, nil, err
	}
	copy(p, resp.P)
	copy(oob, resp.OOB)
	return resp.N, resp.OOBN, resp.Flags, addr(resp.Addr, resp.AddrNil), nil
}

func (s *RemoteSock) SetSockOpt(level, name int, val []byte) error {
	_, err := s.checked(&Request{Op: "setsockopt", A: level, B: name, P: val})
	return err
}

func (s *RemoteSock) GetSockOpt(level, name int, buf []byte) (int, error) {
	resp, err := s.privileged(&Request{Op: "getsockopt", A: level, B: name, P: buf})
	if err != nil {
		return 0, err
	}
	copy(buf, resp.P)
	return resp.N, nil
}

func (s *RemoteSock) Shutdown(how int) error {
	_, err := s.privileged(&Request{Op: "shutdown", A: how})
	return err
}

// Close closes the agent's descriptor once; later calls answer EBADF.
func (s *RemoteSock) Close() error {
	fd := s.fd.Swap(-1)
	_, err := s.c.Call(&Request{Op: "close", FD: int(fd)})
	return err
}

func (s *RemoteSock) Ioctl(req uint, arg []byte) error {
	resp, err := s.checked(&Request{Op: "ioctl", A: int(req), Arg: arg, ArgNil: arg == nil})
	if resp != nil {
		copy(arg, resp.P)
	}
	return err
}

func (s *RemoteSock) Poll(mask uint32, timeout time.Duration) (uint32, error) {
	resp, err := s.privileged(&Request{Op: "poll", A: int(mask), Timeout: timeout})
	if err != nil {
		return 0, err
	}
	return uint32(resp.N), nil
}
