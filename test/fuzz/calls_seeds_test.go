package fuzz

import "golang.org/x/sys/unix"

// callSeq writes FuzzSocketCalls inputs that decode into chosen calls. The
// byte layout follows step: pick() reads the bytes of its arguments first
// (Go evaluates them left to right) and then its selector.
type callSeq []byte

// Choice indexes into the pick lists of step and sockaddr.
const (
	selInet   = 0 // domain AF_INET
	selDgram  = 0
	selStream = 1
	selRaw    = 2
	protoZero = 0
	protoICMP = 3
	solSocket = 0 // setsockopt/getsockopt level choices
	solIP     = 1
	solTCP    = 2
	valOne    = 0 // optval {1,0,0,0}
	len2048   = 2 // recvmsg buffer choice
	oob256    = 4
	size100   = 2 // sendmsg size choice
)

func (q callSeq) socket(typ, proto byte) callSeq {
	return append(q, byte(opSocket), 0, selInet, 0, typ, 0, proto, 0)
}

// socket6 opens an AF_INET6 socket: the domain pick's raw-byte choice
// with the byte 10.
func (q callSeq) socket6(typ, proto byte) callSeq {
	return append(q, byte(opSocket), unix.AF_INET6, 3, 0, typ, 0, proto, 0)
}

// loopback encodes sockaddr_in 127.0.0.1:port with the port given
// literally.
func loopback(port uint16) []byte { return []byte{byte(port >> 8), byte(port), 5, 7, 0, 0, 2} }

// peer198 encodes sockaddr_in 198.18.0.host:port.
func peer198(host byte, port uint16) []byte {
	return []byte{byte(port >> 8), byte(port), 5, 2, host, 2}
}

func (q callSeq) bind(s byte, sa []byte) callSeq {
	return append(append(q, byte(opBind), s), sa...)
}

func (q callSeq) connect(s byte, sa []byte) callSeq {
	return append(append(q, byte(opConnect), s), sa...)
}

func (q callSeq) listen(s, backlog byte) callSeq { return append(q, byte(opListen), s, backlog) }

func (q callSeq) accept(s byte) callSeq { return append(q, byte(opAccept), s, 0, 0) }

func (q callSeq) setsockopt(s, level byte, name int) callSeq {
	return append(q, byte(opSetsockopt), s, level, byte(name), 0, valOne)
}

func (q callSeq) getsockopt(s, level byte, name int) callSeq {
	return append(q, byte(opGetsockopt), s, level, byte(name), 0, 0)
}

// sendmsg sends 100 bytes without control messages, to sa or (nil) to the
// connected peer.
func (q callSeq) sendmsg(s byte, sa []byte) callSeq {
	q = append(q, byte(opSendmsg), s, 0, 0, size100, 3)
	if sa == nil {
		return append(append(q, loopback(1)...), 0, 0, 0)
	}
	return append(append(q, sa...), 1, 0, 0)
}

func (q callSeq) recvmsg(s byte) callSeq {
	return append(q, byte(opRecvmsg), s, len2048, 0, oob256, 0, 0)
}

func (q callSeq) shutdown(s, how byte) callSeq { return append(q, byte(opShutdown), s, 0, how) }

// wait waits for EPOLLIN.
func (q callSeq) wait(s byte) callSeq { return append(q, byte(opWait), s, 0, 0) }

func (q callSeq) close(s byte) callSeq { return append(q, byte(opClose), s) }

// callSeeds are call sequences that reach the interesting states: a UDP
// exchange on lo, a TCP connection accepted and shut down, raw and ping
// sends, traffic towards the unresolved 198.18.0.1, and option round-trips.
func callSeeds() [][]byte {
	return [][]byte{
		callSeq(nil).socket(selDgram, protoZero).bind(0, loopback(5000)).
			setsockopt(0, solIP, unix.IP_PKTINFO).setsockopt(0, solIP, unix.IP_RECVTTL).
			socket(selDgram, protoZero).connect(1, loopback(5000)).sendmsg(1, nil).
			recvmsg(0).sendmsg(0, loopback(9)).recvmsg(0).getsockopt(0, solSocket, unix.SO_ERROR),
		callSeq(nil).socket(selStream, protoZero).bind(0, loopback(80)).listen(0, 8).
			socket(selStream, protoZero).connect(1, loopback(80)).wait(0).accept(0).
			sendmsg(1, nil).wait(2).recvmsg(2).shutdown(2, unix.SHUT_WR).recvmsg(1).close(1).recvmsg(2),
		callSeq(nil).socket(selRaw, protoICMP).sendmsg(0, loopback(0)).recvmsg(0).
			socket(selDgram, protoICMP).sendmsg(1, loopback(0)).recvmsg(1).
			setsockopt(0, solIP, unix.IP_HDRINCL).sendmsg(0, loopback(0)),
		callSeq(nil).socket(selDgram, protoZero).setsockopt(0, solIP, unix.IP_RECVERR).
			connect(0, peer198(1, 7)).sendmsg(0, nil).recvmsg(0).
			socket(selStream, protoZero).connect(1, peer198(1, 80)).connect(1, peer198(1, 80)).
			getsockopt(1, solTCP, unix.TCP_INFO),
		callSeq(nil).socket(selDgram, protoZero).setsockopt(0, solSocket, unix.SO_RCVBUF).
			getsockopt(0, solSocket, unix.SO_RCVBUF).setsockopt(0, solIP, unix.IP_TTL).
			getsockopt(0, solIP, unix.IP_TTL).setsockopt(0, solSocket, unix.SO_REUSEADDR).
			bind(0, loopback(5001)).shutdown(0, unix.SHUT_RD).recvmsg(0),
		// AF_INET6 sockets answer 28-byte names; sockaddr_in is refused.
		callSeq(nil).socket6(selDgram, protoZero).socket6(selStream, protoZero).
			bind(0, loopback(5002)).getsockopt(1, solIP, unix.IP_TTL),
	}
}
