package endpoint

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"netsandbox/options"
)

// Option handling of AF_INET6 raw and ping sockets: SOL_SOCKET as every
// socket (base's), SOL_IPV6 as do_ipv6_setsockopt/do_ipv6_getsockopt
// (gsock6_opts.go, shared with TCP), SOL_IP as IPv4's code for ping
// sockets (servesIPLevel). Other levels are ENOPROTOOPT.

func (k *sock6) SetSockOpt(level, name int, val []byte) error {
	if k.isClosed() {
		return unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_RXQ_OVFL, unix.SO_TIMESTAMPING_OLD, unix.SO_TIMESTAMPING_NEW:
			return unix.ENOPROTOOPT // not delivered on AF_INET6 yet
		}
		if err := k.setCommon(level, name, val); err != nil {
			return err
		}
		return k.push()
	case unix.SOL_IPV6:
		if err := k.setIPv6(name, val); err != nil {
			return err
		}
		if name == unix.IPV6_RECVERR && k.errs != nil && !k.endpoint().SocketOptions().GetIPv6RecvError() {
			k.errs.purge() // turning it off purges the queue
		}
		return k.push()
	case unix.SOL_IP:
		if !k.servesIPLevel() {
			return unix.ENOPROTOOPT
		}
		if err := k.setCommon(level, name, val); err != nil {
			return err
		}
		return k.push()
	}
	return unix.ENOPROTOOPT
}

func (k *sock6) GetSockOpt(level, name int, buf []byte) (int, error) {
	if k.isClosed() {
		return 0, unix.EBADF
	}
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_DOMAIN:
			return options.PutSockInt(buf, unix.AF_INET6), nil
		case unix.SO_ERROR:
			if len(buf) < 4 {
				return 0, unix.EINVAL
			}
			if e := k.takeErr6(); e != 0 {
				return putErrno(buf, e), nil
			}
			return putErrno(buf, unix.Errno(errOfErrno(k.endpoint().LastError()))), nil
		case unix.SO_ACCEPTCONN:
			return options.PutSockInt(buf, 0), nil // never listening
		}
		return k.getCommon(level, name, buf)
	case unix.SOL_IPV6:
		return k.getIPv6(name, buf)
	case unix.SOL_IP:
		if name == unix.IP_PROTOCOL && k.servesIPLevel() {
			// inet_num: a ping socket's identifier.
			return options.PutIPInt(buf, int32(k.localPort())), nil
		}
		if k.servesIPLevel() {
			return k.getCommon(level, name, buf) // ip_getsockopt's, as Linux
		}
	}
	return 0, unix.ENOPROTOOPT
}

func errOfErrno(e tcpip.Error) int {
	if e == nil {
		return 0
	}
	if err, ok := errOf(e).(unix.Errno); ok {
		return int(err)
	}
	return 0
}
