package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestAttachUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give --netns PATH or --pid PID"},
		{[]string{"--netns", "/run/netns/x", "--pid", "1"}, "not both"},
		{[]string{"--pid", "-3"}, "want a process ID"},
		{[]string{"--netns", "/run/netns/x", "--tap", ""}, "--tap"},
		{[]string{"--netns", "/run/netns/x", "--tap", "sixteen-bytes-xx"}, "want 1..15 bytes"},
		{[]string{"--netns", "/run/netns/x", "--tap", "a b"}, "not an interface name"},
		{[]string{"--netns", "/run/netns/x", "--tap", ".."}, "not an interface name"},
		{[]string{"--netns", "/run/netns/x", "--mtu", "65521"}, "--mtu 65521"},
		{[]string{"--netns", "/run/netns/x", "-p", "80"}, "-p"},
		{[]string{"--netns", "/run/netns/x", "--deny", "10.0.0.0/33"}, "10.0.0.0/33"},
		{[]string{"--netns", "/run/netns/x", "stray"}, "unexpected argument"},
	} {
		var out bytes.Buffer
		if code := run(append([]string{"attach"}, c.args...), &out, &out); code != exitUsage || !strings.Contains(out.String(), c.want) {
			t.Errorf("attach %q: exit %d, want %d (usage) with %q\n%s", c.args, code, exitUsage, c.want, out.String())
		}
	}
	// What parses: the shared gateway flags land in the config.
	c, err := parseAttach([]string{"--pid", "42", "--tap", "nsbx9", "--no-default-route", "--mtu", "9000", "-p", "8080:80", "--deny-all"}, &bytes.Buffer{})
	if err != nil || c.pid != 42 || c.tap != "nsbx9" || !c.noDefaultRoute || c.mtu != 9000 || len(c.publish) != 1 || !c.policy.DenyAll {
		t.Errorf("parseAttach: %+v, %v", c, err)
	}
}
