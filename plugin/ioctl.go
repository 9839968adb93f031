package plugin

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/usermem"
)

// Request numbers x/sys/unix does not name.
const (
	siocgstampNew   = 0x80108906
	siocgstampnsNew = 0x80108907
	sizeofIfconf    = 16
	sizeofIfreq     = 40
)

// Ioctl implements vfs.FileDescriptionImpl.Ioctl. The sentry has already
// handled FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC and the owner requests; the
// others go to the endpoint with as much of the user memory as they may
// touch and as is readable (a short argument is how the endpoint sees a
// fault), and the endpoint decides: the socket-queue requests take an int
// where the protocol has them, and a struct ifreq where they fall through
// to the netdevice requests (SIOCATMARK on UDP reads the ifreq and answers
// ENOTTY, not EFAULT). What the endpoint wrote is copied back on success
// and on EFAULT, as Linux writes a timestamp's seconds before faulting on
// its microseconds.
func (s *sock) Ioctl(ctx context.Context, uio usermem.IO, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	req := uint32(args[1].Uint())
	addr := args[2].Pointer()
	var size, out int
	switch req {
	case unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCOUTQNSD, unix.SIOCATMARK:
		size, out = sizeofIfreq, 4
	case unix.SIOCGSTAMP, unix.SIOCGSTAMPNS, siocgstampNew, siocgstampnsNew:
		size = 16
	case unix.SIOCGIFCONF:
		return 0, s.ifconf(ctx, uio, addr)
	default:
		if req>>8&0xff == 0x89 {
			size = sizeofIfreq
		}
	}
	arg := make([]byte, size)
	n, _ := uio.CopyIn(ctx, addr, arg, usermem.IOOpts{})
	arg = arg[:n]
	if addr == 0 {
		arg = nil
	}
	err := s.ep.Ioctl(uint(req), arg)
	if err != nil && !isErrno(err, unix.EFAULT) {
		return 0, errnoErr(err)
	}
	if out > 0 && len(arg) > out {
		arg = arg[:out]
	}
	if len(arg) > 0 {
		if _, cerr := uio.CopyOut(ctx, addr, arg, usermem.IOOpts{}); cerr != nil && err == nil {
			return 0, cerr
		}
	}
	if err != nil {
		return 0, errnoErr(err)
	}
	return 0, nil
}

// ifconf is SIOCGIFCONF: struct ifconf points at the buffer; the endpoint
// takes the buffer right after the struct.
func (s *sock) ifconf(ctx context.Context, uio usermem.IO, addr hostarch.Addr) error {
	hdr := make([]byte, sizeofIfconf)
	if _, err := uio.CopyIn(ctx, addr, hdr, usermem.IOOpts{}); err != nil {
		return linuxerr.EFAULT
	}
	ifcLen := int32(binary.NativeEndian.Uint32(hdr))
	ifcBuf := hostarch.Addr(binary.NativeEndian.Uint64(hdr[8:]))
	arg := hdr
	if ifcBuf != 0 && ifcLen > 0 {
		arg = append(hdr, make([]byte, min(int(ifcLen), 1<<16))...)
	}
	if err := s.ep.Ioctl(unix.SIOCGIFCONF, arg); err != nil {
		return errnoErr(err)
	}
	newLen := int(int32(binary.NativeEndian.Uint32(arg)))
	if ifcBuf != 0 && newLen > 0 && newLen <= len(arg)-sizeofIfconf {
		if _, err := uio.CopyOut(ctx, ifcBuf, arg[sizeofIfconf:sizeofIfconf+newLen], usermem.IOOpts{}); err != nil {
			return err
		}
	}
	_, err := uio.CopyOut(ctx, addr, arg[:4], usermem.IOOpts{})
	return err
}

// errnoErr converts an endpoint error for a vfs method.
func errnoErr(err error) error {
	return toSysErr(err).ToError()
}
