package freebsd

import (
	"errors"

	"golang.org/x/sys/unix"
)

// freebsdErrno maps a Linux errno to FreeBSD's number for the same
// condition (sys/sys/errno.h). Numbers 1..34 are the same on both but
// 11 (Linux EAGAIN, FreeBSD EDEADLK).
var freebsdErrno = map[unix.Errno]int{
	unix.EAGAIN:          35,
	unix.EDEADLK:         11,
	unix.EINPROGRESS:     36,
	unix.EALREADY:        37,
	unix.ENOTSOCK:        38,
	unix.EDESTADDRREQ:    39,
	unix.EMSGSIZE:        40,
	unix.EPROTOTYPE:      41,
	unix.ENOPROTOOPT:     42,
	unix.EPROTONOSUPPORT: 43,
	unix.ESOCKTNOSUPPORT: 44,
	unix.EOPNOTSUPP:      45,
	unix.EPFNOSUPPORT:    46,
	unix.EAFNOSUPPORT:    47,
	unix.EADDRINUSE:      48,
	unix.EADDRNOTAVAIL:   49,
	unix.ENETDOWN:        50,
	unix.ENETUNREACH:     51,
	unix.ENETRESET:       52,
	unix.ECONNABORTED:    53,
	unix.ECONNRESET:      54,
	unix.ENOBUFS:         55,
	unix.EISCONN:         56,
	unix.ENOTCONN:        57,
	unix.ESHUTDOWN:       58,
	unix.ETOOMANYREFS:    59,
	unix.ETIMEDOUT:       60,
	unix.ECONNREFUSED:    61,
	unix.ELOOP:           62,
	unix.ENAMETOOLONG:    63,
	unix.EHOSTDOWN:       64,
	unix.EHOSTUNREACH:    65,
	unix.ENOTEMPTY:       66,
	unix.EUSERS:          68,
	unix.EDQUOT:          69,
	unix.ESTALE:          70,
	unix.ENOLCK:          77,
	unix.ENOSYS:          78,
	unix.EOVERFLOW:       84,
	unix.ECANCELED:       85,
	unix.EILSEQ:          86,
	unix.EBADMSG:         89,
	unix.EMULTIHOP:       90,
	unix.ENOLINK:         91,
	unix.EPROTO:          92,
	unix.ENOTRECOVERABLE: 95,
	unix.EOWNERDEAD:      96,
}

// Errno returns FreeBSD's errno number for err, a unix.Errno (Linux
// numbering) as this package's methods return; 0 for nil. Numbers 1..34
// (EPERM..ERANGE) are the same on both systems but 11 (EAGAIN is 35 on
// FreeBSD, EDEADLK 11). An errno FreeBSD has no
// name for maps to EINVAL (22); an error that is not a unix.Errno to EIO (5).
func Errno(err error) int {
	if err == nil {
		return 0
	}
	var en unix.Errno
	if !errors.As(err, &en) {
		return 5
	}
	if n, ok := freebsdErrno[en]; ok {
		return n
	}
	if en >= 1 && en <= 34 {
		return int(en)
	}
	return 22
}
