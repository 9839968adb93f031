package harness

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"netsandbox/endpoint"
	"netsandbox/stack"
	"netsandbox/test/agent"
)

// Unprivileged hosts: a scenario may act as a program that lacks some
// capabilities (EACCES for a privileged port without
// CAP_NET_BIND_SERVICE, EPERM for SOCK_RAW without CAP_NET_RAW). The
// kernel host makes each capability-checked call (socket, bind, connect,
// listen, setsockopt, sendmsg, ioctl) on a locked OS thread whose
// effective set lacks them: capabilities are per thread, they stay
// permitted and are raised again before the thread is released. The
// netsandbox host makes the sockets on a second stack whose Config.Caps
// lacks them, with lo only (127.0.0.1/8) and the DUT stack's sysctls: a
// scenario addresses it through loopback or the wildcard.

// Unprivileger is a host that can make a host without some capabilities
// (unix.CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_NET_RAW).
type Unprivileger interface {
	Unprivileged(caps ...int) (Host, error)
}

// Unprivileged returns h acting without caps, with its sockets tracked
// like the scenario's others; it records the step and aborts when h
// cannot drop them.
func (e *Env) Unprivileged(h Host, caps ...int) Host {
	inner := h
	if t, ok := h.(trackedHost); ok {
		inner = t.Host
	}
	u, ok := inner.(Unprivileger)
	if !ok {
		e.Check("unprivileged host", fmt.Errorf("%s cannot drop capabilities", h.Name()))
	}
	uh, err := u.Unprivileged(caps...)
	e.Check(fmt.Sprintf("%s without capabilities %v", h.Name(), caps), err)
	return trackedHost{uh, e}
}

// withoutCaps runs fn on a locked OS thread with caps cleared from the
// thread's effective set.
func withoutCaps(caps []int, fn func()) error { return agent.WithoutCaps(caps, fn) }

// Unprivileged implements Unprivileger.
func (h *KernelHost) Unprivileged(caps ...int) (Host, error) {
	return &unprivKernelHost{KernelHost: h, caps: append([]int(nil), caps...)}, nil
}

type unprivKernelHost struct {
	*KernelHost
	caps []int
}

func (h *unprivKernelHost) Name() string { return h.KernelHost.Name() + "(unprivileged)" }

func (h *unprivKernelHost) Socket(domain, typ, proto int) (Sock, error) {
	var fd uintptr
	var errno unix.Errno
	err := InNetns(h.ns, func() error {
		return withoutCaps(h.caps, func() {
			fd, _, errno = unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
		})
	})
	if err != nil {
		return nil, err
	}
	if errno != 0 {
		return nil, errno
	}
	return &unprivKernelSock{kernelSock: newKernelSock(int(fd)), caps: h.caps}, nil
}

// unprivKernelSock makes the calls that check capabilities without them.
type unprivKernelSock struct {
	*kernelSock
	caps []int
}

func (s *unprivKernelSock) do(fn func()) {
	if err := withoutCaps(s.caps, fn); err != nil {
		panic(err) // the harness cannot keep its promise: stop the run
	}
}

func (s *unprivKernelSock) Bind(sa []byte) (err error) {
	s.do(func() { err = s.kernelSock.Bind(sa) })
	return err
}

func (s *unprivKernelSock) Connect(sa []byte) (err error) {
	s.do(func() { err = s.kernelSock.Connect(sa) })
	return err
}

func (s *unprivKernelSock) Listen(backlog int) (err error) {
	s.do(func() { err = s.kernelSock.Listen(backlog) })
	return err
}

func (s *unprivKernelSock) SetSockOpt(level, name int, val []byte) (err error) {
	s.do(func() { err = s.kernelSock.SetSockOpt(level, name, val) })
	return err
}

func (s *unprivKernelSock) SendMsg(p, oob, to []byte, flags int) (n int, err error) {
	s.do(func() { n, err = s.kernelSock.SendMsg(p, oob, to, flags) })
	return n, err
}

func (s *unprivKernelSock) Ioctl(req uint, arg []byte) (err error) {
	s.do(func() { err = s.kernelSock.Ioctl(req, arg) })
	return err
}

// Unprivileged implements Unprivileger.
func (h *NetsandboxHost) Unprivileged(caps ...int) (Host, error) {
	var drop stack.Caps
	for _, c := range caps {
		switch c {
		case unix.CAP_NET_BIND_SERVICE:
			drop |= stack.CapNetBindService
		case unix.CAP_NET_ADMIN:
			drop |= stack.CapNetAdmin
		case unix.CAP_NET_RAW:
			drop |= stack.CapNetRaw
		default:
			return nil, fmt.Errorf("netsandbox does not model capability %d", c)
		}
	}
	return &unprivNSHost{parent: h, caps: h.st.Caps() &^ drop}, nil
}

// unprivNSHost makes its sockets on a stack of its own, made with the first
// socket and closed with the last.
type unprivNSHost struct {
	parent *NetsandboxHost
	caps   stack.Caps
	mu     sync.Mutex
	st     *stack.Stack
	n      int
}

func (h *unprivNSHost) Name() string { return h.parent.Name() + "(unprivileged)" }

func (h *unprivNSHost) SetSysctl(name, value string) error {
	st, err := h.acquire()
	if err != nil {
		return err
	}
	defer h.release()
	return (&NetsandboxHost{st: st}).SetSysctl(name, value)
}

func (h *unprivNSHost) GetSysctl(name string) (string, error) {
	st, err := h.acquire()
	if err != nil {
		return "", err
	}
	defer h.release()
	return (&NetsandboxHost{st: st}).GetSysctl(name)
}

func (h *unprivNSHost) Socket(domain, typ, proto int) (Sock, error) {
	st, err := h.acquire()
	if err != nil {
		return nil, err
	}
	s, err := endpoint.New(st, domain, typ, proto)
	if err != nil {
		h.release()
		return nil, err
	}
	return &unprivNSSock{nsSock: nsSock{s}, h: h}, nil
}

// acquire returns the stack, making it if needed, and counts one user.
func (h *unprivNSHost) acquire() (*stack.Stack, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st == nil {
		parent := h.parent.st
		st, err := stack.New(stack.Config{Caps: h.caps, GID: parent.GID()})
		if err != nil {
			return nil, err
		}
		for _, name := range parent.Sysctl().Names() {
			if v, err := parent.Sysctl().Get(name); err == nil {
				_ = st.Sysctl().Set(name, v)
			}
		}
		h.st = st
	}
	h.n++
	return h.st, nil
}

func (h *unprivNSHost) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n--; h.n == 0 && h.st != nil {
		h.st.Close()
		h.st = nil
	}
}

// unprivNSSock releases the host's stack when closed.
type unprivNSSock struct {
	nsSock
	h    *unprivNSHost
	once sync.Once
}

func (s *unprivNSSock) Accept(flags int) (Sock, []byte, error) {
	a, sa, err := s.nsSock.Accept(flags)
	if err != nil || a == nil {
		return nil, sa, err
	}
	s.h.mu.Lock()
	s.h.n++
	s.h.mu.Unlock()
	return &unprivNSSock{nsSock: a.(nsSock), h: s.h}, sa, nil
}

func (s *unprivNSSock) Close() error {
	err := s.nsSock.Close()
	s.once.Do(s.h.release)
	return err
}
