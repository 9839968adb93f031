package gateway

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"netsandbox/stack"
)

const (
	// nameTableMax bounds the (address, name) pairs remembered; beyond it
	// the oldest-expiring pairs of some address go (counted).
	nameTableMax = 16384
	// namesPerAddr bounds the names kept for one address (a CDN address
	// may serve thousands).
	namesPerAddr = 32
	// nameMinTTL keeps a name at least this long: a TTL-0 answer still
	// covers the connect that follows it.
	nameMinTTL = 30 * time.Second
	nameMaxTTL = 24 * time.Hour
)

// nameTable remembers which names resolved to which addresses through the
// gateway's DNS, until their TTL ends.
type nameTable struct {
	mu        sync.Mutex
	m         map[netip.Addr][]nameEntry
	n         int
	evictions atomic.Int64
	now       func() time.Time // tests move time
}

type nameEntry struct {
	name string
	head string // the question whose answer held name (its CNAME chain)
	exp  time.Time
}

func (t *nameTable) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// learn records that name, in the answer to head, resolved to addr for ttl
// seconds.
func (t *nameTable) learn(addr netip.Addr, name, head string, ttl uint32) {
	d := min(max(time.Duration(ttl)*time.Second, nameMinTTL), nameMaxTTL)
	now := t.clock()
	exp := now.Add(d)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[netip.Addr][]nameEntry{}
	}
	es := t.m[addr]
	for i := range es {
		if es[i].name == name && es[i].head == head {
			es[i].exp = exp
			return
		}
	}
	if len(es) >= namesPerAddr {
		// Replace the one that ends first.
		j := 0
		for i := range es {
			if es[i].exp.Before(es[j].exp) {
				j = i
			}
		}
		es[j] = nameEntry{name, head, exp}
		t.evictions.Add(1)
		return
	}
	if t.n >= nameTableMax {
		t.sweepLocked(now)
		es = t.m[addr] // the sweep compacted (or dropped) addr's own names
	}
	for t.n >= nameTableMax {
		// Still full of live names: drop some address's (map order is
		// arbitrary, so no sandbox can aim at one).
		for a, old := range t.m {
			if a == addr {
				continue
			}
			delete(t.m, a)
			t.n -= len(old)
			t.evictions.Add(int64(len(old)))
			break
		}
	}
	t.m[addr] = append(es, nameEntry{name, head, exp})
	t.n++
}

// sweepLocked forgets expired names.
func (t *nameTable) sweepLocked(now time.Time) {
	for a, es := range t.m {
		live := es[:0]
		for _, e := range es {
			if e.exp.After(now) {
				live = append(live, e)
			}
		}
		t.n -= len(es) - len(live)
		if len(live) == 0 {
			delete(t.m, a)
		} else {
			t.m[a] = live
		}
	}
}

// names returns the live names of addr.
func (t *nameTable) names(addr netip.Addr) []string {
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, e := range t.m[addr] {
		if e.exp.After(now) && !contains(out, e.name) {
			out = append(out, e.name)
		}
	}
	return out
}

// chain returns the live names of addr learnt from the same answers as
// name (name and the CNAMEs that led from it or to it); nil when name did
// not resolve to addr.
func (t *nameTable) chain(addr netip.Addr, name string) []string {
	now := t.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	es := t.m[addr]
	var heads, out []string
	for _, e := range es {
		if e.name == name && e.exp.After(now) {
			heads = append(heads, e.head)
		}
	}
	for _, e := range es {
		if contains(heads, e.head) && e.exp.After(now) && !contains(out, e.name) {
			out = append(out, e.name)
		}
	}
	return out
}

// size is the number of (address, name) pairs held.
func (t *nameTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// DNSNames reports the (address, name) pairs the gateway holds from DNS
// answers and how many it dropped for room.
func (gw *Gateway) DNSNames() (held int, evicted int64) {
	return gw.names.size(), gw.names.evictions.Load()
}

// domainPolicy is the policy when it has domain rules, else nil.
func (gw *Gateway) domainPolicy() *Policy {
	if p := gw.cfg.Policy; p != nil && p.HasDomains() {
		return p
	}
	return nil
}

// snoopDNS learns names from one resolver message to the sandbox.
func (gw *Gateway) snoopDNS(msg []byte) {
	if gw.domainPolicy() == nil {
		return
	}
	recs, _ := parseDNSAnswer(msg)
	for _, r := range recs {
		gw.names.learn(r.addr, r.name, r.head, r.ttl)
	}
}

// refuseDNSQuery answers a UDP query to the gateway's DNS address itself
// when the policy denies its name outright (dnsRefusal): NXDOMAIN from the
// DNS address, and the resolver never hears of it. It reports whether it
// answered.
func (gw *Gateway) refuseDNSQuery(src, dst netip.AddrPort, pkt *gstack.PacketBuffer) bool {
	if gw.domainPolicy() == nil || dst.Port() != 53 {
		return false
	}
	ans, name, by := gw.dnsRefusal(pkt.Data().AsRange().ToSlice())
	if ans == nil {
		return false
	}
	gw.stats.Denied.Add(1)
	gw.logf("dns %s -> %s %s refused: denied by policy (%s)", src, dst, name, ruleText(by))
	_, tos := hopAndClass(pkt)
	if dst.Addr().Is6() {
		gw.sendUDP6(dst, src, 0, tos, ans)
		return true
	}
	gw.cfg.Stack.SendUDP(&stack.UDPSend{Src: dst, Dst: src, IfIndex: gw.cfg.NIC, TOS: tos, Payload: ans})
	return true
}
