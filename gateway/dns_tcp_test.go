package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
)

// tcpResolver is a resolver on the host's loopback speaking DNS over TCP:
// it answers every A query with addr (TTL 60), one answer per query in
// order, and records the connections it accepted and the names asked.
type tcpResolver struct {
	addr  netip.AddrPort
	mu    sync.Mutex
	conns int
	asked []string
}

func hostResolverTCP(t *testing.T, addr netip.Addr) *tcpResolver {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpResolver{addr: netip.MustParseAddrPort(l.Addr().String())}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns++
			r.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				var buf []byte
				for {
					frame, _, err := readTestFrame(c, &buf)
					if err != nil {
						return
					}
					q, err := parseDNSQuestion(frame)
					r.mu.Lock()
					if err != nil {
						r.asked = append(r.asked, "malformed")
					} else {
						r.asked = append(r.asked, q.name)
					}
					r.mu.Unlock()
					if err != nil {
						continue
					}
					a := addr.As4()
					ans := dnsTestMsg(0x8180, q.name, dnsTestRR([]byte{0xc0, 12}, dnsTypeA, 60, a[:]))
					binary.BigEndian.PutUint16(ans, q.id)
					if _, err := c.Write(dnsFrame(ans)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return r
}

func (r *tcpResolver) seen() (conns int, asked string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns, strings.Join(r.asked, ",")
}

// readTestFrame reads one length-prefixed message; the test's own reader,
// independent of the gateway's.
func readTestFrame(r io.Reader, buf *[]byte) ([]byte, int, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, 0, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	m := (*buf)[:n]
	_, err := io.ReadFull(r, m)
	return m, n, err
}

func dnsFrame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

func dnsTestQuery(id uint16, name string) []byte {
	m := dnsTestMsg(0x0100, name)
	binary.BigEndian.PutUint16(m, id)
	return m
}

// dialSandboxDNS connects from the sandbox to the gateway's DNS address
// over TCP.
func dialSandboxDNS(t *testing.T, p *pair) *gonet.TCPConn {
	t.Helper()
	c, err := dialSandboxTCP(p, netip.AddrPortFrom(testDNS, 53))
	if err != nil {
		t.Fatalf("connect to the DNS address over TCP: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// readAnswers reads n framed answers from the sandbox's connection.
func readAnswers(t *testing.T, c net.Conn, n int) map[string]dnsQuestion {
	t.Helper()
	got := map[string]dnsQuestion{}
	var buf []byte
	for i := 0; i < n; i++ {
		m, _, err := readTestFrame(c, &buf)
		if err != nil {
			t.Fatalf("answer %d of %d: %v", i+1, n, err)
		}
		q, err := parseDNSQuestion(m)
		if err != nil || !q.isResponse {
			t.Fatalf("answer %d: %x: %+v %v", i+1, m, q, err)
		}
		got[q.name] = q
	}
	return got
}

func tcpTestPolicy(t *testing.T) *Policy {
	return &Policy{DenyAll: true, Rules: []Rule{
		mustRule(t, "allowed.test", true),
		mustRule(t, "denied.test", false),
	}}
}

// TestDNSOverTCPDeniedName: a query over TCP for a name the policy denies
// outright gets the same NXDOMAIN as over UDP, from the gateway: the
// resolver is not even connected to.
func TestDNSOverTCPDeniedName(t *testing.T) {
	res := hostResolverTCP(t, netip.MustParseAddr("203.0.113.7"))
	p := newPair(t, Config{Resolver: res.addr, Policy: tcpTestPolicy(t)})
	c := dialSandboxDNS(t, p)
	if _, err := c.Write(dnsFrame(dnsTestQuery(0x4242, "Denied.TEST"))); err != nil {
		t.Fatal(err)
	}
	ans := readAnswers(t, c, 1)
	q, ok := ans["denied.test"]
	if !ok || q.id != 0x4242 || q.flags&0xf != dnsRcodeNX {
		t.Fatalf("answer %+v, want NXDOMAIN for denied.test, id 0x4242", ans)
	}
	c.CloseWrite()
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("after the answer: %v, want EOF", err)
	}
	if conns, asked := res.seen(); conns != 0 || asked != "" {
		t.Errorf("resolver: %d connections, asked %q; want none", conns, asked)
	}
	if d := p.gw.Stats().Denied.Load(); d != 1 {
		t.Errorf("denied %d, want 1", d)
	}
}

// TestDNSOverTCPAllowedNameLearnt: an allowed name is asked of the resolver
// over TCP, its answer reaches the sandbox and its address becomes the
// name's, so a flow to it is allowed by the name, as after a UDP answer.
func TestDNSOverTCPAllowedNameLearnt(t *testing.T) {
	world := netip.MustParseAddr("203.0.113.7")
	res := hostResolverTCP(t, world)
	p := newPair(t, Config{Resolver: res.addr, Policy: tcpTestPolicy(t)})
	flow := Flow{Proto: ProtoUDP, Dst: netip.AddrPortFrom(world, 9)}
	if ok, _ := p.gw.decide(flow); ok {
		t.Fatal("flow allowed before the name resolved")
	}
	c := dialSandboxDNS(t, p)
	if _, err := c.Write(dnsFrame(dnsTestQuery(7, "allowed.test"))); err != nil {
		t.Fatal(err)
	}
	ans := readAnswers(t, c, 1)
	if q, ok := ans["allowed.test"]; !ok || q.id != 7 || q.flags&0xf != 0 {
		t.Fatalf("answer %+v, want allowed.test answered", ans)
	}
	if got := p.gw.names.names(world); !slices.Equal(got, []string{"allowed.test"}) {
		t.Errorf("names of %v: %q, want allowed.test", world, got)
	}
	if ok, why := p.gw.decide(flow); !ok {
		t.Errorf("flow to the answer's address: %s, want allowed", why)
	}
	if conns, asked := res.seen(); conns != 1 || asked != "allowed.test" {
		t.Errorf("resolver: %d connections, asked %q", conns, asked)
	}
}

// TestDNSOverTCPPipelined: queries sent together (and byte by byte) are
// each decided: the denied one answered by the gateway, the others asked of
// the resolver on one connection, every answer framed whole.
func TestDNSOverTCPPipelined(t *testing.T) {
	res := hostResolverTCP(t, netip.MustParseAddr("203.0.113.7"))
	p := newPair(t, Config{Resolver: res.addr, Policy: tcpTestPolicy(t)})
	var stream []byte
	for i, n := range []string{"allowed.test", "denied.test", "www.allowed.test"} {
		stream = append(stream, dnsFrame(dnsTestQuery(uint16(i+1), n))...)
	}
	for _, step := range []int{len(stream), 1} {
		c := dialSandboxDNS(t, p)
		for i := 0; i < len(stream); i += step {
			if _, err := c.Write(stream[i:min(i+step, len(stream))]); err != nil {
				t.Fatal(err)
			}
		}
		ans := readAnswers(t, c, 3)
		if q := ans["denied.test"]; q.id != 2 || q.flags&0xf != dnsRcodeNX {
			t.Errorf("pieces of %d: denied.test %+v, want NXDOMAIN id 2", step, q)
		}
		if q := ans["allowed.test"]; q.id != 1 || q.flags&0xf != 0 {
			t.Errorf("pieces of %d: allowed.test %+v", step, q)
		}
		if q := ans["www.allowed.test"]; q.id != 3 || q.flags&0xf != 0 {
			t.Errorf("pieces of %d: www.allowed.test %+v", step, q)
		}
		c.Close()
	}
	if conns, asked := res.seen(); conns != 2 || asked != "allowed.test,www.allowed.test,allowed.test,www.allowed.test" {
		t.Errorf("resolver: %d connections, asked %q", conns, asked)
	}
}

// TestDNSOverTCPBadFrames: a message too short for a header is dropped
// (counted) and the next one still answered; one as long as a length can
// say is read whole and decided; a message cut by the client's FIN or left
// unfinished ends the connection without reaching the resolver.
func TestDNSOverTCPBadFrames(t *testing.T) {
	old := dnsTCPIdle
	dnsTCPIdle = 500 * time.Millisecond
	t.Cleanup(func() { dnsTCPIdle = old })
	res := hostResolverTCP(t, netip.MustParseAddr("203.0.113.7"))
	p := newPair(t, Config{Resolver: res.addr, Policy: tcpTestPolicy(t)})
	st := p.gw.Stats()

	c := dialSandboxDNS(t, p)
	big := make([]byte, 65535)
	copy(big, dnsTestQuery(9, "denied.test"))
	var stream []byte
	stream = append(stream, 0, 0)                                        // length 0
	stream = append(stream, dnsFrame([]byte{1, 2, 3})...)                // no header
	stream = append(stream, dnsFrame(big)...)                            // the longest a length says
	stream = append(stream, dnsFrame(dnsTestQuery(8, "denied.test"))...) // still in step
	if _, err := c.Write(stream); err != nil {
		t.Fatal(err)
	}
	ans := readAnswers(t, c, 1)
	if q := ans["denied.test"]; q.id != 9 || q.flags&0xf != dnsRcodeNX {
		t.Errorf("65535-byte query: %+v, want NXDOMAIN id 9", ans)
	}
	ans = readAnswers(t, c, 1)
	if q := ans["denied.test"]; q.id != 8 || q.flags&0xf != dnsRcodeNX {
		t.Errorf("after the dropped messages: %+v, want NXDOMAIN id 8", ans)
	}
	if d := st.DNSDropped.Load(); d != 2 {
		t.Errorf("dropped %d, want 2 (empty, no header)", d)
	}

	// Cut by FIN: the length says 100, 10 bytes follow.
	c2 := dialSandboxDNS(t, p)
	c2.Write(append([]byte{0, 100}, dnsTestQuery(1, "allowed.test")[:10]...))
	c2.CloseWrite()
	if b, err := io.ReadAll(c2); len(b) != 0 || err != nil {
		t.Errorf("cut message: read %x, %v; want EOF", b, err)
	}
	// Never finished: a length and one byte, then silence.
	c3 := dialSandboxDNS(t, p)
	c3.Write([]byte{0, 40, 0})
	start := time.Now()
	b, err := io.ReadAll(c3)
	if len(b) != 0 || err != nil || time.Since(start) > 5*time.Second {
		t.Errorf("unfinished message: read %x, %v after %v; want EOF after %v", b, err, time.Since(start), dnsTCPIdle)
	}
	// Idle between messages ends the connection too.
	c4 := dialSandboxDNS(t, p)
	start = time.Now()
	if b, err := io.ReadAll(c4); len(b) != 0 || err != nil || time.Since(start) > 5*time.Second {
		t.Errorf("idle connection: read %x, %v after %v", b, err, time.Since(start))
	}
	if d := st.DNSDropped.Load(); d != 4 {
		t.Errorf("dropped %d, want 4 (empty, no header, cut, unfinished)", d)
	}
	if conns, asked := res.seen(); conns != 0 || asked != "" {
		t.Errorf("resolver: %d connections, asked %q; want none", conns, asked)
	}
	// Nothing left running: every connection ended (Drain waits for them).
	deadline := time.Now().Add(5 * time.Second)
	for p.gw.relays.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := p.gw.relays.Load(); n != 0 {
		t.Errorf("%d connections still served", n)
	}
}

// TestDNSOverTCPResolverDown: an allowed query when the resolver refuses
// the connection resets the sandbox's connection (it is connected before
// the gateway knows it must ask the resolver); a denied one is still
// answered.
func TestDNSOverTCPResolverDown(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	p := newPair(t, Config{Resolver: down, Policy: tcpTestPolicy(t)})
	c := dialSandboxDNS(t, p)
	c.Write(dnsFrame(dnsTestQuery(1, "denied.test")))
	if ans := readAnswers(t, c, 1); ans["denied.test"].flags&0xf != dnsRcodeNX {
		t.Errorf("denied.test: %+v", ans)
	}
	c.Write(dnsFrame(dnsTestQuery(2, "allowed.test")))
	if b, err := io.ReadAll(c); len(b) != 0 || err == nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("allowed.test with the resolver down: %x, %v; want a reset", b, err)
	}
	if f := p.gw.Stats().Failed.Load(); f != 1 {
		t.Errorf("failed %d, want 1", f)
	}
}

// TestDNSOverTCPNoDomainPolicy: without domain rules DNS over TCP is
// relayed byte for byte as before.
func TestDNSOverTCPNoDomainPolicy(t *testing.T) {
	res := hostResolverTCP(t, netip.MustParseAddr("203.0.113.7"))
	p := newPair(t, Config{Resolver: res.addr})
	c := dialSandboxDNS(t, p)
	c.Write(dnsFrame(dnsTestQuery(3, "denied.test")))
	if ans := readAnswers(t, c, 1); ans["denied.test"].flags&0xf != 0 {
		t.Errorf("no policy: %+v, want the resolver's answer", ans)
	}
	if _, asked := res.seen(); asked != "denied.test" {
		t.Errorf("resolver asked %q", asked)
	}
}

// TestDNSOverTCPCloseEnds: closing the gateway ends a DNS connection whose
// resolver never answers, at once.
func TestDNSOverTCPCloseEnds(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c) // reads, never answers
			c.Close()
		}
	}()
	p := newPair(t, Config{Resolver: netip.MustParseAddrPort(l.Addr().String()), Policy: tcpTestPolicy(t)})
	c := dialSandboxDNS(t, p)
	c.Write(dnsFrame(dnsTestQuery(1, "allowed.test")))
	deadline := time.Now().Add(5 * time.Second)
	for p.gw.Stats().BytesOut.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	p.gw.Close()
	if d := time.Since(start); d > dnsTCPIdle/2 {
		t.Errorf("Close took %v with a DNS connection waiting for its resolver", d)
	}
}
