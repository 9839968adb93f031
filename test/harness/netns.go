package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NamePrefix starts every namespace the harness creates, so that leftovers
// are recognisable as ours.
const NamePrefix = "nsbx-"

// ipTimeout bounds every invocation of ip(8).
const ipTimeout = 10 * time.Second

// NewRunPrefix returns "nsbx-<6 random hex>-", unique per run.
func NewRunPrefix() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; fall back to the pid anyway.
		return fmt.Sprintf("%s%06x-", NamePrefix, os.Getpid()&0xffffff)
	}
	return NamePrefix + hex.EncodeToString(b[:]) + "-"
}

// runIP runs ip(8) with a deadline and returns its combined output.
func runIP(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ipTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// live holds the namespaces this process created and has not deleted yet, so
// a signal handler can remove them.
var live struct {
	sync.Mutex
	names   map[string]bool
	handler bool
}

// AddNetns creates a named network namespace and registers it for cleanup.
// A name that already exists is an error and stays unregistered: it is not
// ours to delete.
func AddNetns(name string) error {
	if !strings.HasPrefix(name, NamePrefix) {
		return fmt.Errorf("netns name %q lacks prefix %q", name, NamePrefix)
	}
	live.Lock()
	installSignalCleanup()
	live.Unlock()
	if _, err := runIP("netns", "add", name); err != nil {
		return err
	}
	live.Lock()
	if live.names == nil {
		live.names = map[string]bool{}
	}
	live.names[name] = true
	live.Unlock()
	return nil
}

// DelNetns deletes a namespace created by AddNetns. Deleting the namespace
// also destroys the veth ends inside it.
func DelNetns(name string) error {
	live.Lock()
	delete(live.names, name)
	live.Unlock()
	_, err := runIP("netns", "del", name)
	return err
}

// installSignalCleanup removes our namespaces on SIGINT/SIGTERM (best
// effort), then lets the signal take its default action. live must be locked.
func installSignalCleanup() {
	if live.handler {
		return
	}
	live.handler = true
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		live.Lock()
		for n := range live.names {
			runIP("netns", "del", n)
		}
		live.names = nil
		live.Unlock()
		signal.Reset(syscall.SIGINT, syscall.SIGTERM)
		if s, ok := sig.(syscall.Signal); ok {
			syscall.Kill(os.Getpid(), s)
		}
	}()
}

// ListOurNetns returns the namespaces in `ip netns list` whose name starts
// with prefix.
func ListOurNetns(prefix string) ([]string, error) {
	out, err := runIP("netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// InNetns runs fn on a locked OS thread that has joined the named network
// namespace, then moves the thread back. Sockets created inside fn belong to
// that namespace for their whole life.
func InNetns(ns string, fn func() error) error {
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns, err)
	}
	defer unix.Close(target)

	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open own netns: %w", err)
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// The thread is stuck in the wrong namespace: leave it locked so the
		// runtime destroys it when this goroutine ends.
		return fmt.Errorf("restore netns: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// WriteSysctl writes /proc/sys/<name with dots as slashes> as seen from ns.
// The file is opened inside the namespace because /proc/sys/net resolves to
// the namespace of the opening thread.
func WriteSysctl(ns, name, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	return InNetns(ns, func() error {
		return os.WriteFile(path, []byte(value+"\n"), 0)
	})
}

// ReadSysctl reads a sysctl as seen from ns, with whitespace normalised to
// single spaces.
func ReadSysctl(ns, name string) (string, error) {
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	var v string
	err := InNetns(ns, func() error {
		b, err := os.ReadFile(path)
		v = strings.Join(strings.Fields(string(b)), " ")
		return err
	})
	return v, err
}
