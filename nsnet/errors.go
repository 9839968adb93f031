package nsnet

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// syscallOf names the socket call behind each net.OpError Op, so an errno
// reads like package net's ("read tcp ...: recvmsg: connection reset").
var syscallOf = map[string]string{
	"read":   "recvmsg",
	"write":  "sendmsg",
	"dial":   "connect",
	"listen": "listen",
	"accept": "accept",
	"set":    "setsockopt",
	"get":    "getsockopt",
	"socket": "socket",
	"bind":   "bind",
	"close":  "close",
}

// opError wraps err as package net does. An errno goes inside an
// *os.SyscallError, so errors.Is(err, unix.EXXX) still matches.
func opError(op, network string, src, dst net.Addr, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		name := syscallOf[op]
		if name == "" {
			name = op
		}
		err = os.NewSyscallError(name, e)
	}
	return &net.OpError{Op: op, Net: network, Source: src, Addr: dst, Err: err}
}
