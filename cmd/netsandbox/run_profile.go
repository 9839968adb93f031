package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

// cpuProfile handles run's hidden --cpuprofile FILE (or --cpuprofile=FILE)
// before the flags proper: it removes the flag from *args, starts a CPU
// profile of the gateway process into FILE and returns what stops it.
// It is for profiling the relay (scripts/bench-run.sh), so it is kept out
// of the usage text. The profile is complete when CMD exits 0 (a non-zero
// status ends the process through os.Exit).
func cpuProfile(args *[]string) (stop func()) {
	stop = func() {}
	file := ""
	out := (*args)[:0:0]
	for i := 0; i < len(*args); i++ {
		a := (*args)[i]
		if a == "--" {
			out = append(out, (*args)[i:]...)
			break
		}
		switch {
		case a == "--cpuprofile" || a == "-cpuprofile":
			if i+1 < len(*args) {
				i++
				file = (*args)[i]
			}
			continue
		case strings.HasPrefix(a, "--cpuprofile=") || strings.HasPrefix(a, "-cpuprofile="):
			_, file, _ = strings.Cut(a, "=")
			continue
		}
		out = append(out, a)
	}
	if file == "" {
		return stop
	}
	*args = out
	f, err := os.Create(file)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "netsandbox run: --cpuprofile: %v\n", err)
		os.Exit(2)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
