package gateway

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"netsandbox/options"
)

// hostResolverA is a resolver on the host's loopback answering every A
// query with addr (TTL 60) and recording the names asked.
func hostResolverA(t *testing.T, addr netip.Addr) (netip.AddrPort, func() []string) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var mu sync.Mutex
	var asked []string
	go func() {
		buf := make([]byte, 65536)
		for i := 0; i < 100; i++ {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			q, err := parseDNSQuestion(buf[:n])
			if err != nil {
				continue
			}
			mu.Lock()
			asked = append(asked, q.name)
			mu.Unlock()
			a := addr.As4()
			r := dnsTestMsg(0x8180, q.name, dnsTestRR([]byte{0xc0, 12}, dnsTypeA, 60, a[:]))
			binary.BigEndian.PutUint16(r, q.id)
			c.WriteToUDP(r, from)
		}
	}()
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(c.LocalAddr().(*net.UDPAddr).Port)),
		func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), asked...) }
}

// TestDomainPolicyInProcess: a name denied outright gets NXDOMAIN from the
// gateway's DNS address without reaching the resolver; names of answers are
// learnt and decide later flows to their address, by the DNS name (UDP)
// and by the HTTP Host and TLS SNI the client sends (TCP: connected, then
// reset). Every flow here is denied: nothing leaves the host.
func TestDomainPolicyInProcess(t *testing.T) {
	world := netip.MustParseAddr("203.0.113.7")
	resolver, asked := hostResolverA(t, world)
	pol := &Policy{Rules: []Rule{
		mustRule(t, "denied.test", false),
		mustRule(t, "tcp:blocked.test", false),
		mustRule(t, "udp:blocked.test:9", false),
		mustRule(t, "*.sni.test", false),
	}}
	p := newPair(t, Config{Resolver: resolver, Policy: pol})
	s := sandboxUDP(t, p)
	dns := netip.AddrPortFrom(testDNS, 53)
	query := func(name string) dnsQuestion {
		t.Helper()
		if _, err := s.SendMsg(dnsTestMsg(0x0100, name), nil, options.SockaddrIn(dns), 0); err != nil {
			t.Fatal(err)
		}
		got, from, err := recvFrom(t, s, 5*time.Second)
		if err != nil || from != dns {
			t.Fatalf("query %s: %v from %v", name, err, from)
		}
		q, err := parseDNSQuestion(got)
		if err != nil || !q.isResponse || q.name != name {
			t.Fatalf("answer for %s: %+v %v", name, q, err)
		}
		return q
	}
	if q := query("denied.test"); q.flags&0xf != dnsRcodeNX {
		t.Errorf("denied.test: rcode %d, want NXDOMAIN", q.flags&0xf)
	}
	if q := query("blocked.test"); q.flags&0xf != 0 {
		t.Errorf("blocked.test (denied for tcp only): rcode %d, want an answer", q.flags&0xf)
	}
	if got := strings.Join(asked(), ","); got != "blocked.test" {
		t.Errorf("resolver was asked %q, want only blocked.test", got)
	}
	if n, _ := p.gw.DNSNames(); n != 1 {
		t.Errorf("names held: %d, want 1 (blocked.test)", n)
	}

	// UDP by the resolved name: administratively prohibited.
	typ, code, from := icmpErrorFor(t, p, netip.AddrPortFrom(world, 9), 0)
	if typ != 3 || code != 13 || from != testGateway {
		t.Errorf("udp to blocked.test:9: ICMP %d/%d from %v, want 3/13 from the gateway", typ, code, from)
	}
	// TCP: connected (the name is in the first bytes), then reset.
	for _, first := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n"), // resolved name, denied for tcp
		clientHello(t, "x.sni.test"),                           // a denied SNI, never resolved
	} {
		c, err := dialSandboxTCP(p, netip.AddrPortFrom(world, 80))
		if err != nil {
			t.Fatalf("connect: %v; want the handshake to complete before the name is known", err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(first)
		_, err = io.ReadAll(c)
		c.Close()
		if err == nil || !strings.Contains(err.Error(), "reset") {
			t.Errorf("first bytes %.20q: read %v, want connection reset", first, err)
		}
	}
	st := p.gw.Stats()
	if st.TCPFlows.Load() != 0 || st.Failed.Load() != 0 || st.Denied.Load() != 4 {
		t.Errorf("tcp flows %d failed %d denied %d; want 0, 0, 4 (1 dns, 1 udp, 2 tcp)", st.TCPFlows.Load(), st.Failed.Load(), st.Denied.Load())
	}
}

// TestCloseEndsHeldFlow: Close does not wait out the hold of a flow whose
// client sends nothing (the policy denies it anyway: nothing is dialled).
func TestCloseEndsHeldFlow(t *testing.T) {
	p := newPair(t, Config{Policy: &Policy{DenyAll: true, Rules: []Rule{mustRule(t, "allowed.test", true)}}})
	c, err := dialSandboxTCP(p, netip.MustParseAddrPort("203.0.113.7:22"))
	if err != nil {
		t.Fatalf("connect: %v; want the handshake to complete (held flow)", err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.gw.Close()
	if d := time.Since(start); d > holdTime/2 {
		t.Errorf("Close took %v with a held flow, want well under the %v hold", d, holdTime)
	}
}
