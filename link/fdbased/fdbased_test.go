package fdbased

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

func TestAttachInterfacePing(t *testing.T) {
	needNetns(t, "ping")
	nsStack, nsPeer := newNetns(t), newNetns(t)
	near, far := vethPair(t, nsStack, nsPeer)
	mustRun(t, "ip", "-n", nsPeer, "addr", "add", "198.18.0.1/24", "dev", far)
	mustRun(t, "ip", "-n", nsPeer, "link", "set", far, "up")

	var (
		ep      stack.LinkEndpoint
		info    *Info
		kernMAC net.HardwareAddr
	)
	err := inNetns(t, nsStack, func() (err error) {
		if kernMAC, err = InterfaceMAC(near); err != nil {
			return err
		}
		ep, info, err = AttachInterface(near, Options{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != near || info.Index == 0 || info.MTU != 1500 || ep.MTU() != 1500 {
		t.Errorf("info %+v, endpoint MTU %d: want name %s, an index, MTU 1500", info, ep.MTU(), near)
	}
	if !bytes.Equal(info.MAC, kernMAC) || !bytes.Equal(info.InterfaceMAC, kernMAC) || string(ep.LinkAddress()) != string(kernMAC) {
		t.Errorf("stack MAC %v / endpoint %v, want the interface's %v", info.MAC, ep.LinkAddress(), kernMAC)
	}
	// AttachInterface brought the down interface up.
	if out := mustRun(t, "ip", "-n", nsStack, "link", "show", near); !strings.Contains(out, ",UP") {
		t.Errorf("%s is not up:\n%s", near, out)
	}
	newGvisorStack(t, ep, netip.MustParsePrefix("198.18.0.2/24"))
	pingFrom(t, nsPeer, "198.18.0.2")
}

func TestOpenTAPPing(t *testing.T) {
	needNetns(t, "ping")
	ns := newNetns(t)
	tap := "nsbxtap" + suffix()
	var (
		ep   stack.LinkEndpoint
		info *Info
	)
	err := inNetns(t, ns, func() (err error) {
		ep, info, err = OpenTAP(tap, Options{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != tap || info.MTU != 1500 || ep.MTU() != 1500 {
		t.Errorf("info %+v: want name %s, MTU 1500", info, tap)
	}
	if len(info.MAC) != 6 || info.MAC[0]&0x03 != 0x02 || bytes.Equal(info.MAC, info.InterfaceMAC) {
		t.Errorf("stack MAC %v must be unicast, locally administered and differ from the TAP's %v", info.MAC, info.InterfaceMAC)
	}
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.18.1.1/24", "dev", tap)
	s := newGvisorStack(t, ep, netip.MustParsePrefix("198.18.1.2/24"))
	pingFrom(t, ns, "198.18.1.2")

	// Closing the stack closes the fd, and the TAP it created goes away.
	s.Close()
	s.Wait()
	if _, err := unix.FcntlInt(uintptr(info.FD), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("fd %d still open after the stack closed (%v)", info.FD, err)
	}
	if out, err := run("ip", "-n", ns, "link", "show", tap); err == nil {
		t.Errorf("TAP %s still exists after close:\n%s", tap, out)
	}
}

func TestAdoptPacketSocketPing(t *testing.T) {
	needNetns(t, "ping")
	nsStack, nsPeer := newNetns(t), newNetns(t)
	near, far := vethPair(t, nsStack, nsPeer)
	mustRun(t, "ip", "-n", nsPeer, "addr", "add", "198.18.0.1/24", "dev", far)
	mustRun(t, "ip", "-n", nsPeer, "link", "set", far, "up")
	mustRun(t, "ip", "-n", nsStack, "link", "set", near, "up")

	// What a parent process would hand over: a packet socket bound to the
	// interface.
	var fd int
	err := inNetns(t, nsStack, func() error {
		ifi, err := net.InterfaceByName(near)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
	})
	if err != nil {
		t.Fatal(err)
	}
	mac := LocalMAC()
	ep, info, err := Adopt(fd, Options{MTU: 1400, MAC: mac})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if info.FD != fd || info.Index == 0 || info.MTU != 1400 || ep.MTU() != 1400 || !bytes.Equal(info.MAC, mac) {
		t.Errorf("info %+v, endpoint MTU %d", info, ep.MTU())
	}
	newGvisorStack(t, ep, netip.MustParsePrefix("198.18.0.2/24"))
	pingFrom(t, nsPeer, "198.18.0.2")
}

func TestErrors(t *testing.T) {
	missing := "nsbxnone" + suffix()
	_, _, err := AttachInterface(missing, Options{})
	if err == nil || !strings.Contains(err.Error(), `interface "`+missing+`" not found`) || !errors.Is(err, unix.ENODEV) {
		t.Errorf("AttachInterface(missing) = %v, want a not-found error naming it, wrapping ENODEV", err)
	}
	if _, err := InterfaceMTU(missing); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("InterfaceMTU(missing) = %v", err)
	}
	for _, name := range []string{"", "a-name-far-too-long-for-linux"} {
		if _, _, err := OpenTAP(name, Options{}); err == nil || !strings.Contains(err.Error(), "invalid TAP name") {
			t.Errorf("OpenTAP(%q) = %v, want invalid name", name, err)
		}
		if _, _, err := AttachInterface(name, Options{}); err == nil || !strings.Contains(err.Error(), "invalid interface name") {
			t.Errorf("AttachInterface(%q) = %v, want invalid name", name, err)
		}
	}
	if _, _, err := OpenTAP("nsbxbad0", Options{MAC: net.HardwareAddr{1, 0, 0, 0, 0, 1}}); err == nil || !strings.Contains(err.Error(), "multicast") {
		t.Errorf("OpenTAP with a multicast MAC = %v", err)
	}
	if _, _, err := Adopt(-1, Options{MTU: 1500}); !errors.Is(err, unix.EBADF) {
		t.Errorf("Adopt(-1) = %v, want EBADF", err)
	}
	if _, _, err := Adopt(0, Options{}); err == nil || !strings.Contains(err.Error(), "needs Options.MTU") {
		t.Errorf("Adopt without MTU = %v", err)
	}
	// A socket that is not a packet socket is refused.
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	if _, _, err := Adopt(s, Options{MTU: 1500}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Adopt(UDP socket) = %v, want EINVAL", err)
	}
}

func TestInterfaceHelpersOnLoopback(t *testing.T) {
	mtu, err := InterfaceMTU("lo")
	if err != nil || mtu != 65536 {
		t.Errorf("InterfaceMTU(lo) = %d, %v; want 65536", mtu, err)
	}
	mac, err := InterfaceMAC("lo")
	if err != nil || len(mac) != 0 {
		t.Errorf("InterfaceMAC(lo) = %v, %v; want none", mac, err)
	}
}

func TestLocalMAC(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		m := LocalMAC()
		if len(m) != 6 || m[0]&0x01 != 0 || m[0]&0x02 == 0 {
			t.Fatalf("LocalMAC() = %v: want unicast, locally administered", m)
		}
		seen[m.String()] = true
	}
	if len(seen) < 99 {
		t.Fatalf("LocalMAC repeats: %d distinct of 100", len(seen))
	}
}

// openRawTAP makes what a parent process would pass down: a TAP fd made
// with TUNSETIFF in namespace ns.
func openRawTAP(t testing.TB, ns, name string, flags uint16) int {
	t.Helper()
	var fd int
	err := inNetns(t, ns, func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, _ := unix.NewIfreq(name)
		ifr.SetUint16(flags)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestAdoptTAPPing(t *testing.T) {
	needNetns(t, "ping")
	ns := newNetns(t)
	tap := "nsbxtap" + suffix()
	fd := openRawTAP(t, ns, tap, unix.IFF_TAP|unix.IFF_NO_PI)
	if _, _, err := Adopt(fd, Options{MTU: 1500, IPOnly: true}); !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "TAP") {
		unix.Close(fd)
		t.Fatalf("Adopt(TAP fd, IPOnly) = %v, want EINVAL naming the TAP", err)
	}
	ep, info, err := Adopt(fd, Options{MTU: 1500})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if info.Name != tap || len(info.MAC) != 6 || info.MAC[0]&0x02 == 0 {
		t.Errorf("info %+v: want name %s and a locally administered MAC", info, tap)
	}
	mustRun(t, "ip", "-n", ns, "link", "set", tap, "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.18.1.1/24", "dev", tap)
	newGvisorStack(t, ep, netip.MustParsePrefix("198.18.1.2/24"))
	pingFrom(t, ns, "198.18.1.2")
}

func TestAdoptTUNPing(t *testing.T) {
	needNetns(t, "ping")
	ns := newNetns(t)
	tun := "nsbxtun" + suffix()
	fd := openRawTAP(t, ns, tun, unix.IFF_TUN|unix.IFF_NO_PI)
	ep, info, err := Adopt(fd, Options{MTU: 1500, IPOnly: true})
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if info.Name != tun || info.MAC != nil || ep.LinkAddress() != "" {
		t.Errorf("info %+v, link address %q: want name %s and no MAC", info, ep.LinkAddress(), tun)
	}
	mustRun(t, "ip", "-n", ns, "link", "set", tun, "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", "198.18.2.1/24", "dev", tun)
	newGvisorStack(t, ep, netip.MustParsePrefix("198.18.2.2/24"))
	pingFrom(t, ns, "198.18.2.2")
}
