package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// FuzzDNSTCPStream runs a DNS-over-TCP connection (dnsTCP) on any bytes
// from the sandbox, read in pieces of any size, with an in-memory resolver
// answering each message it gets: it must end, never panic, send the
// resolver exactly the frames the policy does not refuse (in order, whole),
// and give the sandbox whole frames: an NXDOMAIN per refused query and the
// resolver's answers.
func FuzzDNSTCPStream(f *testing.F) {
	frame := func(m []byte) []byte { return appendDNSFrame(nil, m) }
	f.Add(uint8(0), frame(dnsTestMsg(0x0100, "denied.test")))
	f.Add(uint8(1), append(frame(dnsTestMsg(0x0100, "allowed.test")), frame(dnsTestMsg(0x0100, "denied.test"))...))
	f.Add(uint8(3), append([]byte{0, 0, 0, 3, 1, 2, 3}, frame(dnsTestMsg(0x0100, "x.denied.test"))...))
	f.Add(uint8(7), append(frame(dnsTestMsg(0x0100, "allowed.test")), 0, 100, 1, 2))
	f.Add(uint8(2), frame(dnsTestAnswer()))
	pol := &Policy{DenyAll: true}
	for _, r := range []struct {
		s     string
		allow bool
	}{{"allowed.test", true}, {"denied.test", false}, {"*.denied.test", false}} {
		rule, err := ParseRule(r.s, r.allow)
		if err != nil {
			f.Fatal(err)
		}
		pol.Rules = append(pol.Rules, rule)
	}
	f.Fuzz(func(t *testing.T, step uint8, in []byte) {
		gw := &Gateway{cfg: Config{Policy: pol}, done: make(chan struct{})}
		// What the connection must do, from the test's own framing.
		var wantUp []byte
		refused, dropped := 0, 0
		for rest := in; len(rest) > 0; {
			if len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
				dropped++ // cut by the end of the stream
				break
			}
			n := 2 + int(binary.BigEndian.Uint16(rest))
			msg := rest[2:n]
			switch ans, _, _ := gw.dnsRefusal(msg); {
			case len(msg) < dnsHeaderLen:
				dropped++
			case ans != nil:
				refused++
			default:
				wantUp = append(wantUp, rest[:n]...)
			}
			rest = rest[n:]
		}

		sb := &fakeSandbox{in: in, step: int(step)%64 + 1}
		res := newFakeResolver()
		s := &dnsTCP{gw: gw, sb: sb, reset: func() { t.Error("reset") },
			dial: func() (dnsConn, error) { return res, nil }}
		done := make(chan struct{})
		go func() { s.serve(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not end")
		}
		res.mu.Lock()
		gotUp := res.got.Bytes()
		res.mu.Unlock()
		if !bytes.Equal(gotUp, wantUp) {
			t.Fatalf("resolver got %x, want %x", gotUp, wantUp)
		}
		if d := gw.stats.DNSDropped.Load(); d != int64(dropped) {
			t.Fatalf("dropped %d, want %d", d, dropped)
		}
		nx, answers := 0, 0
		out := bytes.NewReader(sb.out.Bytes())
		var buf []byte
		for {
			fr, cut, err := readDNSFrame(out, &buf)
			if err != nil {
				if cut || err != io.EOF {
					t.Fatalf("sandbox got a cut frame: %v", err)
				}
				break
			}
			q, err := parseDNSQuestion(fr[2:])
			switch {
			case err == nil && q.isResponse && q.flags&0xf == dnsRcodeNX:
				nx++
			case err == nil && q.isResponse && q.flags&0xf == 0 && q.id == 0xfeed:
				answers++
			default:
				t.Fatalf("sandbox got %x", fr)
			}
		}
		if nx != refused || answers != res.answered {
			t.Fatalf("sandbox got %d NXDOMAIN, %d answers; want %d, %d", nx, answers, refused, res.answered)
		}
	})
}

// fakeSandbox serves in, step bytes at a time, then EOF; it records what
// is written.
type fakeSandbox struct {
	in   []byte
	step int
	out  bytes.Buffer
	mu   sync.Mutex
	shut bool
}

func (c *fakeSandbox) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in[:min(c.step, len(c.in))])
	c.in = c.in[n:]
	return n, nil
}

func (c *fakeSandbox) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shut {
		return 0, errors.New("closed")
	}
	return c.out.Write(p)
}

func (c *fakeSandbox) CloseWrite() error { c.mu.Lock(); c.shut = true; c.mu.Unlock(); return nil }
func (c *fakeSandbox) Close() error      { return c.CloseWrite() }

func (c *fakeSandbox) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeSandbox) SetWriteDeadline(time.Time) error { return nil }

// fakeResolver records the bytes written to it and answers each whole
// frame whose question parses (A 198.18.5.1, ID 0xfeed); its reads end
// once it is shut.
type fakeResolver struct {
	mu       sync.Mutex
	cond     *sync.Cond
	got      bytes.Buffer
	pending  []byte // answers not read yet
	parsed   int    // bytes of got framed so far
	answered int
	shut     bool
}

func newFakeResolver() *fakeResolver {
	r := &fakeResolver{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *fakeResolver) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shut {
		return 0, errors.New("closed")
	}
	r.got.Write(p)
	for b := r.got.Bytes()[r.parsed:]; len(b) >= 2 && len(b) >= 2+int(binary.BigEndian.Uint16(b)); b = r.got.Bytes()[r.parsed:] {
		n := 2 + int(binary.BigEndian.Uint16(b))
		r.parsed += n
		if q, err := parseDNSQuestion(b[2:n]); err == nil && q.name != "" {
			ans := dnsTestMsg(0x8180, q.name, dnsTestRR([]byte{0xc0, 12}, dnsTypeA, 60, []byte{198, 18, 5, 1}))
			binary.BigEndian.PutUint16(ans, 0xfeed)
			r.pending = appendDNSFrame(r.pending, ans)
			r.answered++
		}
	}
	r.cond.Broadcast()
	return len(p), nil
}

func (r *fakeResolver) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) == 0 && !r.shut {
		r.cond.Wait()
	}
	if len(r.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *fakeResolver) CloseWrite() error {
	r.mu.Lock()
	r.shut = true
	r.cond.Broadcast()
	r.mu.Unlock()
	return nil
}
func (r *fakeResolver) Close() error { return r.CloseWrite() }

func (r *fakeResolver) SetReadDeadline(time.Time) error  { return nil }
func (r *fakeResolver) SetWriteDeadline(time.Time) error { return nil }
