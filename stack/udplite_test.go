package stack_test

import (
	"sync/atomic"
	"testing"

	"netsandbox/stack"
)

// liteRecorder is a recorder for a UDP-Lite binding with a minimum
// coverage (0 = none set).
type liteRecorder struct {
	*recorder
	min     atomic.Int32
	refused atomic.Int32
}

func (r *liteRecorder) AcceptCoverage(cov int) bool {
	if m := int(r.min.Load()); m == 0 || cov >= m {
		return true
	}
	r.refused.Add(1)
	return false
}

// TestUDPLiteAcrossWire: a UDP-Lite datagram with partial coverage crosses
// the wire to the UDP-Lite binding only, the receiver's minimum coverage
// refuses one that covers less, and the stack counts it.
func TestUDPLiteAcrossWire(t *testing.T) {
	a, b := pair(t)
	lr := &liteRecorder{recorder: newRecorder()}
	bl, err := b.UDPBind(lr, ap("10.0.0.2:5000"), stack.UDPBindFlags{Lite: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Release()
	ur := newRecorder()
	bu, err := b.UDPBind(ur, ap("10.0.0.2:5000"), stack.UDPBindFlags{})
	if err != nil {
		t.Fatalf("UDP bind beside UDP-Lite: %v", err)
	}
	defer bu.Release()
	if _, err := b.UDPBind(newRecorder(), ap("10.0.0.2:5000"), stack.UDPBindFlags{}); err == nil {
		t.Fatal("second UDP bind succeeded")
	}
	if _, err := b.UDPBind(newRecorder(), ap("10.0.0.2:5000"), stack.UDPBindFlags{Lite: true}); err == nil {
		t.Fatal("second UDP-Lite bind succeeded")
	}
	if _, err := b.UDPBind(ur, ap("10.0.0.2:5001"), stack.UDPBindFlags{Lite: true}); err == nil {
		t.Fatal("UDP-Lite bind with a plain receiver succeeded")
	}
	send := func(cov uint16, set bool, p string) {
		t.Helper()
		if err := a.SendUDP(&stack.UDPSend{Src: ap("10.0.0.1:4000"), Dst: ap("10.0.0.2:5000"), Lite: true, CsCovSet: set, CsCov: cov, NoChecksum: true, Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	send(0, false, "full")
	send(12, true, "partial-twelve")
	if d := lr.next(t); string(d.Payload) != "full" {
		t.Fatalf("got %q", d.Payload)
	}
	if d := lr.next(t); string(d.Payload) != "partial-twelve" {
		t.Fatalf("got %q", d.Payload)
	}
	ur.none(t)
	lr.min.Store(16)
	before := b.Stats().UDPInErrors.Load()
	send(12, true, "refused")
	send(16, true, "kept")
	if d := lr.next(t); string(d.Payload) != "kept" {
		t.Fatalf("got %q", d.Payload)
	}
	if lr.refused.Load() != 1 || b.Stats().UDPInErrors.Load() != before+1 {
		t.Fatalf("refused %d, InErrors +%d", lr.refused.Load(), b.Stats().UDPInErrors.Load()-before)
	}
}
