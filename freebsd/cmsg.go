package freebsd

import (
	"encoding/binary"
	"errors"
)

// FreeBSD/amd64 control-message layout (sys/sys/socket.h): struct cmsghdr is
// socklen_t cmsg_len, int cmsg_level, int cmsg_type (12 bytes); _ALIGN
// rounds to sizeof(long), so CMSG_DATA is 16 bytes in and each message
// starts 8-aligned.
const (
	SizeofCmsghdr = 12
	cmsgAlignTo   = 8
	cmsgDataOff   = 16
)

// CmsgAlign is _ALIGN.
func CmsgAlign(n int) int { return (n + cmsgAlignTo - 1) &^ (cmsgAlignTo - 1) }

// CmsgLen is CMSG_LEN.
func CmsgLen(n int) int { return cmsgDataOff + n }

// CmsgSpace is CMSG_SPACE.
func CmsgSpace(n int) int { return cmsgDataOff + CmsgAlign(n) }

// Cmsg is one parsed control message.
type Cmsg struct {
	Len   uint32 // cmsg_len as written
	Level int32
	Type  int32
	Data  []byte // CMSG_DATA .. cmsg_len
}

// errBadCmsg is udp_output's answer for a malformed control buffer.
var errBadCmsg = errors.New("freebsd: malformed control message")

// ParseCmsgs walks a control buffer as udp_output does: each header needs
// 12 bytes, a non-zero cmsg_len no larger than what is left, and the walk
// advances by CMSG_ALIGN(cmsg_len). A message whose cmsg_len is shorter
// than its data offset has no data. Malformed input returns the messages
// before it and errBadCmsg.
func ParseCmsgs(b []byte) ([]Cmsg, error) {
	var out []Cmsg
	for len(b) > 0 {
		if len(b) < SizeofCmsghdr {
			return out, errBadCmsg
		}
		l := binary.LittleEndian.Uint32(b)
		if l == 0 || int64(l) > int64(len(b)) {
			return out, errBadCmsg
		}
		m := Cmsg{Len: l, Level: int32(binary.LittleEndian.Uint32(b[4:])), Type: int32(binary.LittleEndian.Uint32(b[8:]))}
		if int(l) > cmsgDataOff {
			m.Data = b[cmsgDataOff:l]
		}
		out = append(out, m)
		adv := CmsgAlign(int(l))
		if adv >= len(b) {
			break
		}
		b = b[adv:]
	}
	return out, nil
}

// AppendCmsg appends one message with FreeBSD's layout (the padding after
// the data to the next 8-byte boundary included, as sbcreatecontrol's
// CMSG_SPACE-sized mbuf).
func AppendCmsg(dst []byte, level, typ int32, data []byte) []byte {
	var h [cmsgDataOff]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(CmsgLen(len(data))))
	binary.LittleEndian.PutUint32(h[4:], uint32(level))
	binary.LittleEndian.PutUint32(h[8:], uint32(typ))
	dst = append(dst, h[:]...)
	dst = append(dst, data...)
	for i := len(data); i < CmsgAlign(len(data)); i++ {
		dst = append(dst, 0)
	}
	return dst
}

// SockaddrDL builds the struct sockaddr_dl an interface's link address is on
// FreeBSD (net/if.c if_attach_internal; the address by ether_ifattach):
// sdl_len is the name area (8 + IFNAMSIZ) plus the address, at least
// sizeof(struct sockaddr_dl) (54), rounded to 8: 56 for an Ethernet or a
// loopback interface. index 0 and an empty name give ip_savecontrol's
// "makedummy" (8 bytes, no name, no address).
func SockaddrDL(index int, typ uint8, name string, lladdr []byte) []byte {
	const ifnamsiz, sizeofSDL = 16, 54
	if index == 0 && name == "" {
		return []byte{8, AF_LINK, 0, 0, 0, 0, 0, 0}
	}
	if len(name) > ifnamsiz-1 {
		name = name[:ifnamsiz-1]
	}
	n := 8 + ifnamsiz + len(lladdr)
	if n < sizeofSDL {
		n = sizeofSDL
	}
	n = CmsgAlign(n)
	b := make([]byte, n)
	b[0] = byte(n)
	b[1] = AF_LINK
	binary.LittleEndian.PutUint16(b[2:], uint16(index))
	b[4] = typ
	b[5] = byte(len(name))
	b[6] = byte(len(lladdr))
	b[7] = 0 // sdl_slen
	copy(b[8:], name)
	copy(b[8+len(name):], lladdr)
	return b
}
