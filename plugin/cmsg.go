package plugin

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/syserr"
)

// The sentry carries control messages in socket.ControlMessages, not as
// bytes: recvmsg packs them from the IPControlMessages fields in a fixed
// order (control.PackControlMessages) and sendmsg parses them into those
// fields first (control.Parse). These functions convert between those
// fields and the Linux control bytes endpoint.Socket speaks. A message the
// struct has no field for (IP_RECVOPTS, IP_RETOPTS, IP_CHECKSUM,
// IP_RECVFRAGSIZE, SO_TIMESTAMPNS, SO_TIMESTAMPING) cannot reach the
// caller: that is the sentry's limit, in pkg/sentry/socket/control.

// Truncation. Linux's put_cmsg writes a message that does not fit whole as
// its header with cmsg_len cut to the bytes left and as much of its data
// as fits, sets MSG_CTRUNC, and writes nothing after it. The sentry cannot
// write that: recvSingleMsg (pkg/sentry/syscalls/linux/sys_socket.go)
// builds the caller's control buffer itself from socket.ControlMessages
// with control.PackControlMessages, in its own order, and the socket's
// RecvMsg is told only the buffer's length (controlDataLen), never its
// address, so it cannot write bytes there. For a message whose data does
// not fit, putCmsgStruct (pkg/sentry/socket/control/control.go) writes the
// header alone, with cmsg_len 16 and no data. So the endpoint is given
// room for every message (the values stay whole), linuxControl finds the
// messages Linux would deliver into the caller's length, whole or cut, and
// MSG_CTRUNC is set as Linux sets it; the sentry then writes those it has
// room for, a cut one as a bare header.

// fullControl is a control buffer that holds every message an IPv4 socket
// can deliver at once (timestamp, drop count, IP_PKTINFO, IP_TTL, IP_TOS,
// 40 bytes of IP options twice, IP_ORIGDSTADDR, IP_CHECKSUM,
// IP_RECVFRAGSIZE, IP_RECVERR with its offender: under 400 bytes).
const fullControl = 512

// linuxControl walks the complete messages in oob as put_cmsg would place
// them into a control buffer of controlLen bytes. It returns the prefix of
// oob holding the messages Linux delivers there, the last one possibly cut
// (it is returned whole), and whether Linux sets MSG_CTRUNC.
func linuxControl(oob []byte, controlLen int) ([]byte, bool) {
	room, off := controlLen, 0
	for off+unix.SizeofCmsghdr <= len(oob) {
		cmlen := int(binary.NativeEndian.Uint64(oob[off:]))
		if cmlen < unix.SizeofCmsghdr || off+cmlen > len(oob) {
			break
		}
		space := min(unix.CmsgSpace(cmlen-unix.SizeofCmsghdr), len(oob)-off)
		if room < unix.SizeofCmsghdr {
			return oob[:off], true
		}
		if room < cmlen {
			return oob[:off+space], true
		}
		room -= min(space, room)
		off += space
	}
	return oob[:off], false
}

// sentryTruncates reports whether the sentry, packing cm into a control
// buffer of controlLen bytes in its own order (control.PackControlMessages:
// timestamp, TCP_CM_INQ, IP_TOS, IP_TTL, IPV6_TCLASS, IPV6_HOPLIMIT,
// IP_PKTINFO, IPV6_PKTINFO, IP_ORIGDSTADDR, IP_RECVERR), cuts a message to its bare header or leaves it out. Its
// order is not Linux's (IP_PKTINFO, IP_TTL, IP_TOS), so it can cut a
// message that Linux delivers whole; the caller is then told MSG_CTRUNC,
// as for any cut message.
func sentryTruncates(cm *socket.ControlMessages, controlLen int) bool {
	ip := &cm.IP
	var sizes [10]int
	n := 0
	add := func(present bool, size int) {
		if present {
			sizes[n] = size
			n++
		}
	}
	add(ip.HasTimestamp, linux.SizeOfTimeval)
	add(ip.HasInq, linux.SizeOfControlMessageInq)
	add(ip.HasTOS, linux.SizeOfControlMessageTOS)
	add(ip.HasTTL, linux.SizeOfControlMessageTTL)
	add(ip.HasTClass, linux.SizeOfControlMessageTClass)
	add(ip.HasHopLimit, linux.SizeOfControlMessageHopLimit)
	add(ip.HasIPPacketInfo, linux.SizeOfControlMessageIPPacketInfo)
	add(ip.HasIPv6PacketInfo, linux.SizeOfControlMessageIPv6PacketInfo)
	if ip.OriginalDstAddress != nil {
		add(true, ip.OriginalDstAddress.SizeBytes())
	}
	if ip.SockErr != nil {
		add(true, ip.SockErr.SizeBytes())
	}
	off := 0
	for _, size := range sizes[:n] {
		if off+unix.CmsgLen(size) > controlLen {
			return true
		}
		off += unix.CmsgSpace(size)
	}
	return false
}

