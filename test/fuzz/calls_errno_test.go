package fuzz

import "golang.org/x/sys/unix"

// errnoSet is the set of errnos one call may answer.
type errnoSet map[unix.Errno]bool

func setOf(groups ...[]unix.Errno) errnoSet {
	s := errnoSet{}
	for _, g := range groups {
		for _, e := range g {
			s[e] = true
		}
	}
	return s
}

// The allow-lists below come from the ERRORS sections of socket(2),
// bind(2), connect(2), listen(2), accept(2), getsockopt(2), send(2),
// recv(2), shutdown(2), getsockname(2), getpeername(2) and ip(7), less
// the errnos that cannot arise when there is no file descriptor table or
// user memory (EBADF, ENOTSOCK, EFAULT), plus the errnos the kernel sources
// show a call can pass on.
var (
	// Any call may run out of memory; EINTR cannot happen (nothing blocks)
	// but is in every list of the man pages, so it is tolerated.
	resourceErrnos = []unix.Errno{unix.ENOMEM, unix.ENOBUFS, unix.EINTR}

	// pendingErrnos are what a socket's sk_err can hold and sock_error()
	// hands to the next connect/send/recv/accept: icmp_err_convert's table
	// (ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE,
	// EOPNOTSUPP, EHOSTDOWN, ENONET, EACCES, EPROTO for parameter problem)
	// and TCP's (ECONNRESET, ETIMEDOUT, EPIPE).
	pendingErrnos = []unix.Errno{
		unix.ENETUNREACH, unix.EHOSTUNREACH, unix.ENOPROTOOPT, unix.ECONNREFUSED, unix.EMSGSIZE,
		unix.EOPNOTSUPP, unix.EHOSTDOWN, unix.ENONET, unix.EACCES, unix.EPROTO,
		unix.ECONNRESET, unix.ETIMEDOUT, unix.EPIPE,
	}

	allowedErrnos = map[string]errnoSet{
		// socket(2); ESOCKTNOSUPPORT for types inet_create does not know,
		// EPERM for SOCK_RAW without CAP_NET_RAW.
		"socket": setOf(resourceErrnos, []unix.Errno{
			unix.EACCES, unix.EAFNOSUPPORT, unix.EINVAL, unix.EMFILE, unix.ENFILE,
			unix.EPROTONOSUPPORT, unix.ESOCKTNOSUPPORT, unix.EPERM, unix.EPROTOTYPE,
		}),
		// bind(2) and ip(7).
		"bind": setOf(resourceErrnos, []unix.Errno{
			unix.EACCES, unix.EADDRINUSE, unix.EADDRNOTAVAIL, unix.EAFNOSUPPORT, unix.EINVAL, unix.EPERM,
		}),
		// connect(2): besides its own list, a failed asynchronous TCP
		// connect reports the pending error, or ECONNABORTED when it was
		// already reported (__inet_stream_connect's sock_error path;
		// measured: errno/tcp-reconnect-after-refused-nonblocking).
		"connect": setOf(resourceErrnos, pendingErrnos, []unix.Errno{
			unix.EACCES, unix.EPERM, unix.EADDRINUSE, unix.EADDRNOTAVAIL, unix.EAFNOSUPPORT,
			unix.EAGAIN, unix.EALREADY, unix.EINPROGRESS, unix.EISCONN, unix.EPROTOTYPE,
			unix.EINVAL, unix.ECONNABORTED,
		}),
		"listen": setOf(resourceErrnos, []unix.Errno{unix.EADDRINUSE, unix.EINVAL, unix.EOPNOTSUPP}),
		// accept(2), whose list includes the network errors "already
		// pending" on the new socket.
		"accept": setOf(resourceErrnos, pendingErrnos, []unix.Errno{
			unix.EAGAIN, unix.ECONNABORTED, unix.EINVAL, unix.EMFILE, unix.ENFILE, unix.EOPNOTSUPP,
			unix.EPROTO, unix.EPERM, unix.ENETDOWN,
		}),
		// setsockopt: getsockopt(2) (EINVAL, ENOPROTOOPT), ip(7) (EPERM,
		// EADDRINUSE/EADDRNOTAVAIL for memberships, ENODEV for interfaces,
		// ENOBUFS for igmp_max_memberships), EDOM from sock_set_timeout,
		// ENOENT/EEXIST/EBUSY from TCP_CONGESTION/TCP_ULP, EOPNOTSUPP and
		// EACCES from option handlers, EISCONN/ENOTCONN from TCP state checks,
		// EPROTO for multicast options on a TCP socket (do_ip_setsockopt's
		// is_icsk check; measured: IP_ADD_MEMBERSHIP on SOCK_STREAM).
		"setsockopt": setOf(resourceErrnos, []unix.Errno{
			unix.EINVAL, unix.ENOPROTOOPT, unix.EPERM, unix.EACCES, unix.EADDRINUSE,
			unix.EADDRNOTAVAIL, unix.ENODEV, unix.EOPNOTSUPP, unix.ENOENT, unix.EBUSY,
			unix.EEXIST, unix.EDOM, unix.EISCONN, unix.ENOTCONN, unix.EPROTO,
		}),
		// getsockopt: EOPNOTSUPP at a level the protocol does not own
		// (ip_getsockopt), ENOTCONN for peer information, ENODATA for
		// SO_PEERGROUPS without peer credentials (sk_getsockopt), ENODEV
		// and EADDRNOTAVAIL for a source filter of no interface or no
		// membership (ip_mc_msfget, ip_mc_gsfget).
		"getsockopt": setOf(resourceErrnos, []unix.Errno{
			unix.EINVAL, unix.ENOPROTOOPT, unix.EOPNOTSUPP, unix.ENOTCONN, unix.EPERM, unix.ENODATA,
			unix.ENODEV, unix.EADDRNOTAVAIL,
		}),
		// send(2) and ip(7), plus pending errors and what ip_cmsg_send and
		// routing answer (EADDRNOTAVAIL for IP_PKTINFO sources, ENODEV).
		"sendmsg": setOf(resourceErrnos, pendingErrnos, []unix.Errno{
			unix.EAGAIN, unix.EALREADY, unix.EDESTADDRREQ, unix.EINVAL, unix.EISCONN,
			unix.ENOTCONN, unix.EPERM, unix.EAFNOSUPPORT, unix.EADDRNOTAVAIL, unix.ENODEV,
		}),
		// recv(2) plus pending errors.
		"recvmsg": setOf(resourceErrnos, pendingErrnos, []unix.Errno{
			unix.EAGAIN, unix.EINVAL, unix.ENOTCONN,
		}),
		"shutdown":    setOf(resourceErrnos, []unix.Errno{unix.EINVAL, unix.ENOTCONN}),
		"getsockname": setOf(resourceErrnos, []unix.Errno{unix.EINVAL}),
		"getpeername": setOf(resourceErrnos, []unix.Errno{unix.ENOTCONN, unix.EINVAL}),
		// close(2) of a socket gives no errno except EINTR/EIO; a socket
		// close is never interrupted here.
		"close": setOf(),
		// Wait is poll(2) on one socket: EAGAIN when the deadline passes.
		"wait": setOf([]unix.Errno{unix.EAGAIN}),
		// ioctl(2), netdevice(7) and the socket ioctls: EFAULT stands for
		// an argument shorter than the request reads or writes.
		"ioctl": setOf(resourceErrnos, []unix.Errno{
			unix.ENOTTY, unix.EFAULT, unix.EINVAL, unix.ENOENT, unix.ENODEV, unix.EADDRNOTAVAIL,
			unix.EOPNOTSUPP, unix.EPERM,
		}),
	}
)

// knownDeviation reports whether err is a known, already reported
// difference from Linux that the fuzzer must not stop at again. Each entry
// names the case precisely; remove it when the socket layer is fixed.
func knownDeviation(call string, err error, a callArgs) bool {
	// None is known: the zero-length raw/ping recv (EFAULT) and the
	// ECONNABORTED of a TCP socket after connect(AF_UNSPEC) or shutdown
	// while connecting are fixed and pinned by the errno/ scenarios.
	_, _, _ = call, err, a
	return false
}

// callArgs is what knownDeviation may need to know about a call.
type callArgs struct {
	bufLen int // recvmsg/sendmsg data length
	// tcpDisconnected: a TCP socket on which connect(AF_UNSPEC) or
	// shutdown succeeded.
	tcpDisconnected bool
}
