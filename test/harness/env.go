package harness

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Scenario is one differential test, written once against Env.
type Scenario struct {
	Name string
	Run  func(e *Env)
}

// Env is what a scenario sees: the host under test, its kernel peer, the
// shared addressing and the recorder. Sockets made through DUT and Peer are
// closed by the runner when the scenario ends.
type Env struct {
	DUT, Peer         Host
	DUTAddr, PeerAddr netip.Addr
	PrefixLen         int
	// Far is a kernel host behind the peer (which routes to it over a link
	// with MTU FarMTU); FarAddrs are its addresses.
	Far      Host
	FarAddrs []netip.Addr
	// BasePort is a port block (BasePort..BasePort+9) private to this scenario
	// and identical on both runs, outside the ephemeral range.
	BasePort int

	mu       sync.Mutex
	done     bool
	steps    []string
	socks    []Sock
	sysctls  []sysctlUndo
	deferred []func() // Defer's, run last first after the sysctls are restored
	portLo   int
	portHi   int
	ephemera map[int]string
}

type sysctlUndo struct {
	h           Host
	name, value string
}

// errAbort unwinds a scenario after a setup step failed; the failure has
// already been recorded.
type errAbort struct{}

// Rec records one step: an operation name and its results. Errors are
// recorded by errno name, byte slices in hex.
func (e *Env) Rec(op string, vals ...any) {
	parts := []string{op + ":"}
	for _, v := range vals {
		parts = append(parts, Fmt(v))
	}
	e.add(strings.Join(parts, " "))
}

// RecBytes records a byte string in hex.
func (e *Env) RecBytes(op string, b []byte) { e.Rec(op, b) }

func (e *Env) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done {
		e.steps = append(e.steps, s)
	}
}

// Steps returns a copy of what has been recorded.
func (e *Env) Steps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.steps...)
}

// Fmt renders a recorded value: nil error as "ok", unix.Errno by name,
// []byte as hex, anything else with %v.
func Fmt(v any) string {
	switch x := v.(type) {
	case nil:
		return "ok"
	case unix.Errno:
		return ErrnoName(x)
	case error:
		var en unix.Errno
		if errors.As(x, &en) {
			return ErrnoName(en)
		}
		return fmt.Sprintf("error(%v)", x)
	case []byte:
		if x == nil {
			return "nil"
		}
		return "[" + hex.EncodeToString(x) + "]"
	default:
		return fmt.Sprint(v)
	}
}

// ErrnoName returns "EINVAL" etc.
func ErrnoName(e unix.Errno) string {
	if e == 0 {
		return "ok"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno" + strconv.Itoa(int(e))
}

// Check records op's error and aborts the scenario if it is not nil.
func (e *Env) Check(op string, err error) {
	e.Rec(op, err)
	if err != nil {
		panic(errAbort{})
	}
}

// Socket creates a socket on h, records the result and aborts on failure.
func (e *Env) Socket(h Host, domain, typ, proto int) Sock {
	s, err := h.Socket(domain, typ, proto)
	e.Check(fmt.Sprintf("%s socket(%d,%#x,%d)", h.Name(), domain, typ, proto), err)
	return s
}

// track registers a socket for closing at the end of the scenario.
func (e *Env) track(s Sock) Sock {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.socks = append(e.socks, s)
	return s
}

// SetSysctl changes a sysctl on h for the rest of the scenario; the runner
// restores the old value afterwards.
func (e *Env) SetSysctl(h Host, name, value string) error {
	old, err := h.GetSysctl(name)
	if err != nil {
		return err
	}
	if err := h.SetSysctl(name, value); err != nil {
		return err
	}
	e.mu.Lock()
	e.sysctls = append(e.sysctls, sysctlUndo{h, name, old})
	e.mu.Unlock()
	return nil
}

// Defer registers f to run when the scenario ends, after its sockets are
// closed and its sysctls restored, whatever happened: for what a scenario
// adds to the namespaces (an address) and must take away again.
func (e *Env) Defer(f func()) {
	e.mu.Lock()
	e.deferred = append(e.deferred, f)
	e.mu.Unlock()
}

// Port renders a port number: ports inside ip_local_port_range become a
// stable token (eph1, eph2, ... in order of first appearance), so ephemeral
// choices compare equal across hosts while their identity is kept.
func (e *Env) Port(p int) string {
	if p < e.portLo || p > e.portHi {
		return strconv.Itoa(p)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.ephemera[p]; ok {
		return t
	}
	t := fmt.Sprintf("eph%d", len(e.ephemera)+1)
	e.ephemera[p] = t
	return t
}

// SA renders a sockaddr: a well-formed 16-byte sockaddr_in as
// "inet:ADDR:PORT" and a 28-byte sockaddr_in6 as "inet6:[ADDR]:PORT"
// (ports normalised; non-zero flow information and scope id appended),
// anything else in hex with its length.
func (e *Env) SA(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) == unix.SizeofSockaddrInet4 && binary.NativeEndian.Uint16(b) == unix.AF_INET && allZero(b[8:]) {
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return fmt.Sprintf("inet:%s:%s", a, e.Port(int(binary.BigEndian.Uint16(b[2:4]))))
	}
	if len(b) == unix.SizeofSockaddrInet6 && binary.NativeEndian.Uint16(b) == unix.AF_INET6 {
		a := netip.AddrFrom16([16]byte(b[8:24]))
		s := fmt.Sprintf("inet6:[%s]:%s", a, e.Port(int(binary.BigEndian.Uint16(b[2:4]))))
		if flow, scope := binary.BigEndian.Uint32(b[4:8]), binary.NativeEndian.Uint32(b[24:28]); flow != 0 || scope != 0 {
			s += fmt.Sprintf("/flow=%#x/scope=%d", flow, scope)
		}
		return s
	}
	return fmt.Sprintf("sa%d[%s]", len(b), hex.EncodeToString(b))
}

// Sockaddr6 builds a 28-byte sockaddr_in6 (flow information 0).
func Sockaddr6(a netip.Addr, port int, scope uint32) []byte {
	b := make([]byte, unix.SizeofSockaddrInet6)
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], uint16(port))
	a16 := a.As16()
	copy(b[8:24], a16[:])
	binary.NativeEndian.PutUint32(b[24:], scope)
	return b
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Sockaddr builds a 16-byte sockaddr_in.
func Sockaddr(a netip.Addr, port int) []byte {
	b := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], uint16(port))
	a4 := a.As4()
	copy(b[4:8], a4[:])
	return b
}

