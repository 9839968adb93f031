package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

// cpuProfile handles the hidden --cpuprofile FILE (or --cpuprofile=FILE)
// of run and serve before the flags proper: it removes the flag from
// *args, starts a CPU profile of the process into FILE and returns what
// stops it. It is for profiling the relay (scripts/bench-run.sh) and the
// echo (BenchmarkServeUDPEcho), so it is kept out of the usage text. The
// profile is complete when run's CMD exits 0 (a non-zero status ends the
// process through os.Exit) or serve stops on a signal.
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
		fmt.Fprintf(os.Stderr, "netsandbox: --cpuprofile: %v\n", err)
		os.Exit(2)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
