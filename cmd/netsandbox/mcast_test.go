package main

import (
	"bytes"
	"strings"
	"testing"
)

// Mistakes in the command line exit 2 with a hint and touch no NIC.
func TestMcastUsageErrors(t *testing.T) {
	base := []string{"--link", "iface:eth0", "--addr", "198.18.0.2/24"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--link is required"},
		{base, "--group is required"},
		{append(base, "--group", "198.18.0.1", "--port", "1"), "want an IPv4 multicast address"},
		{append(base, "--group", "239.1.1.1"), "--port 0"},
		{append(base, "--group", "239.1.1.1", "--port", "70000"), "--port 70000"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--source", "239.2.2.2"), "unicast source"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--block", "nonsense"), "unicast source"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--source", "1.1.1.1", "--block", "2.2.2.2"), "exclude each other"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--count", "-1"), "--count -1"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--timeout", "-1s"), "--timeout"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--hex", "--text"), "exclude each other"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "extra"), "unexpected argument"},
		{append(base, "--group", "239.1.1.1", "--port", "9", "--source", "1.1.1.1", "--source", "1.1.1.1"), "given twice"},
	} {
		var out, errOut bytes.Buffer
		code := run(append([]string{"mcast"}, c.args...), &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), c.want) || !strings.Contains(errOut.String(), "netsandbox help mcast") {
			t.Errorf("mcast %q: exit %d, stderr %q; want exit %d mentioning %q and the help hint", c.args, code, errOut.String(), exitUsage, c.want)
		}
	}
}

// Several --source flags accumulate in order.
func TestMcastSourcesRepeat(t *testing.T) {
	var errOut bytes.Buffer
	c, err := parseMcast([]string{"--link", "tap:x", "--addr", "198.18.0.2/24", "--group", "232.1.1.1", "--port", "9", "--source", "198.18.0.1", "--source", "198.18.0.7"}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if got := filterText(c); got != "include {198.18.0.1,198.18.0.7}" {
		t.Errorf("filter %q", got)
	}
}
