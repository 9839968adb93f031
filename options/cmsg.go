package options

import "golang.org/x/sys/unix"

// Control messages with the 64-bit Linux layout: struct cmsghdr is
// {size_t cmsg_len; int cmsg_level; int cmsg_type} = 16 bytes, and every
// cmsg starts at an 8-byte boundary (CMSG_ALIGN). Kept rather than
// unix.SizeofCmsghdr, unix.CmsgLen and unix.CmsgSpace: those follow the
// build's GOARCH (a 12-byte header and 4-byte alignment on 386 and arm),
// these are the 64-bit layout on every build.
const (
	SizeofCmsghdr = 16
	cmsgAlignTo   = 8
)

// CmsgAlign rounds n up to the cmsg alignment (CMSG_ALIGN).
func CmsgAlign(n int) int { return (n + cmsgAlignTo - 1) &^ (cmsgAlignTo - 1) }

// CmsgLen is CMSG_LEN(n): the cmsg_len of a message carrying n data bytes.
func CmsgLen(n int) int { return SizeofCmsghdr + n }

// CmsgSpace is CMSG_SPACE(n): the room a message with n data bytes takes.
func CmsgSpace(n int) int { return SizeofCmsghdr + CmsgAlign(n) }

// CmsgBuilder appends control messages to a recvmsg control buffer exactly
// as Linux's put_cmsg does, without allocating:
//   - fewer than 16 bytes left: nothing is written and MSG_CTRUNC is set;
//   - room for the header but not all data: the message is cut to the room
//     left, cmsg_len says so, and MSG_CTRUNC is set;
//   - otherwise cmsg_len = CMSG_LEN(len(data)), and the builder advances by
//     CMSG_SPACE(len(data)) or to the end of the buffer. Alignment padding
//     is skipped, not written (the kernel leaves those bytes alone too).
//
// The zero value has no buffer: each Put then only sets MSG_CTRUNC, as the
// kernel does for a NULL msg_control.
type CmsgBuilder struct {
	buf   []byte
	off   int
	flags int
}

// NewCmsgBuilder returns a builder filling buf; len(buf) is msg_controllen.
func NewCmsgBuilder(buf []byte) CmsgBuilder { return CmsgBuilder{buf: buf} }

// Reset makes the builder fill buf from its start with no flags set.
func (b *CmsgBuilder) Reset(buf []byte) { *b = CmsgBuilder{buf: buf} }

// Put appends one control message.
func (b *CmsgBuilder) Put(level, typ int32, data []byte) {
	room := len(b.buf) - b.off
	if room < SizeofCmsghdr {
		b.flags |= unix.MSG_CTRUNC
		return
	}
	cmlen := CmsgLen(len(data))
	if room < cmlen {
		b.flags |= unix.MSG_CTRUNC
		cmlen = room
	}
	h := b.buf[b.off:]
	nativeEndian.PutUint64(h[0:8], uint64(cmlen))
	nativeEndian.PutUint32(h[8:12], uint32(level))
	nativeEndian.PutUint32(h[12:16], uint32(typ))
	copy(h[SizeofCmsghdr:cmlen], data)
	b.off += min(CmsgSpace(len(data)), room)
}

// PutInt32 appends a message carrying one native-endian int (IP_TTL,
// IP_TOS on receive, IP_RECVFRAGSIZE ...).
func (b *CmsgBuilder) PutInt32(level, typ int32, v int32) {
	var d [4]byte
	nativeEndian.PutUint32(d[:], uint32(v))
	b.Put(level, typ, d[:])
}

// Len is the number of control bytes used (the msg_controllen to report).
func (b *CmsgBuilder) Len() int { return b.off }

// Flags is MSG_CTRUNC if any message did not fit entirely, else 0.
func (b *CmsgBuilder) Flags() int { return b.flags }

// Cmsg is one control message found by CmsgParser. Data aliases the
// parsed buffer and is cmsg_len - 16 bytes long.
type Cmsg struct {
	Level, Type int32
	Data        []byte
}

// CmsgParser walks a sendmsg control buffer the way the kernel's
// for_each_cmsghdr with CMSG_OK does: iteration stops quietly when fewer
// than 16 bytes remain (trailing bytes are ignored), and a message whose
// cmsg_len is below 16 or runs past the end of the buffer is EINVAL.
type CmsgParser struct {
	buf []byte
	off int
	err error
}

// NewCmsgParser returns a parser over buf; len(buf) is msg_controllen.
func NewCmsgParser(buf []byte) CmsgParser { return CmsgParser{buf: buf} }

// Next returns the next message. ok is false at the end or on error; Err
// then tells which.
func (p *CmsgParser) Next() (m Cmsg, ok bool) {
	if p.err != nil || len(p.buf)-p.off < SizeofCmsghdr {
		return Cmsg{}, false
	}
	h := p.buf[p.off:]
	cmlen := nativeEndian.Uint64(h[0:8])
	if cmlen < SizeofCmsghdr || cmlen > uint64(len(h)) {
		p.err = unix.EINVAL
		return Cmsg{}, false
	}
	m = Cmsg{
		Level: int32(nativeEndian.Uint32(h[8:12])),
		Type:  int32(nativeEndian.Uint32(h[12:16])),
		Data:  h[SizeofCmsghdr:cmlen:cmlen],
	}
	// cmlen <= len(h) here, so the aligned step cannot overflow.
	p.off += CmsgAlign(int(cmlen))
	if p.off > len(p.buf) {
		p.off = len(p.buf)
	}
	return m, true
}

// Err is the error that stopped the walk, or nil.
func (p *CmsgParser) Err() error { return p.err }

// AppendCmsg appends a complete, padded control message to dst (for
// building sendmsg control buffers in tests and adapters).
func AppendCmsg(dst []byte, level, typ int32, data []byte) []byte {
	var h [SizeofCmsghdr]byte
	nativeEndian.PutUint64(h[0:8], uint64(CmsgLen(len(data))))
	nativeEndian.PutUint32(h[8:12], uint32(level))
	nativeEndian.PutUint32(h[12:16], uint32(typ))
	dst = append(dst, h[:]...)
	dst = append(dst, data...)
	for i := len(data); i < CmsgAlign(len(data)); i++ {
		dst = append(dst, 0)
	}
	return dst
}
