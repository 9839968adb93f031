package plugin

import (
	"encoding/binary"
	"math"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/marshal"
	"gvisor.dev/gvisor/pkg/marshal/primitive"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/syserr"
)

// maxOptLen bounds a getsockopt buffer (the largest IPv4 option,
// IP_MSFILTER with igmp_max_msf sources, is far smaller).
const maxOptLen = 1 << 16

// Timeout options (SO_RCVTIMEO_NEW/SO_SNDTIMEO_NEW take the same 16-byte
// struct __kernel_sock_timeval as the old ones take struct timeval on
// 64-bit).
const (
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
)

// GetSockOpt implements socket.Socket.GetSockOpt: the endpoint answers with
// Linux's bytes and length. The caller's buffer is read first because some
// options take input there (IP_MSFILTER).
func (s *sock) GetSockOpt(t *kernel.Task, level, name int, outPtr hostarch.Addr, outLen int) (marshal.Marshallable, *syserr.Error) {
	buf := make([]byte, min(outLen, maxOptLen))
	if len(buf) > 0 && outPtr != 0 {
		t.CopyInBytes(outPtr, buf) // a fault leaves zeros, as for an output-only option
	}
	n, err := s.ep.GetSockOpt(level, name, buf)
	if err != nil {
		return nil, toSysErr(err)
	}
	// An IP_MSFILTER or MCAST_MSFILTER read whose numsrc asks for more
	// sources than optlen holds answers Linux's larger length (which
	// copies past optlen); the sentry can hand back only the buffer.
	n = min(n, len(buf))
	v := primitive.ByteSlice(buf[:n])
	return &v, nil
}

// SetSockOpt implements socket.Socket.SetSockOpt: the bytes go to the
// endpoint unchanged, after the task's capabilities are checked
// (setSockOptCapCheck). SO_RCVTIMEO and SO_SNDTIMEO are also given to the
// sentry, whose syscalls turn them into deadlines.
func (s *sock) SetSockOpt(t *kernel.Task, level, name int, opt []byte) *syserr.Error {
	if serr := setSockOptCapCheck(t, level, name, opt); serr != nil {
		return serr
	}
	if err := s.ep.SetSockOpt(level, name, opt); err != nil {
		return toSysErr(err)
	}
	if level == linux.SOL_SOCKET && len(opt) >= 16 {
		switch name {
		case linux.SO_RCVTIMEO, soRcvtimeoNew:
			s.SetRecvTimeout(timeoutNanos(opt))
		case linux.SO_SNDTIMEO, soSndtimeoNew:
			s.SetSendTimeout(timeoutNanos(opt))
		}
	}
	return nil
}

// timeoutNanos turns a timeval the endpoint accepted into the sentry's
// timeout: 0 waits forever, a negative one does not wait (Linux's
// sock_set_timeout stores 0 jiffies for a negative tv_sec).
func timeoutNanos(opt []byte) int64 {
	sec := int64(binary.NativeEndian.Uint64(opt))
	usec := int64(binary.NativeEndian.Uint64(opt[8:]))
	if sec < 0 {
		return -1
	}
	if sec > math.MaxInt64/int64(1e9)-1 {
		return 0
	}
	return sec*1e9 + usec*1e3
}