// controlMessagesFrom parses the complete control messages in oob.
func controlMessagesFrom(oob []byte) socket.ControlMessages {
	var cm socket.ControlMessages
	if len(oob) == 0 {
		return cm
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil && len(msgs) == 0 {
		return cm
	}
	ip := &cm.IP
	for _, m := range msgs {
		d := m.Data
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMP && len(d) >= 16:
			sec := int64(binary.NativeEndian.Uint64(d))
			usec := int64(binary.NativeEndian.Uint64(d[8:]))
			ip.HasTimestamp, ip.Timestamp = true, time.Unix(sec, usec*1000)
		case m.Header.Level == unix.SOL_TCP && m.Header.Type == unix.TCP_CM_INQ && len(d) >= 4:
			ip.HasInq, ip.Inq = true, int32(binary.NativeEndian.Uint32(d))
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_TOS && len(d) >= 1:
			ip.HasTOS, ip.TOS = true, d[0]
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_TTL && len(d) >= 4:
			ip.HasTTL, ip.TTL = true, binary.NativeEndian.Uint32(d)
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_PKTINFO && len(d) >= linux.SizeOfControlMessageIPPacketInfo:
			ip.HasIPPacketInfo = true
			ip.PacketInfo.UnmarshalUnsafe(d)
		case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_TCLASS && len(d) >= 4:
			ip.HasTClass, ip.TClass = true, binary.NativeEndian.Uint32(d)
		case m.Header.Level == unix.SOL_IPV6 && (m.Header.Type == unix.IPV6_HOPLIMIT || m.Header.Type == unix.IPV6_2292HOPLIMIT) && len(d) >= 4:
			// RFC 2292's IPV6_2292HOPLIMIT (setsockopt of the same
			// name, which tracepath -6 uses) has no field of its own:
			// the sentry packs HopLimit as IPV6_HOPLIMIT
			// (control.PackHopLimit), the type tracepath also reads.
			// Linux delivers both when both options are on, with one
			// value; the sentry writes one.
			ip.HasHopLimit, ip.HopLimit = true, binary.NativeEndian.Uint32(d)
		case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(d) >= linux.SizeOfControlMessageIPv6PacketInfo:
			ip.HasIPv6PacketInfo = true
			ip.IPv6PacketInfo.UnmarshalUnsafe(d)
		case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_ORIGDSTADDR && len(d) >= linux.SockAddrInet6Size:
			var sa linux.SockAddrInet6
			sa.UnmarshalUnsafe(d)
			ip.OriginalDstAddress = &sa
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_ORIGDSTADDR && len(d) >= linux.SockAddrInetSize:
			var sa linux.SockAddrInet
			sa.UnmarshalUnsafe(d)
			ip.OriginalDstAddress = &sa
		case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR:
			var e linux.SockErrCMsgIPv6
			if len(d) >= e.SizeBytes() {
				e.UnmarshalBytes(d)
				ip.SockErr = &e
			}
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR:
			var e linux.SockErrCMsgIPv4
			if len(d) >= e.SizeBytes() {
				e.UnmarshalBytes(d)
				ip.SockErr = &e
			} else if len(d) >= sizeofSockExtendedErr {
				// No offender (an error the socket raised itself).
				full := make([]byte, e.SizeBytes())
				copy(full, d)
				e.UnmarshalBytes(full)
				ip.SockErr = &e
			}
		}
	}
	return cm
}

