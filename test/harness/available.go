package harness

import (
	"fmt"
	"os"
	"os/exec"
)

// Available checks that this process can create network namespaces (root,
// ip(8), netns support) by making and removing a probe namespace.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("needs ip(8): %v", err)
	}
	probe := RunPrefix() + "probe"
	if err := AddNetns(probe); err != nil {
		return fmt.Errorf("cannot create network namespaces: %v", err)
	}
	return DelNetns(probe)
}
