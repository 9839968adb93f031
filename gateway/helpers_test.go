package gateway

import (
	"net/netip"
	"testing"

	"netsandbox/link/channel"
	"netsandbox/stack"
)

var (
	testSandbox = netip.MustParsePrefix("10.0.2.100/24")
	testGateway = netip.MustParseAddr("10.0.2.2")
	testDNS     = netip.MustParseAddr("10.0.2.3")
	// testSandbox6 is the sandbox's IPv6 address where a test sets
	// Config.Gateway6.
	testSandbox6 = netip.MustParsePrefix("fd00::100/64")
)

// pair is a sandbox stack wired to a gateway stack by an in-memory cable.
type pair struct {
	sandbox, gwStack *stack.Stack
	gw               *Gateway
}

func newPair(t *testing.T, cfg Config) *pair {
	t.Helper()
	sb, err := stack.New(stack.Config{Caps: stack.AllCaps})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := stack.New(stack.Config{Caps: stack.AllCaps, Gateway: true})
	if err != nil {
		t.Fatal(err)
	}
	a := channel.New(1500, "\x02\x00\x00\x00\x00\x01")
	b := channel.New(1500, "\x02\x00\x00\x00\x00\x02")
	stop := channel.Join(a, b)
	sbNIC, err := sb.AddInterface("eth0", a)
	if err != nil {
		t.Fatal(err)
	}
	must(t, sb.AddAddress(sbNIC, testSandbox))
	must(t, sb.AddRoute(testSandbox.Masked(), netip.Addr{}, sbNIC))
	must(t, sb.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), testGateway, sbNIC))
	link := FilterLink(b, testGateway, testDNS)
	gwNIC, err := gs.AddInterface("tap0", link)
	if err != nil {
		t.Fatal(err)
	}
	must(t, gs.AddAddress(gwNIC, netip.PrefixFrom(testGateway, 24)))
	must(t, gs.AddAddress(gwNIC, netip.PrefixFrom(testDNS, 24)))
	must(t, gs.AddRoute(testSandbox.Masked(), netip.Addr{}, gwNIC))
	if cfg.Gateway6.IsValid() {
		// IPv6 beside IPv4 (gateway6.go): the sandbox at fd00::100/64
		// with its default route via Gateway6.
		must(t, sb.AddAddress6(sbNIC, testSandbox6))
		must(t, sb.AddRoute6(testSandbox6.Masked(), netip.Addr{}, sbNIC))
		must(t, sb.AddRoute6(netip.MustParsePrefix("::/0"), cfg.Gateway6, sbNIC))
		must(t, gs.AddAddress6(gwNIC, netip.PrefixFrom(cfg.Gateway6, testSandbox6.Bits())))
		must(t, gs.AddRoute6(testSandbox6.Masked(), netip.Addr{}, gwNIC))
		if cfg.DNS6.IsValid() {
			must(t, gs.AddAddress6(gwNIC, netip.PrefixFrom(cfg.DNS6, testSandbox6.Bits())))
		}
	}
	cfg.Stack, cfg.NIC, cfg.Link, cfg.Gateway = gs, gwNIC, link, testGateway
	if !cfg.DNS.IsValid() {
		cfg.DNS = testDNS
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		gw.Close()
		stop()
		sb.Close()
		gs.Close()
	})
	return &pair{sandbox: sb, gwStack: gs, gw: gw}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