// controlBytes encodes what the sentry parsed from sendmsg's control
// buffer back into Linux control messages for the endpoint, which then
// validates them as Linux does. Messages the sentry does not parse for
// AF_INET sockets never get here (control.Parse answers EINVAL). The IPv6
// ones (IPV6_TCLASS, IPV6_HOPLIMIT, IPV6_PKTINFO) are passed on too: an
// AF_INET6 endpoint takes them, an AF_INET one skips them as ip_cmsg_send
// does.
func controlBytes(cm socket.ControlMessages) ([]byte, *syserr.Error) {
	if cm.Unix.Rights != nil {
		return nil, syserr.ErrInvalidArgument // SCM_RIGHTS on AF_INET: __sock_cmsg_send
	}
	var b []byte
	ip := &cm.IP
	if ip.HasTimestamp {
		var tv [16]byte
		ns := ip.Timestamp.UnixNano()
		binary.NativeEndian.PutUint64(tv[:], uint64(ns/1e9))
		binary.NativeEndian.PutUint64(tv[8:], uint64(ns%1e9/1e3))
		b = appendCmsg(b, unix.SOL_SOCKET, unix.SO_TIMESTAMP, tv[:])
	}
	if ip.HasTOS {
		var v [4]byte
		binary.NativeEndian.PutUint32(v[:], uint32(ip.TOS))
		b = appendCmsg(b, unix.SOL_IP, unix.IP_TOS, v[:])
	}
	if ip.HasTTL {
		var v [4]byte
		binary.NativeEndian.PutUint32(v[:], ip.TTL)
		b = appendCmsg(b, unix.SOL_IP, unix.IP_TTL, v[:])
	}
	if ip.HasIPPacketInfo {
		v := make([]byte, linux.SizeOfControlMessageIPPacketInfo)
		ip.PacketInfo.MarshalUnsafe(v)
		b = appendCmsg(b, unix.SOL_IP, unix.IP_PKTINFO, v)
	}
	if ip.HasTClass {
		var v [4]byte
		binary.NativeEndian.PutUint32(v[:], ip.TClass)
		b = appendCmsg(b, unix.SOL_IPV6, unix.IPV6_TCLASS, v[:])
	}
	if ip.HasHopLimit {
		var v [4]byte
		binary.NativeEndian.PutUint32(v[:], ip.HopLimit)
		b = appendCmsg(b, unix.SOL_IPV6, unix.IPV6_HOPLIMIT, v[:])
	}
	if ip.HasIPv6PacketInfo {
		v := make([]byte, linux.SizeOfControlMessageIPv6PacketInfo)
		ip.IPv6PacketInfo.MarshalUnsafe(v)
		b = appendCmsg(b, unix.SOL_IPV6, unix.IPV6_PKTINFO, v)
	}
	if sa, ok := ip.OriginalDstAddress.(*linux.SockAddrInet); ok {
		v := make([]byte, linux.SockAddrInetSize)
		sa.MarshalUnsafe(v)
		b = appendCmsg(b, unix.SOL_IP, unix.IP_ORIGDSTADDR, v)
	}
	if sa, ok := ip.OriginalDstAddress.(*linux.SockAddrInet6); ok {
		v := make([]byte, linux.SockAddrInet6Size)
		sa.MarshalUnsafe(v)
		b = appendCmsg(b, unix.SOL_IPV6, unix.IPV6_ORIGDSTADDR, v)
	}
	if e, ok := ip.SockErr.(*linux.SockErrCMsgIPv6); ok {
		v := make([]byte, e.SizeBytes())
		e.MarshalBytes(v)
		b = appendCmsg(b, unix.SOL_IPV6, unix.IPV6_RECVERR, v)
	}
	if e, ok := ip.SockErr.(*linux.SockErrCMsgIPv4); ok {
		v := make([]byte, e.SizeBytes())
		e.MarshalBytes(v)
		b = appendCmsg(b, unix.SOL_IP, unix.IP_RECVERR, v)
	}
	return b, nil
}

func appendCmsg(b []byte, level, typ int, data []byte) []byte {
	h := make([]byte, unix.CmsgSpace(len(data)))
	binary.NativeEndian.PutUint64(h, uint64(unix.CmsgLen(len(data))))
	binary.NativeEndian.PutUint32(h[8:], uint32(level))
	binary.NativeEndian.PutUint32(h[12:], uint32(typ))
	copy(h[unix.CmsgLen(0):], data)
	return append(b, h...)
}

// sizeofSockExtendedErr is sizeof(struct sock_extended_err).
const sizeofSockExtendedErr = 16
