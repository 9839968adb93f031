// Command runsc-netsandbox is gVisor's runsc with netsandbox registered as
// its third-party network stack: `runsc-netsandbox --network=plugin ...`
// gives the containers' AF_INET sockets netsandbox's ip(7). Every other
// flag and command is runsc's. Build it static (CGO_ENABLED=0): runsc boots
// the sandbox by re-executing itself inside an empty chroot that has no
// dynamic loader.
package main

import (
	_ "netsandbox/plugin" // registers netsandbox as the --network=plugin stack

	"gvisor.dev/gvisor/runsc/cli/maincli"
)

func main() {
	maincli.Main()
}
