package options

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// EchoIPOptions returns the options a reply to a received packet carries,
// as Linux gives a TCP connection accepted from a SYN with options
// (tcp_v4_save_options): the receive pass of ip_options_compile fills in
// this host (its address local in a record route and a timestamp option,
// its time), then __ip_options_echo copies the record route and timestamp
// options with room for the reply's own entries, reverses a completed
// source route (its last recorded hop becomes FirstHop, src the final
// destination) and drops everything else. rcv is the received header's
// options, src its source address, local the address it came to. unicast
// tells whether an address is a remote unicast one (inet_addr_type ==
// RTN_UNICAST). An error means Linux would have dropped the packet or
// kept no options; nil, nil means no options.
func EchoIPOptions(rcv []byte, src, local netip.Addr, now time.Time, unicast func(netip.Addr) bool) (*IPOptions, error) {
	if len(rcv) == 0 || len(rcv) > MaxIPOptionsLen {
		return nil, nil
	}
	b := append([]byte(nil), rcv...)
	r, err := receiveOptions(b, local, now, unicast)
	if err != nil {
		return nil, err
	}
	out := &IPOptions{srr: -1, rr: -1, ts: -1}
	var d []byte
	if r.rr >= 0 {
		opt := b[r.rr : r.rr+int(b[r.rr+1])]
		out.rr = len(d)
		d = append(d, opt...)
		if p := int(opt[2]); r.rrNeedAddr && p <= len(opt) {
			if p+3 > len(opt) {
				return nil, unix.EINVAL
			}
			d[out.rr+2] = byte(p + 4)
			out.rrNeedAddr = true
		}
	}
	if r.ts >= 0 {
		opt := b[r.ts : r.ts+int(b[r.ts+1])]
		out.ts = len(d)
		d = append(d, opt...)
		if p := int(opt[2]); p <= len(opt) {
			if r.tsNeedAddr {
				if p+3 > len(opt) {
					return nil, unix.EINVAL
				}
				out.tsNeedAddr = true
				p += 4
			}
			if r.tsNeedTime {
				if p+3 > len(opt) {
					return nil, unix.EINVAL
				}
				if opt[3]&0xf != ipOptTSPrespec {
					out.tsNeedTime = true
					p += 4
				} else if p+7 <= len(opt) && !unicast(netip.AddrFrom4([4]byte(opt[p-1:p+3]))) {
					out.tsNeedTime = true
					p += 8
				}
			}
			d[out.ts+2] = byte(p)
		}
	}
	if r.srr >= 0 {
		opt := b[r.srr : r.srr+int(b[r.srr+1])]
		// The recorded hops, last first; the first hop of the reply is
		// the last one recorded, the final slot is left for src.
		end := min(int(opt[2]), len(opt)+1) - 4
		var hops [][]byte
		var first netip.Addr
		if end > 3 {
			first = netip.AddrFrom4([4]byte(opt[end-1 : end+3]))
			for off := end - 4; off > 3; off -= 4 {
				hops = append(hops, opt[off-1:off+3])
			}
			// RFC 1812: a route whose first recorded hop is the
			// sender itself loses that hop.
			if k := len(hops); k > 0 && netip.AddrFrom4([4]byte(hops[k-1])) == src {
				hops = hops[:k-1]
			}
			if end-4 <= 3 && first == src {
				// Only the sender was recorded: nothing to reverse.
				first = netip.Addr{}
			}
		}
		if first.IsValid() {
			out.srr = len(d)
			out.FirstHop = first
			d = append(d, opt[0], byte(3+4*len(hops)+4), 4)
			for _, h := range hops {
				d = append(d, h...)
			}
			d = append(d, 0, 0, 0, 0)
		}
	}
	if len(d) == 0 {
		return nil, nil
	}
	for len(d)%4 != 0 {
		d = append(d, IPOptEnd)
	}
	out.Data = d
	return out, nil
}

// rcvOptions are the offsets ip_options_compile finds in a received
// header (-1 = none) and what it left this host to fill in.
type rcvOptions struct {
	srr, rr, ts                        int
	rrNeedAddr, tsNeedAddr, tsNeedTime bool
}

// receiveOptions is ip_options_compile for a packet delivered here: it
// checks b as Linux does on receive and, in place, records local and the
// time where the options ask this host to.
func receiveOptions(b []byte, local netip.Addr, now time.Time, unicast func(netip.Addr) bool) (rcvOptions, error) {
	r := rcvOptions{srr: -1, rr: -1, ts: -1}
	l4 := local.As4()
	it := NewIPOptionIter(b)
	for opt, i, ok := it.Next(); ok; opt, i, ok = it.Next() {
		n := len(opt)
		switch opt[0] {
		case IPOptSSRR, IPOptLSRR:
			if n < 3 || opt[2] < 4 || r.srr >= 0 {
				return r, unix.EINVAL
			}
			r.srr = i
		case IPOptRR:
			if r.rr >= 0 || n < 3 || opt[2] < 4 {
				return r, unix.EINVAL
			}
			if p := int(opt[2]); p <= n {
				if p+3 > n {
					return r, unix.EINVAL
				}
				copy(opt[p-1:], l4[:])
				opt[2] += 4
				r.rrNeedAddr = true
			}
			r.rr = i
		case IPOptTimestamp:
			if r.ts >= 0 || n < 4 || opt[2] < 5 {
				return r, unix.EINVAL
			}
			p := int(opt[2])
			if p > n {
				if opt[3]>>4 == 15 {
					return r, unix.EINVAL
				}
				r.ts = i
				opt[3] += 0x10 // one more host without room
				break
			}
			if p+3 > n {
				return r, unix.EINVAL
			}
			switch opt[3] & 0xf {
			case ipOptTSOnly:
				putMidnightMillis(opt[p-1:], now)
				opt[2] += 4
				r.tsNeedTime = true
			case ipOptTSAndAddr:
				if p+7 > n {
					return r, unix.EINVAL
				}
				copy(opt[p-1:], l4[:])
				putMidnightMillis(opt[p+3:], now)
				opt[2] += 8
				r.tsNeedAddr, r.tsNeedTime = true, true
			case ipOptTSPrespec:
				if p+7 > n {
					return r, unix.EINVAL
				}
				if !unicast(netip.AddrFrom4([4]byte(opt[p-1 : p+3]))) {
					putMidnightMillis(opt[p+3:], now)
					opt[2] += 8
					r.tsNeedTime = true
				}
			}
			r.ts = i
		case IPOptRA:
			if n < 4 {
				return r, unix.EINVAL
			}
		case IPOptCIPSO:
			// Without a NetLabel configuration Linux refuses CIPSO.
			return r, unix.EINVAL
		}
	}
	if it.Malformed() {
		return r, unix.EINVAL
	}
	return r, nil
}

// putMidnightMillis writes the time as an IP timestamp: milliseconds since
// midnight UTC.
func putMidnightMillis(b []byte, now time.Time) {
	u := now.UTC()
	binary.BigEndian.PutUint32(b, uint32((u.Unix()%86400)*1000+int64(u.Nanosecond()/1e6)))
}
