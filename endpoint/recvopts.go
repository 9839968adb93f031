package endpoint

import (
	"golang.org/x/sys/unix"

	"netsandbox/options"
)

// rxFlags are the per-socket booleans that ask recvmsg for control
// messages: Linux's inet cmsg_flags bits plus the SOL_SOCKET timestamp
// and drop-count flags. They live in one atomic word so the receive path
// reads them without taking a lock.
type rxFlags uint32

const (
	rxPktinfo   rxFlags = 1 << iota // IP_PKTINFO
	rxTTL                           // IP_RECVTTL
	rxTOS                           // IP_RECVTOS
	rxRecvOpts                      // IP_RECVOPTS
	rxRetOpts                       // IP_RETOPTS
	rxPassSec                       // IP_PASSSEC
	rxOrigDst                       // IP_RECVORIGDSTADDR
	rxChecksum                      // IP_CHECKSUM
	rxFragSize                      // IP_RECVFRAGSIZE
	rxStamp                         // SOCK_RCVTSTAMP
	rxStampNS                       // SOCK_RCVTSTAMPNS
	rxStampNew                      // SOCK_TSTAMP_NEW (the y2038-safe cmsg types)
	rxQueueOvfl                     // SO_RXQ_OVFL
	rxIPMask    = rxPktinfo | rxTTL | rxTOS | rxRecvOpts | rxRetOpts | rxPassSec | rxOrigDst | rxChecksum | rxFragSize
)

// ipRecvFlag maps a SOL_IP option to its flag; 0 if it is not one.
func ipRecvFlag(name int) rxFlags {
	switch name {
	case unix.IP_PKTINFO:
		return rxPktinfo
	case unix.IP_RECVTTL:
		return rxTTL
	case unix.IP_RECVTOS:
		return rxTOS
	case unix.IP_RECVOPTS:
		return rxRecvOpts
	case unix.IP_RETOPTS:
		return rxRetOpts
	case unix.IP_PASSSEC:
		return rxPassSec
	case unix.IP_RECVORIGDSTADDR:
		return rxOrigDst
	case unix.IP_CHECKSUM:
		return rxChecksum
	case unix.IP_RECVFRAGSIZE:
		return rxFragSize
	}
	return 0
}

// rx reads the flags.
func (b *base) rx() rxFlags { return rxFlags(b.rxBits.Load()) }

// updateRx applies f to the flags atomically.
func (b *base) updateRx(f func(rxFlags) rxFlags) {
	for {
		old := b.rxBits.Load()
		if b.rxBits.CompareAndSwap(old, uint32(f(rxFlags(old)))) {
			return
		}
	}
}

// setRecvOpt handles the options that switch control messages on and off
// and, through setMcastOpt, the multicast TTL and loopback. handled is
// false for every other option.
func (b *base) setRecvOpt(level, name int, val []byte) (handled bool, err error) {
	switch level {
	case unix.SOL_IP:
		flag := ipRecvFlag(name)
		if flag == 0 {
			return b.setMcastOpt(name, val)
		}
		// do_ip_setsockopt: int, or one byte when shorter, or 0 when empty.
		v, _ := options.ParseIPInt(val)
		if flag == rxFragSize && b.typ != unix.SOCK_RAW && b.typ != unix.SOCK_DGRAM {
			return true, unix.EINVAL
		}
		b.updateRx(func(f rxFlags) rxFlags { return setFlag(f, flag, v != 0) })
		return true, nil
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_TIMESTAMP_OLD, unix.SO_TIMESTAMPNS_OLD, unix.SO_TIMESTAMP_NEW, unix.SO_TIMESTAMPNS_NEW:
		case unix.SO_RXQ_OVFL:
		default:
			return false, nil
		}
		v, err := options.ParseSockInt(val)
		if err != nil {
			return true, err
		}
		if name == unix.SO_RXQ_OVFL {
			b.updateRx(func(f rxFlags) rxFlags { return setFlag(f, rxQueueOvfl, v != 0) })
		} else {
			b.updateRx(func(f rxFlags) rxFlags { return setTimestamp(f, name, v != 0) })
		}
		return true, nil
	}
	return false, nil
}

// setTimestamp is sock_set_timestamp: the option named last decides the
// cmsg flavour (old or new, micro or nano seconds); turning any of them
// off stops timestamps altogether.
func setTimestamp(f rxFlags, name int, on bool) rxFlags {
	f = setFlag(f, rxStampNew, name == unix.SO_TIMESTAMP_NEW || name == unix.SO_TIMESTAMPNS_NEW)
	if !on {
		return f &^ (rxStamp | rxStampNS)
	}
	nano := name == unix.SO_TIMESTAMPNS_OLD || name == unix.SO_TIMESTAMPNS_NEW
	return setFlag(f, rxStampNS, nano) | rxStamp
}

func setFlag(f, flag rxFlags, on bool) rxFlags {
	if on {
		return f | flag
	}
	return f &^ flag
}

// getRecvOpt reads the options setRecvOpt handles, with do_ip_getsockopt's
// and sk_getsockopt's length rules.
func (b *base) getRecvOpt(level, name int, buf []byte) (handled bool, n int, err error) {
	f := b.rx()
	switch level {
	case unix.SOL_IP:
		flag := ipRecvFlag(name)
		if flag == 0 {
			return b.getMcastOpt(name, buf)
		}
		return true, options.PutIPInt(buf, int32(boolInt(f&flag != 0))), nil
	case unix.SOL_SOCKET:
		var on bool
		stamp, nano, isNew := f&rxStamp != 0, f&rxStampNS != 0, f&rxStampNew != 0
		switch name {
		case unix.SO_TIMESTAMP_OLD:
			on = stamp && !isNew && !nano
		case unix.SO_TIMESTAMPNS_OLD:
			on = nano && !isNew
		case unix.SO_TIMESTAMP_NEW:
			// Measured on Linux 6.x: the nanosecond flag does not hide it.
			on = stamp && isNew
		case unix.SO_TIMESTAMPNS_NEW:
			on = nano && isNew
		case unix.SO_RXQ_OVFL:
			on = f&rxQueueOvfl != 0
		default:
			return false, 0, nil
		}
		return true, options.PutSockInt(buf, int32(boolInt(on))), nil
	}
	return false, 0, nil
}
