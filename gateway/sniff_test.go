package gateway

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// clientHello is the first flight of Go's TLS client for serverName.
func clientHello(t testing.TB, serverName string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		tc := tls.Client(c, &tls.Config{ServerName: serverName, InsecureSkipVerify: serverName == ""})
		tc.Handshake()
		c.Close()
	}()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16384)
	n, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// splitRecords re-frames a one-record ClientHello as records of at most
// size payload bytes, as a client may.
func splitRecords(rec []byte, size int) []byte {
	body := rec[5:]
	var out []byte
	for len(body) > 0 {
		k := min(size, len(body))
		out = append(out, rec[0], rec[1], rec[2], byte(k>>8), byte(k))
		out = append(out, body[:k]...)
		body = body[k:]
	}
	return out
}

func TestParseClientHelloSNI(t *testing.T) {
	hello := clientHello(t, "API.Example.test")
	for name, b := range map[string][]byte{"one record": hello, "split records": splitRecords(hello, 100)} {
		got, st := parseClientHelloSNI(b)
		if st != sniffFound || got != "api.example.test" {
			t.Errorf("%s: %q, %v; want api.example.test", name, got, st)
		}
		// Every proper prefix asks for more, never a wrong answer.
		for n := 0; n < len(b); n++ {
			if got, st := parseClientHelloSNI(b[:n]); st != sniffMore {
				t.Fatalf("%s: prefix of %d bytes: %q, %v; want more", name, n, got, st)
			}
		}
	}
	if got, st := parseClientHelloSNI(clientHello(t, "")); st != sniffFound || got != "" {
		t.Errorf("hello without SNI: %q, %v", got, st)
	}
	if _, st := parseClientHelloSNI([]byte("GET / HTTP/1.1\r\n")); st != sniffNot {
		t.Errorf("HTTP taken for TLS: %v", st)
	}
	bad := append([]byte(nil), hello...)
	bad[5+4+2+32] = 0xff // a session id longer than the hello
	if _, st := parseClientHelloSNI(bad); st != sniffNot {
		t.Errorf("malformed hello: %v, want not TLS", st)
	}
}

func TestParseHTTPHost(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		st   sniffState
	}{
		{"GET / HTTP/1.1\r\nUser-Agent: x\r\nhost: WWW.Example.test:8080\r\n\r\n", "www.example.test", sniffFound},
		{"POST /x HTTP/1.0\nHost: a.test\n\n", "a.test", sniffFound},
		{"GET / HTTP/1.1\r\nHost: 198.18.5.1\r\n\r\n", "", sniffFound},
		{"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "", sniffFound},
		{"GET / HTTP/1.0\r\n\r\n", "", sniffFound},
		{"GET / HTTP/1.1\r\nAccept: */*\r\n", "", sniffMore},
		{"GE", "", sniffMore},
		{"GET / HT", "", sniffMore},
		{"SSH-2.0-OpenSSH\r\n", "", sniffNot},
		{"GET / SMTP\r\n", "", sniffNot},
		{"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "", sniffNot},
	} {
		name, st := parseHTTPHost([]byte(c.in))
		if name != c.name || st != c.st {
			t.Errorf("parseHTTPHost(%q) = %q, %v; want %q, %v", c.in, name, st, c.name, c.st)
		}
	}
}

func TestSniffBytes(t *testing.T) {
	if n, done := sniffBytes(clientHello(t, "tls.test")); !done || n != "tls.test" {
		t.Errorf("TLS: %q %v", n, done)
	}
	if n, done := sniffBytes([]byte("HEAD / HTTP/1.1\r\nHost: web.test\r\n\r\n")); !done || n != "web.test" {
		t.Errorf("HTTP: %q %v", n, done)
	}
	if _, done := sniffBytes([]byte("\x16")); done {
		t.Error("one TLS byte: done")
	}
	if n, done := sniffBytes([]byte("SSH-2.0-x\r\n")); !done || n != "" {
		t.Errorf("neither: %q %v", n, done)
	}
}
