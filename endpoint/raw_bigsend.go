package endpoint

import "gvisor.dev/gvisor/pkg/tcpip"

// beyondGvisorRawMTU tells whether a raw datagram (header not included) is
// one gVisor's raw endpoint refuses although Linux sends it: larger than
// the route's MTU, which Linux fragments (the modes that forbid it were
// refused before, checkLocalMsgSize). The stack then builds and fragments
// it (Stack.SendRawIP).
func (g *rawSock) beyondGvisorRawMTU(p []byte, to *tcpip.FullAddress) bool {
	dst := g.sendDst(to)
	if !dst.Is4() {
		return false
	}
	_, idx, err := g.s.RouteFrom(g.localAddr(), dst, g.optsSnapshot().bindIf)
	if err != nil {
		return false
	}
	ifc, ok := g.s.InterfaceByIndex(idx)
	return ok && 20+len(p) > int(ifc.MTU)
}

// sendHdrinclAtMTU sends a header-included packet that fits the device
// MTU but not gVisor's raw limit (MTU - 20) through the stack; handled is
// false for every other send.
func (g *rawSock) sendHdrinclAtMTU(p []byte, to *tcpip.FullAddress) (handled bool, n int, err error) {
	o := g.optsSnapshot()
	if !o.hdrincl || len(p) < 20 {
		return false, 0, nil
	}
	if !g.beyondGvisorRawMTU(p, to) { // gVisor takes at most MTU-20 bytes, header included
		return false, 0, nil
	}
	if err := g.s.SendHeaderIncluded(p, o.bindIf); err != nil {
		return true, 0, err
	}
	return true, len(p), nil
}
