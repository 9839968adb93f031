package endpoint

import (
	"reflect"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Every unexported gVisor field endpoint/ reads by reflection (tcp_opts.go
// tcpInternalsOf, tcp_maxseg.go userMSS, ioctl_tcpq.go, tcp_opts_syn.go,
// whose timer fields TestSynBackoffLayout checks) is where this code
// expects it. A gVisor upgrade that moves one fails here rather than
// silently turning TCP_INFO fields, TCP_MAXSEG or SIOCOUTQ to zero.
func TestGVisorTCPLayout(t *testing.T) {
	ep := reflect.TypeOf(tcp.Endpoint{})
	field := func(in reflect.Type, path ...string) reflect.Type {
		t.Helper()
		for _, name := range path {
			if in.Kind() == reflect.Pointer {
				in = in.Elem()
			}
			f, ok := in.FieldByName(name)
			if !ok {
				t.Fatalf("gVisor moved %s (looking for %v in %v)", name, path, in)
			}
			in = f.Type
		}
		return in
	}
	for _, path := range [][]string{
		{"snd", "TCPSenderState", "SndWndScale"},
		{"snd", "TCPSenderState", "MaxPayloadSize"},
		{"snd", "TCPSenderState", "Outstanding"},
		{"snd", "TCPSenderState", "SackedOut"},
		{"snd", "TCPSenderState", "SndWnd"},
		{"snd", "TCPSenderState", "SndUna"},
		{"snd", "TCPSenderState", "SndNxt"},
		{"snd", "TCPSenderState", "LastSendTime"},
		{"rcv", "TCPReceiverState", "RcvWndScale"},
	} {
		switch k := field(ep, path...).Kind(); k {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Struct:
		default:
			t.Errorf("%v is a %v", path, k)
		}
	}
	if k := field(ep, "userMSS").Kind(); k != reflect.Uint16 && k != reflect.Int && k != reflect.Uint32 && k != reflect.Int32 {
		t.Errorf("userMSS is a %v", k)
	}
	if k := field(ep, "sndQueueInfo", "SndBufUsed").Kind(); k != reflect.Int {
		t.Errorf("sndQueueInfo.SndBufUsed is a %v, want int", k)
	}
	if mu := field(ep, "sndQueueInfo", "sndQueueMu"); mu.Kind() != reflect.Struct || mu.NumField() != 1 {
		t.Errorf("sndQueueInfo.sndQueueMu is %v, want a struct wrapping one mutex", mu)
	}
}
