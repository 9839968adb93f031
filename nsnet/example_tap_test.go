package nsnet_test

import (
	"fmt"
	"log"
	"net/http"
	"net/netip"

	"netsandbox/link/fdbased"
	"netsandbox/nsnet"
	"netsandbox/stack"
)

// The stack on a TAP device: the host kernel is the other station on the
// segment, so after `ip addr add 192.168.77.1/24 dev tap-ns; ip link set
// tap-ns up` on the host, `curl http://192.168.77.2:8080/` reaches this
// server. It needs root (or CAP_NET_ADMIN) for /dev/net/tun, so it has no
// Output line and go test only compiles it.
func Example_tap() {
	link, info, err := fdbased.OpenTAP("tap-ns", fdbased.Options{})
	if err != nil {
		log.Fatal(err)
	}
	st, err := stack.New(stack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	ifindex, err := st.AddInterface("eth0", link)
	if err != nil {
		log.Fatal(err)
	}
	p := netip.MustParsePrefix("192.168.77.2/24")
	if err := st.AddAddress(ifindex, p); err != nil {
		log.Fatal(err)
	}
	l, err := nsnet.Listen(st, "tcp", "192.168.77.2:8080")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("serving on", info.Name)
	log.Fatal(http.Serve(l, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(rw, "hello from a userspace stack")
	})))
}
