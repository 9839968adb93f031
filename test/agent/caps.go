package agent

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// WithoutCaps runs fn on a locked OS thread with caps cleared from the
// thread's effective set: capabilities are per thread, they stay permitted
// and are raised again before the thread is released.
func WithoutCaps(caps []int, fn func()) error {
	runtime.LockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var orig [2]unix.CapUserData
	if err := unix.Capget(&hdr, &orig[0]); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("capget: %w", err)
	}
	dropped := orig
	for _, c := range caps {
		dropped[c/32].Effective &^= 1 << (uint(c) % 32)
	}
	if err := unix.Capset(&hdr, &dropped[0]); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("capset: %w", err)
	}
	fn()
	if err := unix.Capset(&hdr, &orig[0]); err != nil {
		// The thread keeps the reduced set: leave it locked so the
		// runtime discards it when this goroutine ends.
		return fmt.Errorf("capset restore: %w", err)
	}
	runtime.UnlockOSThread()
	return nil
}

// sysctlPath maps "net.ipv4.ip_forward" to /proc/sys/net/ipv4/ip_forward.
func sysctlPath(name string) string { return "/proc/sys/" + strings.ReplaceAll(name, ".", "/") }

// WriteSysctl writes value and a newline to the sysctl's /proc/sys file, as
// seen from the calling thread's network namespace.
func WriteSysctl(name, value string) error {
	return os.WriteFile(sysctlPath(name), []byte(value+"\n"), 0)
}

// ReadSysctl reads a sysctl with whitespace normalised to single spaces.
func ReadSysctl(name string) (string, error) {
	b, err := os.ReadFile(sysctlPath(name))
	return strings.Join(strings.Fields(string(b)), " "), err
}
