package gateway

import (
	"sync"
	"sync/atomic"
)

// hostFlow is a relayed flow that owns a host socket.
type hostFlow interface{ hostSocket() *hostSock }

func (f *udpFlow) hostSocket() *hostSock  { return f.host }
func (f *icmpFlow) hostSocket() *hostSock { return f.host }

// flowTable holds the open flows of one protocol. Lookup and creation happen
// under mu, so two packets of a new flow open one host socket; the count is
// kept atomically so the gateway-wide flow limit reads every table without
// taking their locks.
type flowTable[K comparable, F hostFlow] struct {
	mu    sync.Mutex
	flows map[K]F
	n     atomic.Int64
}

func newFlowTable[K comparable, F hostFlow]() flowTable[K, F] {
	return flowTable[K, F]{flows: make(map[K]F)}
}

// count is the number of open flows.
func (t *flowTable[K, F]) count() int { return int(t.n.Load()) }

// putLocked adds a new flow; the caller holds mu.
func (t *flowTable[K, F]) putLocked(k K, f F) {
	t.flows[k] = f
	t.n.Add(1)
}

// remove forgets the flow of k.
func (t *flowTable[K, F]) remove(k K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.flows[k]; ok {
		delete(t.flows, k)
		t.n.Add(-1)
	}
}

// closeAll closes every flow's host socket, which ends its reply loop.
func (t *flowTable[K, F]) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.flows {
		f.hostSocket().Close()
	}
}

// flowCount is the number of open flows of every protocol, for MaxFlows.
func (gw *Gateway) flowCount() int { return gw.udp.count() + gw.icmp.count() }
