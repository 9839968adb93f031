package freebsd

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// The ranges of IP_PORTRANGE.
const (
	rangeDefault = IP_PORTRANGE_DEFAULT
	rangeHigh    = IP_PORTRANGE_HIGH
	rangeLow     = IP_PORTRANGE_LOW
)

// tickLocked is ipport_tick, run lazily for the whole seconds since the
// last one: a second with more than randomcps TCP allocations stops random
// allocation for randomtime seconds (k.mu held).
func (k *Knobs) tickLocked(now time.Time) {
	if k.lastTick.IsZero() {
		k.lastTick = now
		return
	}
	for n := 0; now.Sub(k.lastTick) >= time.Second && n < 3600; n++ {
		if k.tcpAllocs <= k.tcpLastCount+k.vals["net.inet.ip.portrange.randomcps"] {
			if k.stopRandom > 0 {
				k.stopRandom--
			}
		} else {
			k.stopRandom = k.vals["net.inet.ip.portrange.randomtime"]
		}
		k.tcpLastCount = k.tcpAllocs
		k.lastTick = k.lastTick.Add(time.Second)
	}
	if now.Sub(k.lastTick) >= time.Second {
		k.lastTick = now
	}
}

// candidates returns the order in which in_pcbbind_setup (FreeBSD 8, the
// ip(4) page's era) tries local ports for a socket of type typ in range
// rng: from the range's last port, counting down when first > last (LOW:
// 1023 down to 600), up otherwise; starting at a random point when
// net.inet.ip.portrange.randomized is set (for TCP only while ipport_tick
// has not stopped it), always for UDP. It advances the last port as it
// goes, through the callback's answers: try returns true when the port is
// taken.
func (k *Knobs) pickPort(typ, rng int, try func(uint16) (taken bool, err error)) (uint16, error) {
	k.mu.Lock()
	var first, last int
	switch rng {
	case rangeHigh:
		first, last = k.vals["net.inet.ip.portrange.hifirst"], k.vals["net.inet.ip.portrange.hilast"]
	case rangeLow:
		first, last = k.vals["net.inet.ip.portrange.lowfirst"], k.vals["net.inet.ip.portrange.lowlast"]
	default:
		first, last = k.vals["net.inet.ip.portrange.first"], k.vals["net.inet.ip.portrange.last"]
	}
	k.tickLocked(time.Now())
	dorandom := k.vals["net.inet.ip.portrange.randomized"] != 0 && (k.stopRandom == 0 || typ == unix.SOCK_DGRAM)
	if first == last {
		dorandom = false
	}
	if typ != unix.SOCK_DGRAM {
		k.tcpAllocs++
	}
	key := lastKey{typ, rng}
	lastport := k.last[key]
	down := first > last
	count := last - first
	if down {
		count = first - last
		if dorandom {
			lastport = uint16(first - rand.IntN(first-last))
		}
	} else if dorandom {
		lastport = uint16(first + rand.IntN(last-first))
	}
	k.mu.Unlock()
	for {
		if count < 0 {
			k.setLast(key, lastport)
			return 0, unix.EADDRNOTAVAIL
		}
		count--
		if down {
			lastport--
			if int(lastport) > first || int(lastport) < last {
				lastport = uint16(first)
			}
		} else {
			lastport++
			if int(lastport) < first || int(lastport) > last {
				lastport = uint16(first)
			}
		}
		taken, err := try(lastport)
		if err != nil {
			k.setLast(key, lastport)
			return 0, err
		}
		if !taken {
			k.setLast(key, lastport)
			return lastport, nil
		}
	}
}

func (k *Knobs) setLast(key lastKey, p uint16) {
	k.mu.Lock()
	k.last[key] = p
	k.mu.Unlock()
}

// localPort is the socket's bound port, 0 when it has none.
func (s *Socket) localPort() (netip.AddrPort, error) {
	sa, err := s.in.GetSockName()
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(sa) != unix.SizeofSockaddrInet4 {
		return netip.AddrPort{}, nil
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), uint16(sa[2])<<8|uint16(sa[3])), nil
}

// bindAuto binds the wrapped socket to addr and a port in_pcbbind_setup
// picks (IP_PORTRANGE, the net.inet.ip.portrange knobs): a LOW range needs
// the privilege of reserved ports (priv_check_cred's EPERM without it).
func (s *Socket) bindAuto(addr netip.Addr) error {
	s.mu.Lock()
	rng := s.o.portRange
	s.mu.Unlock()
	if rng == rangeLow && !s.st.Caps().Has(stack.CapNetBindService) {
		return unix.EPERM
	}
	k := Sysctl(s.st)
	_, err := k.pickPort(s.typ, rng, func(p uint16) (bool, error) {
		switch err := s.in.Bind(linuxOf(netip.AddrPortFrom(addr, p))); err {
		case nil:
			return false, nil
		case unix.EADDRINUSE:
			return true, nil
		default:
			return false, err
		}
	})
	return err
}

// autobind gives an unbound socket its port before connect, sendto or
// listen would let the wrapped socket pick one from Linux's range.
func (s *Socket) autobind() error {
	if s.typ == unix.SOCK_RAW {
		return nil
	}
	ap, err := s.localPort()
	if err != nil || ap.Port() != 0 {
		return err
	}
	return s.bindAuto(netip.IPv4Unspecified())
}
