package main

import (
	"bytes"
	"strings"
	"testing"

	glog "gvisor.dev/gvisor/pkg/log"
)

// TestGvisorLogOnlyWithV: gVisor's log lines (its "Martian packet dropped
// ... you may want to allow martian packets") reach stderr with -v only.
func TestGvisorLogOnlyWithV(t *testing.T) {
	old := glog.Log().Emitter
	t.Cleanup(func() { glog.SetTarget(old) })
	var out bytes.Buffer
	routeGvisorLog(false, &out)
	glog.Warningf("martian packet, quiet")
	glog.Infof("martian packet, quiet")
	if out.Len() != 0 {
		t.Errorf("without -v gVisor logged %q", out.String())
	}
	routeGvisorLog(true, &out)
	glog.Warningf("martian packet, verbose")
	if !strings.Contains(out.String(), "martian packet, verbose") {
		t.Errorf("with -v gVisor's line is missing: %q", out.String())
	}
}
