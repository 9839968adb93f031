package endpoint

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"netsandbox/stack"
)

// The capability rules of do_ip_setsockopt and ip_options_compile, which
// the kernel-differential scenarios (run as root) cannot reach.
func TestIPOptionCapabilities(t *testing.T) {
	for _, c := range []struct {
		name string
		caps stack.Caps
		opt  int
		val  []byte
		want error
	}{
		{"IP_TRANSPARENT on without caps", 0, unix.IP_TRANSPARENT, intOpt(1), unix.EPERM},
		{"IP_TRANSPARENT off without caps", 0, unix.IP_TRANSPARENT, intOpt(0), nil},
		{"IP_TRANSPARENT with CAP_NET_ADMIN", stack.CapNetAdmin, unix.IP_TRANSPARENT, intOpt(1), nil},
		{"IP_TRANSPARENT with CAP_NET_RAW", stack.CapNetRaw, unix.IP_TRANSPARENT, intOpt(1), nil},
		{"IP_TRANSPARENT empty without caps", 0, unix.IP_TRANSPARENT, nil, unix.EINVAL},
		{"IP_FREEBIND without caps", 0, unix.IP_FREEBIND, intOpt(1), nil},
		{"security option without CAP_NET_RAW", 0, unix.IP_OPTIONS, []byte{0x82, 4, 0, 0}, unix.EINVAL},
		{"security option with CAP_NET_RAW", stack.CapNetRaw, unix.IP_OPTIONS, []byte{0x82, 4, 0, 0}, nil},
		{"timestamp flag 2 without CAP_NET_RAW", 0, unix.IP_OPTIONS, []byte{0x44, 8, 5, 2, 0, 0, 0, 0}, unix.EINVAL},
		{"record route without caps", 0, unix.IP_OPTIONS, []byte{7, 7, 4, 0, 0, 0, 0}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t, c.caps, nil)
			so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer so.Close()
			if err := so.SetSockOpt(unix.SOL_IP, c.opt, c.val); !errors.Is(err, c.want) || (err == nil) != (c.want == nil) {
				t.Errorf("setsockopt = %v, want %v", err, c.want)
			}
		})
	}
}

// A UDP socket with IP_FREEBIND binds a foreign address; without it the
// bind fails.
func TestFreebindUDPBind(t *testing.T) {
	s := newStack(t, 0, nil)
	so, err := New(s, unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer so.Close()
	if err := so.Bind(sa("192.0.2.7:9000")); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("bind without IP_FREEBIND = %v, want EADDRNOTAVAIL", err)
	}
	if err := so.SetSockOpt(unix.SOL_IP, unix.IP_FREEBIND, intOpt(1)); err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(sa("192.0.2.7:9000")); err != nil {
		t.Fatalf("bind with IP_FREEBIND = %v", err)
	}
	name, _ := so.GetSockName()
	if got, want := addrOf(name), "fam=2 192.0.2.7 port?true len=16"; got != want || portOf(name) != 9000 {
		t.Errorf("getsockname = %s port %d, want %s port 9000", got, portOf(name), want)
	}
}
