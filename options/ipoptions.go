package options

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// IP option types (RFC 791, Linux's IPOPT_*).
const (
	IPOptEnd       = 0x00
	IPOptNop       = 0x01
	IPOptRR        = 0x07
	IPOptTimestamp = 0x44
	IPOptLSRR      = 0x83
	IPOptSSRR      = 0x89
	IPOptRA        = 0x94
	IPOptCIPSO     = 0x86

	// MaxIPOptionsLen is the room for options in an IPv4 header (60
	// bytes at most, 20 of them fixed).
	MaxIPOptionsLen = 40

	ipOptTSOnly    = 0
	ipOptTSAndAddr = 1
	ipOptTSPrespec = 3
)

// IPOptions is a socket's IP_OPTIONS after validation, in the form Linux
// keeps it (ip_options_compile for a locally generated packet): the data is
// padded with EOL to a multiple of 4, a source route's first hop is taken
// out of the list, and the record-route and timestamp pointers are already
// advanced past the slot this host fills in when it sends.
type IPOptions struct {
	Data     []byte
	FirstHop netip.Addr // source route: where the packet is sent; invalid = no source route
	// Offsets into Data of the options the sender fills in (-1 = none).
	srr, rr, ts                        int
	rrNeedAddr, tsNeedAddr, tsNeedTime bool
}

// CompileIPOptions validates b as setsockopt(IP_OPTIONS) does
// (ip_options_get + ip_options_compile with no packet): more than 40 bytes
// or any malformed option is EINVAL; options Linux reserves for
// CAP_NET_RAW (unknown types, security, CIPSO, unknown timestamp flags)
// need rawCap. unicast tells whether an address is a remote unicast one
// (inet_addr_type == RTN_UNICAST) for prespecified timestamps. An empty b
// gives nil: no options.
func CompileIPOptions(b []byte, rawCap bool, unicast func(netip.Addr) bool) (*IPOptions, error) {
	if len(b) > MaxIPOptionsLen {
		return nil, unix.EINVAL
	}
	if len(b) == 0 {
		return nil, nil
	}
	data := make([]byte, (len(b)+3)&^3)
	copy(data, b) // the padding is EOL (0)
	o := &IPOptions{Data: data, srr: -1, rr: -1, ts: -1}
	it := NewIPOptionIter(data)
	for opt, off, ok := it.Next(); ok; opt, off, ok = it.Next() {
		if err := o.compileOne(opt, off, rawCap, unicast); err != nil {
			return nil, err
		}
	}
	if it.Malformed() {
		return nil, unix.EINVAL
	}
	// Everything after EOL is EOL.
	clear(data[it.Offset():])
	return o, nil
}

func (o *IPOptions) compileOne(opt []byte, off int, rawCap bool, unicast func(netip.Addr) bool) error {
	optlen := len(opt)
	switch opt[0] {
	case IPOptSSRR, IPOptLSRR:
		if optlen < 3 || opt[2] < 4 || o.srr >= 0 {
			return unix.EINVAL
		}
		if opt[2] != 4 || optlen < 7 || (optlen-3)&3 != 0 {
			return unix.EINVAL
		}
		o.FirstHop = netip.AddrFrom4([4]byte(opt[3:7]))
		copy(opt[3:], opt[7:])
		o.srr = off
	case IPOptRR:
		if o.rr >= 0 || optlen < 3 || opt[2] < 4 {
			return unix.EINVAL
		}
		if int(opt[2]) <= optlen {
			if int(opt[2])+3 > optlen {
				return unix.EINVAL
			}
			opt[2] += 4
			o.rrNeedAddr = true
		}
		o.rr = off
	case IPOptTimestamp:
		if o.ts >= 0 || optlen < 4 || opt[2] < 5 {
			return unix.EINVAL
		}
		ptr := int(opt[2])
		if ptr > optlen {
			// Full: only the overflow count is checked.
			if opt[3]>>4 == 15 {
				return unix.EINVAL
			}
			o.ts = off
			return nil
		}
		if ptr+3 > optlen {
			return unix.EINVAL
		}
		switch opt[3] & 0xf {
		case ipOptTSOnly:
			o.ts = off
			o.tsNeedTime = true
			opt[2] += 4
		case ipOptTSAndAddr:
			if ptr+7 > optlen {
				return unix.EINVAL
			}
			o.ts = off
			o.tsNeedAddr, o.tsNeedTime = true, true
			opt[2] += 8
		case ipOptTSPrespec:
			if ptr+7 > optlen {
				return unix.EINVAL
			}
			o.ts = off
			if unicast(netip.AddrFrom4([4]byte(opt[ptr-1 : ptr+3]))) {
				return nil
			}
			o.tsNeedTime = true
			opt[2] += 8
		default:
			if !rawCap {
				return unix.EINVAL
			}
		}
	case IPOptRA:
		if optlen < 4 {
			return unix.EINVAL
		}
	case IPOptCIPSO:
		// Linux validates CIPSO against its NetLabel configuration, which
		// netsandbox does not have.
		return unix.EINVAL
	default:
		if !rawCap {
			return unix.EINVAL
		}
	}
	return nil
}

// Len is the number of option bytes in the IP header.
func (o *IPOptions) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Data)
}

// User is what getsockopt(IP_OPTIONS) returns (ip_options_undo): the
// options as the user gave them, padded, the first hop back in the source
// route and the pointers before this host's slots.
func (o *IPOptions) User() []byte {
	if o == nil {
		return nil
	}
	d := append([]byte(nil), o.Data...)
	if o.srr >= 0 {
		opt := d[o.srr:]
		n := int(opt[1])
		copy(opt[7:n], opt[3:n-4])
		a := o.FirstHop.As4()
		copy(opt[3:7], a[:])
	}
	if o.rrNeedAddr {
		opt := d[o.rr:]
		opt[2] -= 4
		clear(opt[opt[2]-1 : opt[2]+3])
	}
	if o.ts >= 0 {
		opt := d[o.ts:]
		if o.tsNeedTime {
			opt[2] -= 4
			clear(opt[opt[2]-1 : opt[2]+3])
			if opt[3]&0xf == ipOptTSPrespec {
				opt[2] -= 4
			}
		}
		if o.tsNeedAddr {
			opt[2] -= 4
			clear(opt[opt[2]-1 : opt[2]+3])
		}
	}
	return d
}

// Build writes the options of one outgoing packet into dst (len(o.Data)
// bytes), as ip_options_build for an unfragmented packet: the final
// destination in the source route's last slot, the source address in the
// record route and timestamp, and the time in milliseconds since midnight
// UTC.
func (o *IPOptions) Build(dst []byte, final, src netip.Addr, now time.Time) {
	copy(dst, o.Data)
	if o.srr >= 0 {
		opt := dst[o.srr:]
		a := final.As4()
		copy(opt[int(opt[1])-4:], a[:])
	}
	s := src.As4()
	if o.rrNeedAddr {
		opt := dst[o.rr:]
		copy(opt[int(opt[2])-5:], s[:])
	}
	if o.ts >= 0 {
		opt := dst[o.ts:]
		if o.tsNeedAddr {
			copy(opt[int(opt[2])-9:], s[:])
		}
		if o.tsNeedTime {
			putMidnightMillis(opt[int(opt[2])-5:], now)
		}
	}
}
