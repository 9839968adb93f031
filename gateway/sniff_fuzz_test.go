package gateway

import (
	"testing"
)

// The parsers of the sandbox's and the resolver's bytes: any input ends
// with an answer, no panic, and what they return is a normalized name.

func FuzzDNSMessage(f *testing.F) {
	f.Add(dnsTestAnswer())
	f.Add(dnsTestMsg(0x0100, "denied.test"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parseDNSAnswer(b)
		if err != nil && recs != nil {
			t.Fatal("records with an error")
		}
		for _, r := range recs {
			if n, ok := normalizeName(r.name); !ok || n != r.name || !r.addr.Is4() {
				t.Fatalf("record %+v", r)
			}
		}
		if q, err := parseDNSQuestion(b); err == nil {
			if q.end > len(b) {
				t.Fatalf("question ends at %d of %d", q.end, len(b))
			}
			r := dnsNXDomain(b, q)
			if rq, err := parseDNSQuestion(r); err != nil || !rq.isResponse || rq.name != q.name {
				t.Fatalf("NXDOMAIN %x does not parse back: %+v %v", r, rq, err)
			}
		}
	})
}

func FuzzClientHelloSNI(f *testing.F) {
	h := clientHello(f, "api.example.test")
	f.Add(h)
	f.Add(splitRecords(h, 50))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, st := parseClientHelloSNI(b)
		checkSniffed(t, name, st)
	})
}

func FuzzHTTPHost(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: www.example.test:8080\r\n\r\n"))
	f.Add([]byte("CONNECT a.test:443 HTTP/1.1\r\nhost: a.test\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, st := parseHTTPHost(b)
		checkSniffed(t, name, st)
	})
}

func checkSniffed(t *testing.T, name string, st sniffState) {
	t.Helper()
	if st > sniffNot || (name != "" && st != sniffFound) {
		t.Fatalf("%q, %v", name, st)
	}
	if name != "" {
		if n, ok := normalizeName(name); !ok || n != name {
			t.Fatalf("name %q not normalized", name)
		}
	}
}
