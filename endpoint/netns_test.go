package endpoint

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// privateNetnsWorld is a kernel world whose sockets live in an anonymous
// network namespace made for this test, with lo up and the given sysctls
// (per-namespace ones such as net.ipv4.ping_group_range). The namespace has
// no name and no links to remove: it goes away with its last socket.
func privateNetnsWorld(t *testing.T, sysctls map[string]string) *world {
	type req struct {
		typ, proto int
		reply      chan openResult
	}
	reqs := make(chan req)
	ready := make(chan error, 1)
	go func() {
		// The thread that enters the namespace never leaves it: it stays
		// locked and dies with this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		for name, v := range sysctls {
			path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
			if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
				ready <- err
				return
			}
		}
		if err := setLoopbackUp(); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for r := range reqs {
			k, err := newKernelSock(unix.AF_INET, r.typ, r.proto)
			r.reply <- openResult{k, err}
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("private netns: %v", err)
	}
	t.Cleanup(func() { close(reqs) })
	w := kernelWorld(t)
	w.name = "kernel (private netns)"
	w.open = func(typ, proto int) (api, error) {
		reply := make(chan openResult)
		reqs <- req{typ, proto, reply}
		r := <-reply
		if r.err != nil {
			return nil, r.err
		}
		t.Cleanup(func() { r.k.Close() })
		return r.k, nil
	}
	return w
}

type openResult struct {
	k   *kernelSock
	err error
}

func setLoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