// Int32 encodes a native-endian int for an option value.
func Int32(v int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return b
}

// GetInt reads an int option with a 4-byte buffer and records
// "op: err len value".
func (e *Env) GetInt(op string, s Sock, level, name int) int32 {
	buf := make([]byte, 4)
	n, err := s.GetSockOpt(level, name, buf)
	v := int32(binary.NativeEndian.Uint32(buf))
	e.Rec(op, err, n, v)
	return v
}

// SetInt sets a 4-byte int option and records the result.
func (e *Env) SetInt(op string, s Sock, level, name int, v int32) error {
	err := s.SetSockOpt(level, name, Int32(v))
	e.Rec(op, err)
	return err
}

// WaitReadable polls s for input (bounded) and records nothing: it only
// orders a scenario after asynchronous arrival.
func WaitReadable(s Sock, timeout time.Duration) uint32 {
	r, _ := s.Poll(unix.EPOLLIN, timeout)
	return r
}

// RecvDgram waits (bounded) for a datagram on s and receives it with
// MSG_DONTWAIT, recording length, flags, sender and payload.
func (e *Env) RecvDgram(op string, s Sock, bufLen, flags int) []byte {
	WaitReadable(s, 2*time.Second)
	buf := make([]byte, bufLen)
	n, _, rf, from, err := s.RecvMsg(buf, nil, flags|unix.MSG_DONTWAIT)
	if err != nil {
		e.Rec(op, err)
		return nil
	}
	e.Rec(op, "n="+strconv.Itoa(n), fmt.Sprintf("flags=%#x", rf), e.SA(from), buf[:min(n, len(buf))])
	return buf[:min(n, len(buf))]
}

// Cmsgs renders control messages as level/type/data triples.
func Cmsgs(oob []byte) string {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Sprintf("badcmsg(%v)[%x]", err, oob)
	}
	var parts []string
	for _, m := range msgs {
		data := hex.EncodeToString(m.Data)
		if m.Header.Level == unix.SOL_SOCKET && (m.Header.Type == unix.SCM_TIMESTAMP || m.Header.Type == unix.SCM_TIMESTAMPNS) {
			data = timestamp(m.Data, m.Header.Type == unix.SCM_TIMESTAMPNS)
		}
		parts = append(parts, fmt.Sprintf("%d/%d/%s", m.Header.Level, m.Header.Type, data))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// timestamp normalises a struct timeval/timespec control message: the value
// differs on every run, so only its size and plausibility (within a minute
// of now) are recorded.
func timestamp(b []byte, ns bool) string {
	if len(b) != 16 {
		return fmt.Sprintf("ts?%x", b)
	}
	sec := int64(binary.NativeEndian.Uint64(b))
	frac := int64(binary.NativeEndian.Uint64(b[8:]))
	unit := time.Microsecond
	if ns {
		unit = time.Nanosecond
	}
	t := time.Unix(sec, frac*int64(unit))
	d := time.Since(t)
	return fmt.Sprintf("ts(plausible=%v)", d > -time.Minute && d < time.Minute && frac >= 0 && frac < int64(time.Second/unit))
}
