package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"netsandbox/test/harness"
)

// policyWorld is what the target namespace serves for the domain-policy
// tests: a DNS server (the gateway's --dns-upstream) naming the target,
// and HTTP on :80 and HTTPS on :443, each recording what it saw.
type policyWorld struct {
	mu   sync.Mutex
	seen []string // "dns NAME", "accept :PORT", "http HOST", "https SNI"
}

func (w *policyWorld) saw(s string) {
	w.mu.Lock()
	w.seen = append(w.seen, s)
	w.mu.Unlock()
}

func (w *policyWorld) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.seen, "\n")
}

func (w *policyWorld) reset() {
	w.mu.Lock()
	w.seen = nil
	w.mu.Unlock()
}

// policyZone: every name is the target; www.alias.test is a CNAME.
var policyZone = map[string]string{
	"allowed.test": targetAddr, "denied.test": targetAddr, "tcpdenied.test": targetAddr,
	"other.test": targetAddr, "edge.web.test": targetAddr,
}

const policyDNSPort = "5353"

func startPolicyWorld(t *testing.T, tp *runTopology) *policyWorld {
	t.Helper()
	w := &policyWorld{}
	var dns net.PacketConn
	var dnsTCP, l80, l443 net.Listener
	err := harness.InNetns(tp.target, func() (err error) {
		if dns, err = net.ListenPacket("udp4", targetAddr+":"+policyDNSPort); err != nil {
			return err
		}
		if dnsTCP, err = net.Listen("tcp4", targetAddr+":"+policyDNSPort); err != nil {
			return err
		}
		if l80, err = net.Listen("tcp4", targetAddr+":80"); err != nil {
			return err
		}
		l443, err = net.Listen("tcp4", targetAddr+":443")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close(); dnsTCP.Close(); l80.Close(); l443.Close() })
	go serveDNSTCP(dnsTCP, w)
	go func() {
		buf := make([]byte, 1500)
		for i := 0; i < 1000; i++ {
			n, from, err := dns.ReadFrom(buf)
			if err != nil {
				return
			}
			if r, name := answerPolicyQuery(buf[:n]); r != nil {
				w.saw("dns " + name)
				dns.WriteTo(r, from)
			}
		}
	}()
	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.saw("https " + r.TLS.ServerName)
			fmt.Fprintf(rw, "served https %s\n", r.TLS.ServerName)
			return
		}
		w.saw("http " + r.Host)
		fmt.Fprintf(rw, "served http %s\n", r.Host)
	})
	tlsConf := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	for _, l := range []net.Listener{&acceptLog{l80, w, ":80"}, tls.NewListener(&acceptLog{l443, w, ":443"}, tlsConf)} {
		srv := &http.Server{Handler: handler, ReadTimeout: 5 * time.Second}
		go srv.Serve(l)
	}
	return w
}

// serveDNSTCP answers DNS over TCP (RFC 1035 4.2.2: a two-byte length,
// then the message) from policyZone, recording "dns-tcp NAME".
func serveDNSTCP(l net.Listener, w *policyWorld) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			for {
				var n [2]byte
				if _, err := io.ReadFull(c, n[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(n[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				r, name := answerPolicyQuery(q)
				if r == nil {
					return
				}
				w.saw("dns-tcp " + name)
				if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(r))), r...)); err != nil {
					return
				}
			}
		}()
	}
}

// acceptLog records each connection the target accepted: one the gateway
// opened for the sandbox.
type acceptLog struct {
	net.Listener
	w    *policyWorld
	port string
}

func (a *acceptLog) Accept() (net.Conn, error) {
	c, err := a.Listener.Accept()
	if err == nil {
		a.w.saw("accept " + a.port)
	}
	return c, err
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"*.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// answerPolicyQuery answers a one-question query from policyZone: A records
// (www.alias.test through its CNAME), an empty answer for other types of a
// known name, NXDOMAIN for the rest.
func answerPolicyQuery(q []byte) ([]byte, string) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, ""
	}
	var labels []string
	off := 12
	for off < len(q) && q[off] != 0 && q[off] < 64 && off+1+int(q[off]) <= len(q) {
		labels = append(labels, strings.ToLower(string(q[off+1:off+1+int(q[off])])))
		off += 1 + int(q[off])
	}
	if off+5 > len(q) {
		return nil, ""
	}
	name := strings.Join(labels, ".")
	qtype := binary.BigEndian.Uint16(q[off+1:])
	end := off + 5
	r := append([]byte(nil), q[:end]...)
	r[2], r[3] = 0x81, 0x80 // response, RD, RA
	r[6], r[7], r[8], r[9], r[10], r[11] = 0, 0, 0, 0, 0, 0
	target := name
	var rrs []byte
	if name == "www.alias.test" {
		target = "edge.web.test"
		if qtype == 1 || qtype == 5 {
			rrs = append(rrs, policyRR([]byte{0xc0, 12}, 5, labelsOf(target))...)
			r[7]++
		}
	}
	addr, ok := policyZone[target]
	switch {
	case !ok:
		r[3] = 0x83 // NXDOMAIN
	case qtype == 1:
		owner := []byte{0xc0, 12}
		if target != name {
			owner = labelsOf(target)
		}
		a := net.ParseIP(addr).To4()
		rrs = append(rrs, policyRR(owner, 1, a)...)
		r[7]++
	}
	return append(r, rrs...), name
}

