package endpoint

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"netsandbox/stack"
)

func getInt(t *testing.T, so Socket, level, name int) int32 {
	t.Helper()
	buf := make([]byte, 4)
	n, err := so.GetSockOpt(level, name, buf)
	if err != nil || n != 4 {
		t.Fatalf("get %d/%d: %d %v", level, name, n, err)
	}
	return int32(binary.NativeEndian.Uint32(buf))
}

// Set/get sequences of the tcp(7) options with Linux 6.18's answers
// (measured by the tcpopt/ scenarios).
func TestTCPOptionBounds(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer so.Close()
	type step struct {
		set     int32
		err     error
		readsAs int32
	}
	for _, c := range []struct {
		name  string
		opt   int
		fresh int32
		steps []step
	}{
		{"KEEPIDLE", unix.TCP_KEEPIDLE, 7200, []step{{0, unix.EINVAL, 7200}, {1, nil, 1}, {32767, nil, 32767}, {32768, unix.EINVAL, 32767}, {-1, unix.EINVAL, 32767}}},
		{"KEEPINTVL", unix.TCP_KEEPINTVL, 75, []step{{0, unix.EINVAL, 75}, {32767, nil, 32767}, {32768, unix.EINVAL, 32767}}},
		{"KEEPCNT", unix.TCP_KEEPCNT, 9, []step{{0, unix.EINVAL, 9}, {127, nil, 127}, {128, unix.EINVAL, 127}}},
		{"SYNCNT", unix.TCP_SYNCNT, 6, []step{{0, unix.EINVAL, 6}, {1, nil, 1}, {127, nil, 127}, {128, unix.EINVAL, 127}}},
		{"LINGER2", unix.TCP_LINGER2, 60, []step{{1, nil, 1}, {121, nil, 120}, {-5, nil, -1}, {0, nil, 60}}},
		{"USER_TIMEOUT", unix.TCP_USER_TIMEOUT, 0, []step{{1000, nil, 1000}, {-1, unix.EINVAL, 1000}, {0x7fffffff, nil, 0x7fffffff}}},
		{"WINDOW_CLAMP", unix.TCP_WINDOW_CLAMP, 0, []step{{100, nil, 1152}, {5000, nil, 5000}, {-1, nil, 1152}, {0, nil, 0}}},
		{"QUICKACK", unix.TCP_QUICKACK, 1, []step{{0, nil, 0}, {2, nil, 1}, {0, nil, 0}, {-1, nil, 1}}},
		{"CORK", unix.TCP_CORK, 0, []step{{5, nil, 1}, {0, nil, 0}}},
		{"NODELAY", unix.TCP_NODELAY, 0, []step{{7, nil, 1}, {0, nil, 0}}},
		{"THIN_LINEAR_TIMEOUTS", unix.TCP_THIN_LINEAR_TIMEOUTS, 0, []step{{1, nil, 1}, {2, unix.EINVAL, 1}, {-1, unix.EINVAL, 1}}},
		{"THIN_DUPACK", unix.TCP_THIN_DUPACK, 0, []step{{1, nil, 0}, {2, unix.EINVAL, 0}}},
		{"NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT, 0, []step{{100, nil, 100}, {-1, nil, -1}, {0, nil, 0}}},
		{"INQ", unix.TCP_INQ, 0, []step{{1, nil, 1}, {2, unix.EINVAL, 1}, {-1, unix.EINVAL, 1}, {0, nil, 0}}},
	} {
		if v := getInt(t, so, unix.SOL_TCP, c.opt); v != c.fresh {
			t.Errorf("%s fresh: %d, want %d", c.name, v, c.fresh)
		}
		for _, st := range c.steps {
			if err := so.SetSockOpt(unix.SOL_TCP, c.opt, intOpt(st.set)); err != st.err {
				t.Errorf("%s set %d: %v, want %v", c.name, st.set, err, st.err)
			}
			if v := getInt(t, so, unix.SOL_TCP, c.opt); v != st.readsAs {
				t.Errorf("%s after set %d: %d, want %d", c.name, st.set, v, st.readsAs)
			}
		}
		if err := so.SetSockOpt(unix.SOL_TCP, c.opt, []byte{1, 0, 0}); err != unix.EINVAL {
			t.Errorf("%s optlen 3: %v, want EINVAL", c.name, err)
		}
	}
	u, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer u.Close()
	if err := u.SetSockOpt(unix.SOL_TCP, unix.TCP_KEEPIDLE, intOpt(5)); err != unix.ENOPROTOOPT {
		t.Errorf("UDP TCP_KEEPIDLE: %v, want ENOPROTOOPT", err)
	}
}

// TCP_DEFER_ACCEPT keeps SYN-ACK retransmissions and reads back the
// seconds they take (secs_to_retrans, retrans_to_secs).
func TestDeferAcceptRounding(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer so.Close()
	for _, c := range [][2]int32{{0, 0}, {1, 1}, {2, 3}, {3, 3}, {4, 7}, {5, 7}, {8, 15}, {16, 31}, {100, 127},
		{1000, 1087}, {1 << 20, 29887}, {0x7fffffff, 29887}, {-1, 0}} {
		if err := so.SetSockOpt(unix.SOL_TCP, unix.TCP_DEFER_ACCEPT, intOpt(c[0])); err != nil {
			t.Fatal(err)
		}
		if v := getInt(t, so, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT); v != c[1] {
			t.Errorf("DEFER_ACCEPT %d reads %d, want %d", c[0], v, c[1])
		}
	}
}

// linuxSynGiveUp against the times Linux 6.18 takes (tcp_syn_linear_timeouts
// 4: retransmissions at 1, 2, 3, 4, 5, 7, 11, ... s).
func TestLinuxSynGiveUp(t *testing.T) {
	for _, c := range []struct {
		retries int
		uto     time.Duration
		want    time.Duration
	}{
		{1, 0, 3 * time.Second},
		{2, 0, 7 * time.Second},
		{3, 0, 19 * time.Second},
		{6, 0, 131 * time.Second},
		{6, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{6, 500 * time.Millisecond, 1004 * time.Millisecond},
		{1, 10 * time.Second, 7 * time.Second}, // the count (1+4 retransmissions) ends it first
	} {
		if got := linuxSynGiveUp(c.retries, c.uto); got != c.want {
			t.Errorf("linuxSynGiveUp(%d, %v) = %v, want %v", c.retries, c.uto, got, c.want)
		}
	}
	if got := tcpModelTimeout(8, time.Second, 120*time.Second); got != 367*time.Second {
		t.Errorf("tcp_model_timeout(8) = %v, want 367s", got)
	}
}

// The gVisor fields the SYN timer reaches by name are where it expects.
func TestSynBackoffLayout(t *testing.T) {
	h, ok := reflect.TypeOf(tcp.Endpoint{}).FieldByName("h")
	if !ok || h.Type.Kind() != reflect.Pointer {
		t.Fatalf("tcp.Endpoint.h: %v", h.Type)
	}
	rt, ok := h.Type.Elem().FieldByName("retransmitTimer")
	if !ok || rt.Type.Kind() != reflect.Pointer {
		t.Fatalf("handshake.retransmitTimer missing")
	}
	bt := rt.Type.Elem()
	for name, want := range map[string]reflect.Type{
		"timeout":    reflect.TypeOf(time.Duration(0)),
		"maxTimeout": reflect.TypeOf(time.Duration(0)),
		"t":          reflect.TypeOf((*tcpip.Timer)(nil)).Elem(),
	} {
		if f, ok := bt.FieldByName(name); !ok || f.Type != want {
			t.Errorf("backoffTimer.%s: %v, want %v", name, f.Type, want)
		}
	}
}

// The values reach gVisor's endpoint, and an accepted socket starts from
// its listener's (but for TCP_DEFER_ACCEPT and delayed-ACK mode).
func TestTCPOptsReachGvisor(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	l, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer l.Close()
	for _, kv := range [][2]int32{
		{unix.TCP_KEEPIDLE, 11}, {unix.TCP_KEEPINTVL, 12}, {unix.TCP_KEEPCNT, 3}, {unix.TCP_USER_TIMEOUT, 1500},
		{unix.TCP_LINGER2, 7}, {unix.TCP_DEFER_ACCEPT, 2}, {unix.TCP_NODELAY, 1}, {unix.TCP_SYNCNT, 2},
	} {
		if err := l.SetSockOpt(unix.SOL_TCP, int(kv[0]), intOpt(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("cubic\x00x")); err != nil {
		t.Fatal(err)
	}
	check := func(name string, ep tcpip.Endpoint, deferAccept time.Duration) {
		t.Helper()
		var idle tcpip.KeepaliveIdleOption
		var intvl tcpip.KeepaliveIntervalOption
		var uto tcpip.TCPUserTimeoutOption
		var lt tcpip.TCPLingerTimeoutOption
		var da tcpip.TCPDeferAcceptOption
		var cc tcpip.CongestionControlOption
		for _, o := range []tcpip.GettableSocketOption{&idle, &intvl, &uto, &lt, &da, &cc} {
			if e := ep.GetSockOpt(o); e != nil {
				t.Fatal(e)
			}
		}
		cnt, _ := ep.GetSockOptInt(tcpip.KeepaliveCountOption)
		if idle != tcpip.KeepaliveIdleOption(11*time.Second) || intvl != tcpip.KeepaliveIntervalOption(12*time.Second) || cnt != 3 ||
			uto != tcpip.TCPUserTimeoutOption(1500*time.Millisecond) || lt != tcpip.TCPLingerTimeoutOption(7*time.Second) ||
			da != tcpip.TCPDeferAcceptOption(deferAccept) || cc != "cubic" || ep.SocketOptions().GetDelayOption() {
			t.Errorf("%s: idle %v intvl %v cnt %d uto %v linger2 %v defer %v cc %q delay %v", name,
				time.Duration(idle), time.Duration(intvl), cnt, time.Duration(uto), time.Duration(lt), time.Duration(da), cc,
				ep.SocketOptions().GetDelayOption())
		}
	}
	check("listener", l.(*tcpSock).endpoint(), 3*time.Second)
	if err := l.SetSockOpt(unix.SOL_TCP, unix.TCP_QUICKACK, intOpt(0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(sa("127.0.0.1:7201")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(4); err != nil {
		t.Fatal(err)
	}
	if v := getInt(t, l, unix.SOL_TCP, unix.TCP_QUICKACK); v != 1 {
		t.Errorf("listener QUICKACK after listen: %d, want 1", v)
	}
	c, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer c.Close()
	if err := c.Connect(sa("127.0.0.1:7201")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMsg([]byte("x"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Wait(unix.EPOLLIN, time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	a, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	check("accepted", a.(*tcpSock).endpoint(), 0)
	if v := getInt(t, a, unix.SOL_TCP, unix.TCP_DEFER_ACCEPT); v != 0 {
		t.Errorf("accepted DEFER_ACCEPT %d, want 0", v)
	}
	if v := getInt(t, a, unix.SOL_TCP, unix.TCP_SYNCNT); v != 2 {
		t.Errorf("accepted SYNCNT %d, want 2", v)
	}
}

// TCP_CONGESTION: names, errno and the 16-byte read-back.
func TestTCPCongestion(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	so, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer so.Close()
	for _, c := range []struct {
		val  string
		err  error
		name string
	}{
		{"reno", nil, "reno"}, {"cubic", nil, "cubic"}, {"nosuchcc", unix.ENOENT, "cubic"}, {"", unix.EINVAL, "cubic"},
		{"\x00", unix.ENOENT, "cubic"}, {"reno\x00junk", nil, "reno"}, {"cubicXXXXXXXXXXXXXXXX", unix.ENOENT, "reno"},
	} {
		var v []byte
		if c.val != "" {
			v = []byte(c.val)
		}
		if err := so.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, v); err != c.err {
			t.Errorf("set %q: %v, want %v", c.val, err, c.err)
		}
		buf := make([]byte, 64)
		n, err := so.GetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, buf)
		want := make([]byte, 16)
		copy(want, c.name)
		if err != nil || n != 16 || string(buf[:n]) != string(want) {
			t.Errorf("after %q: %d %v %q, want %q", c.val, n, err, buf[:n], want)
		}
	}
	if n, _ := so.GetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, make([]byte, 3)); n != 3 {
		t.Errorf("get with 3 bytes: %d", n)
	}
	un := newStack(t, 0, nil)
	u, _ := New(un, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer u.Close()
	if err := u.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("cubic")); err != unix.EPERM {
		t.Errorf("unprivileged cubic: %v, want EPERM", err)
	}
	if err := u.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno")); err != nil {
		t.Errorf("unprivileged reno: %v", err)
	}
}

// TCP_INQ adds TCP_CM_INQ: the bytes left, 1 at the end of the stream.
func TestTCPInq(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	c, a := tcpLoopback(t, s, "7202")
	if err := a.SetSockOpt(unix.SOL_TCP, unix.TCP_INQ, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMsg([]byte("hello world"), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Wait(unix.EPOLLIN, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	inq := func(n int) (int, int32, int) {
		oob := make([]byte, 64)
		got, oobn, fl, _, err := a.RecvMsg(make([]byte, n), oob, unix.MSG_DONTWAIT)
		if err != nil {
			t.Fatal(err)
		}
		if oobn != 24 || oob[12] != tcpCMInq {
			t.Fatalf("cmsg % x", oob[:oobn])
		}
		return got, int32(binary.NativeEndian.Uint32(oob[16:])), fl
	}
	if n, v, _ := inq(4); n != 4 || v != 7 {
		t.Errorf("read 4: %d inq %d, want 4 inq 7", n, v)
	}
	if n, v, _ := inq(64); n != 7 || v != 0 {
		t.Errorf("read rest: %d inq %d, want 7 inq 0", n, v)
	}
	if err := c.Shutdown(unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if n, v, _ := inq(64); n != 0 || v != 1 {
		t.Errorf("end of stream: %d inq %d, want 0 inq 1", n, v)
	}
	if _, _, fl, _, _ := a.RecvMsg(make([]byte, 4), make([]byte, 12), 0); fl&unix.MSG_CTRUNC == 0 {
		t.Errorf("12-byte control buffer: flags %#x, want MSG_CTRUNC", fl)
	}
}

// TCP_NOTSENT_LOWAT: EPOLLOUT only while twice the unsent bytes are below
// the mark; a corked write keeps its bytes unsent.
func TestNotsentLowatPoll(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	c, _ := tcpLoopback(t, s, "7203")
	for _, kv := range [][2]int32{{unix.TCP_NOTSENT_LOWAT, 201}, {unix.TCP_CORK, 1}} {
		if err := c.SetSockOpt(unix.SOL_TCP, int(kv[0]), intOpt(kv[1])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SendMsg(make([]byte, 100), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if r := c.Readiness(unix.EPOLLOUT); r == 0 {
		t.Errorf("100 unsent, mark 201: not writable")
	}
	if err := c.SetSockOpt(unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, intOpt(200)); err != nil {
		t.Fatal(err)
	}
	if r := c.Readiness(unix.EPOLLOUT); r != 0 {
		t.Errorf("100 unsent, mark 200: writable")
	}
	if err := c.SetSockOpt(unix.SOL_TCP, unix.TCP_CORK, intOpt(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(unix.EPOLLOUT, time.Now().Add(2*time.Second)); err != nil {
		t.Errorf("not writable once sent: %v", err)
	}
}

// A corked write leaves in full segments; its partial tail waits.
func TestCorkFullSegments(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	l, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer l.Close()
	_ = l.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, intOpt(1000))
	if err := l.Bind(sa("127.0.0.1:7204")); err != nil {
		t.Fatal(err)
	}
	_ = l.Listen(1)
	c, _ := New(s, unix.AF_INET, unix.SOCK_STREAM, 0)
	defer c.Close()
	_ = c.SetSockOpt(unix.SOL_TCP, unix.TCP_MAXSEG, intOpt(1000))
	if err := c.Connect(sa("127.0.0.1:7204")); err != nil {
		t.Fatal(err)
	}
	a, _, err := l.Accept(0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	read := func(d time.Duration) int {
		got := 0
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if n, _, _, _, err := a.RecvMsg(make([]byte, 8192), nil, unix.MSG_DONTWAIT); err == nil {
				got += n
			}
		}
		return got
	}
	_ = c.SetSockOpt(unix.SOL_TCP, unix.TCP_CORK, intOpt(1))
	for _, n := range []int{200, 3000} {
		if _, err := c.SendMsg(make([]byte, n), nil, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	in, _ := tcpInternalsOf(c.(*tcpSock).endpoint(), s.Gvisor().Clock())
	got := read(100 * time.Millisecond)
	if got == 0 || got == 3200 || got%in.maxPayload != 0 {
		t.Errorf("corked 200+3000 with segments of %d: %d bytes left, want whole segments and a held tail", in.maxPayload, got)
	}
	_ = c.SetSockOpt(unix.SOL_TCP, unix.TCP_CORK, intOpt(0))
	if got += read(200 * time.Millisecond); got != 3200 {
		t.Errorf("after uncork: %d bytes, want 3200", got)
	}
}

// SOL_SOCKET options of sockopts_ext.go and IP_PROTOCOL, with Linux 6.18's
// answers.
func TestSockExtOptions(t *testing.T) {
	s := newStack(t, stack.AllCaps, nil)
	for _, k := range []struct {
		name       string
		typ, proto int
	}{{"tcp", unix.SOCK_STREAM, 0}, {"udp", unix.SOCK_DGRAM, 0}, {"raw", unix.SOCK_RAW, unix.IPPROTO_ICMP}} {
		so, _ := New(s, unix.AF_INET, k.typ, k.proto)
		buf := make([]byte, 16)
		if n, err := so.GetSockOpt(unix.SOL_SOCKET, unix.SO_PEERCRED, buf); err != nil || n != 12 ||
			binary.NativeEndian.Uint32(buf) != 0 || int32(binary.NativeEndian.Uint32(buf[4:])) != -1 || int32(binary.NativeEndian.Uint32(buf[8:])) != -1 {
			t.Errorf("%s SO_PEERCRED: %d %v % x", k.name, n, err, buf[:n])
		}
		for _, c := range []struct {
			opt     int
			set     int32
			setErr  error
			getErr  error
			readsAs int32
		}{
			{unix.SO_BSDCOMPAT, 1, nil, nil, 0},
			{unix.SO_SELECT_ERR_QUEUE, 5, nil, nil, 1},
			{unix.SO_PASSSEC, 1, unix.EOPNOTSUPP, unix.EOPNOTSUPP, 0},
			{soPassRights, 0, unix.EOPNOTSUPP, unix.EOPNOTSUPP, 0},
			{unix.SO_BUSY_POLL, -1, unix.EINVAL, nil, 0},
			{unix.SO_BUSY_POLL, 100, nil, nil, 100},
			{unix.SO_PREFER_BUSY_POLL, -1, nil, nil, 1},
			{unix.SO_BUF_LOCK, 4, unix.EINVAL, nil, 0},
			{unix.SO_BUF_LOCK, 3, nil, nil, 3},
			{unix.SO_PEERGROUPS, 1, unix.ENOPROTOOPT, unix.ENODATA, 0},
		} {
			if err := so.SetSockOpt(unix.SOL_SOCKET, c.opt, intOpt(c.set)); err != c.setErr {
				t.Errorf("%s set %d=%d: %v, want %v", k.name, c.opt, c.set, err, c.setErr)
			}
			n, err := so.GetSockOpt(unix.SOL_SOCKET, c.opt, buf[:4])
			if err != c.getErr || (err == nil && (n != 4 || int32(binary.NativeEndian.Uint32(buf)) != c.readsAs)) {
				t.Errorf("%s get %d: %d %v % x, want %v %d", k.name, c.opt, n, err, buf[:n], c.getErr, c.readsAs)
			}
		}
		wantRehash := unix.EOPNOTSUPP
		if k.typ == unix.SOCK_STREAM {
			wantRehash = unix.Errno(0)
		}
		if err := so.SetSockOpt(unix.SOL_SOCKET, unix.SO_TXREHASH, intOpt(0)); !errEq(err, wantRehash) {
			t.Errorf("%s SO_TXREHASH 0: %v, want %v", k.name, err, wantRehash)
		}
		so.Close()
	}
	u, _ := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	defer u.Close()
	if err := u.Bind(sa("127.0.0.1:7205")); err != nil {
		t.Fatal(err)
	}
	if v := getInt(t, u, unix.SOL_IP, unix.IP_PROTOCOL); v != 7205 {
		t.Errorf("bound UDP IP_PROTOCOL %d, want its port", v)
	}
	r, _ := New(s, unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	defer r.Close()
	if v := getInt(t, r, unix.SOL_IP, unix.IP_PROTOCOL); v != unix.IPPROTO_RAW {
		t.Errorf("raw IP_PROTOCOL %d, want 255", v)
	}
}

func errEq(err error, want unix.Errno) bool {
	if want == 0 {
		return err == nil
	}
	return err == want
}
