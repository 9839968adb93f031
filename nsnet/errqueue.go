package nsnet

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// ExtendedError is one report of the error queue: struct sock_extended_err
// decoded, with the offender that follows it in the IP_RECVERR message
// and the destination the failed datagram was sent to.
type ExtendedError struct {
	Errno  unix.Errno // ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ...
	Origin uint8      // unix.SO_EE_ORIGIN_ICMP, _LOCAL, ...
	Type   uint8      // ICMP type for SO_EE_ORIGIN_ICMP
	Code   uint8      // ICMP code for SO_EE_ORIGIN_ICMP
	// Info is the next-hop MTU of "fragmentation needed" (and the MTU of a
	// local EMSGSIZE), the pointer of "parameter problem", else 0.
	Info uint32
	// Data is ee_data; with IP_RECVERR_RFC4884 its low 16 bits are the
	// RFC 4884 length of the quoted datagram.
	Data uint32
	// Offender is the ICMP message's sender; invalid for a local error.
	Offender netip.Addr
	// Dst is the failed datagram's destination (msg_name).
	Dst netip.AddrPort
}

func (e *ExtendedError) Error() string {
	if e.Origin == unix.SO_EE_ORIGIN_ICMP {
		return fmt.Sprintf("%v (ICMP type %d code %d from %v, to %v)", e.Errno, e.Type, e.Code, e.Offender, e.Dst)
	}
	return fmt.Sprintf("%v (origin %d, to %v)", e.Errno, e.Origin, e.Dst)
}

// Unwrap lets errors.Is match the errno.
func (e *ExtendedError) Unwrap() error { return e.Errno }

// ReadErrQueue takes the oldest report of the error queue (recvmsg with
// MSG_ERRQUEUE; turn the queue on with SetRecvErr). b receives the quoted
// datagram's payload and n is its length. Unlike recvmsg, it waits for a
// report until the read deadline.
func (c *dgram) ReadErrQueue(b []byte) (n int, ee *ExtendedError, err error) {
	var oob [oobSize]byte
	n, oobn, to, err := c.recv(b, oob[:], unix.MSG_ERRQUEUE)
	if err != nil {
		return 0, nil, err
	}
	p := options.NewCmsgParser(oob[:oobn])
	for {
		m, ok := p.Next()
		if !ok {
			break
		}
		if m.Level != unix.SOL_IP || m.Type != unix.IP_RECVERR {
			continue
		}
		se, err := options.ParseSockExtendedErr(m.Data)
		if err != nil {
			return n, nil, c.err("read", err, to)
		}
		ee = &ExtendedError{
			Errno: unix.Errno(se.Errno), Origin: se.Origin, Type: se.Type, Code: se.Code,
			Info: se.Info, Data: se.Data, Dst: to,
		}
		if off := m.Data[options.SizeofSockExtendedErr:]; len(off) >= unix.SizeofSockaddrInet4 {
			if ap, fam, err := options.ParseSockaddrIn(off); err == nil && fam == unix.AF_INET {
				ee.Offender = ap.Addr()
			}
		}
		return n, ee, nil
	}
	if err := p.Err(); err != nil {
		return n, nil, c.err("read", err, to)
	}
	// A report without IP_RECVERR should not happen; say so rather than
	// return a nil report with a nil error.
	return n, nil, c.err("read", unix.EPROTO, to)
}