func labelsOf(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return append(b, 0)
}

func policyRR(owner []byte, typ uint16, rdata []byte) []byte {
	b := append([]byte(nil), owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, 5) // short TTL: the gateway keeps it 30 s anyway
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// TestRunDomainPolicy runs curl, getent and bash inside the sandbox against
// the target's DNS, HTTP and HTTPS servers, and checks each flow at both
// ends: what the sandbox's tool reports and what the target saw.
func TestRunDomainPolicy(t *testing.T) {
	tp := newRunTopology(t)
	w := startPolicyWorld(t, tp)
	bin := buildBinary(t)
	up := []string{"-v", "--dns-upstream", targetAddr + ":" + policyDNSPort}
	curl := "curl -sS -m 5 "

	t.Run("default allow, deny by name", func(t *testing.T) {
		w.reset()
		before := len(tp.seen())
		script := `getent hosts denied.test; echo "getent-denied:$?"
getent hosts allowed.test; echo "getent-allowed:$?"
` + curl + `http://allowed.test/; echo "allowed:$?"
` + curl + `http://tcpdenied.test/; echo "tcpdenied:$?"
` + curl + `http://allowed.test/; echo "allowed-again:$?"
exec 3<>/dev/tcp/` + targetAddr + `/7 && echo plain >&3 && read -t 5 l <&3; echo "plain:$l"
exec 4<>/dev/udp/` + targetAddr + `/7 && echo plain >&4 && timeout 5 dd bs=65536 count=1 <&4 2>&1 | grep -o "No route to host"
ping -c 1 -W 2 ` + targetAddr + ` | grep -o "Packet filtered"
exit 0`
		out, code := sandboxRun(t, bin, tp.host, "", append(up, "--deny", "denied.test", "--deny", "tcp:tcpdenied.test",
			"--deny", "udp:tcpdenied.test:7", "--deny", "icmp:tcpdenied.test", "--", "bash", "-c", script)...)
		for _, want := range []string{
			"getent-denied:2", // NXDOMAIN: not found
			"getent-allowed:0", "served http allowed.test", "allowed:0", "allowed-again:0",
			"dns 10.0.2.100:", "denied.test refused: denied by policy (--deny denied.test)",
			"(tcpdenied.test) refused: denied by policy (--deny tcp:tcpdenied.test)",
			// The target's address is tcpdenied.test's too now: a flow
			// naming nothing else is denied.
			"plain:\n", "refused: denied by policy (--deny tcp:tcpdenied.test)",
			// UDP and ping by name: administratively prohibited.
			"No route to host", "Packet filtered", "denied by policy (--deny udp:tcpdenied.test:7)",
			"denied by policy (--deny icmp:tcpdenied.test)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q (exit %d):\n%s", want, code, out)
			}
		}
		if strings.Contains(out, "tcpdenied:0") || strings.Contains(out, "served http tcpdenied.test") {
			t.Errorf("denied Host served:\n%s", out)
		}
		seen := w.log()
		if strings.Contains(seen, "dns denied.test") || !strings.Contains(seen, "dns allowed.test") || !strings.Contains(seen, "dns tcpdenied.test") {
			t.Errorf("the resolver saw (want allowed.test and tcpdenied.test, never denied.test):\n%s", seen)
		}
		if strings.Count(seen, "accept :80") != 2 || strings.Count(seen, "http allowed.test") != 2 || strings.Contains(seen, "http tcpdenied.test") {
			t.Errorf("the target saw (want 2 connections, both Host allowed.test):\n%s", seen)
		}
		if got := tp.seen()[before:]; len(got) != 0 {
			t.Errorf("the target's echo saw denied flows: %q", got)
		}
	})

	t.Run("deny-all, allow by name, SNI and Host", func(t *testing.T) {
		w.reset()
		before := len(tp.seen())
		script := curl + `-k https://allowed.test/; echo "tls-allowed:$?"
` + curl + `-k https://other.test/; echo "tls-other:$?"
` + curl + `-k --connect-to other.test:443:allowed.test:443 https://other.test/; echo "fronted:$?"
` + curl + `http://www.alias.test/; echo "alias:$?"
` + curl + `http://allowed.test/; echo "allowed-on-80:$?"
exec 4<>/dev/udp/` + targetAddr + `/7 && echo hello-udp >&4 && echo "udp:$(timeout 5 dd bs=65536 count=1 <&4 2>/dev/null)"
(exec 5<>/dev/tcp/` + targetAddr + `/7) 2>&1 | sed 's/.*: //'
exit 0`
		out, code := sandboxRun(t, bin, tp.host, "", append(up, "--deny-all", "--allow", "tcp:allowed.test:443",
			"--allow", "tcp:*.web.test:80", "--allow", "udp:allowed.test:7", "--", "bash", "-c", script)...)
		for _, want := range []string{
			"served https allowed.test", "tls-allowed:0", "served http www.alias.test", "alias:0", "udp:hello-udp",
			"(other.test) refused: denied by policy (--deny-all)",
			"(allowed.test) refused: denied by policy (--deny-all)", // allowed.test on port 80
			"Connection refused", // port 7: no domain rule for it, refused at the SYN
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q (exit %d):\n%s", want, code, out)
			}
		}
		for _, bad := range []string{"tls-other:0", "fronted:0", "allowed-on-80:0", "served https other.test", "served http allowed.test"} {
			if strings.Contains(out, bad) {
				t.Errorf("output has %q:\n%s", bad, out)
			}
		}
		seen := w.log()
		if strings.Count(seen, "accept :443") != 1 || strings.Count(seen, "accept :80") != 1 || strings.Contains(seen, "https other.test") {
			t.Errorf("the target saw (want one TLS connection, SNI allowed.test, and one HTTP, Host www.alias.test):\n%s", seen)
		}
		got := strings.Join(tp.seen()[before:], "\n")
		if strings.Contains(got, "tcp ") || !strings.Contains(got, "udp ") {
			t.Errorf("the target's echo saw (want the UDP datagram only):\n%s", got)
		}
	})

	t.Run("dns over tcp", func(t *testing.T) {
		w.reset()
		// socat sends a length-prefixed query over TCP to the gateway's DNS
		// address and prints the framed answer in hex; curl --resolve
		// presents a name without resolving it.
		script := `q() { printf "$1" | socat -t 3 - TCP:10.0.2.3:53 | od -An -tx1 | tr -d ' \n'; echo; }
echo "tcp-denied:$(q '\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06denied\x04test\x00\x00\x01\x00\x01')"
echo "tcp-allowed:$(q '\x00\x1e\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07allowed\x04test\x00\x00\x01\x00\x01')"
` + curl + `--resolve allowed.test:80:` + targetAddr + ` http://allowed.test/; echo "learnt:$?"
` + curl + `--resolve other.test:80:` + targetAddr + ` http://other.test/; echo "unlearnt:$?"
exit 0`
		out, code := sandboxRun(t, bin, tp.host, "", append(up, "--deny-all", "--deny", "denied.test",
			"--allow", "tcp:allowed.test:80", "--allow", "tcp:other.test:80", "--", "bash", "-c", script)...)
		for _, want := range []string{
			"tcp-denied:001d12348183000100000000000006", // NXDOMAIN from the gateway, framed
			"tcp-allowed:", "12358180000100010000", // the resolver's answer, one A record
			"served http allowed.test", "learnt:0",
			"denied.test refused: denied by policy (--deny denied.test)",
			"(other.test) refused: denied by policy (--deny-all)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q (exit %d):\n%s", want, code, out)
			}
		}
		if strings.Contains(out, "unlearnt:0") || strings.Contains(out, "served http other.test") {
			t.Errorf("a name never resolved allowed by name:\n%s", out)
		}
		seen := w.log()
		if strings.Contains(seen, "dns-tcp denied.test") || !strings.Contains(seen, "dns-tcp allowed.test") || strings.Contains(seen, "dns ") {
			t.Errorf("the resolver saw (want allowed.test over TCP only):\n%s", seen)
		}
	})

	t.Run("port ranges", func(t *testing.T) {
		before := len(tp.seen())
		w.reset()
		script := `(exec 3<>/dev/tcp/` + targetAddr + `/7) 2>&1 | sed 's/.*: //'
` + curl + `-o /dev/null http://` + targetAddr + `/; echo "port80:$?"
exit 0`
		out, code := sandboxRun(t, bin, tp.host, "", "-v", "--deny", "tcp:"+targetAddr+"/24:1-10", "--", "bash", "-c", script)
		if !strings.Contains(out, "Connection refused") || !strings.Contains(out, "port80:0") || !strings.Contains(out, "denied by policy (--deny tcp:"+targetAddr+"/24:1-10)") {
			t.Errorf("--deny tcp:%s/24:1-10: exit %d, want port 7 refused and port 80 served:\n%s", targetAddr, code, out)
		}
		if got := tp.seen()[before:]; len(got) != 0 || strings.Count(w.log(), "accept :80") != 1 {
			t.Errorf("the target saw %q and %q; want only the port 80 connection", got, w.log())
		}
	})
}
