package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// progress renders the conformance run's progress lines (harness.Options.
// Progress: "note: ..." or "STATUS NAME", one per finished scenario) for
// the reader on stderr:
//   - rows: each row as "[k/N] STATUS NAME", and each note, as lines of
//     their own; only when stderr is not where the report goes (stdout),
//     or every row would be printed twice;
//   - tty: stderr is a terminal: a status line "[k/N] ETA D", with the
//     last row when rows are off, redrawn in place and erased at the end;
//   - neither: a count line "progress: [k/N] ETA D" at most every countEvery, so a
//     log shows the run advancing without repeating the report's rows.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	total    int
	done     int
	tty      bool
	rows     bool
	width    int // the terminal's columns
	now      func() time.Time
	start    time.Time
	lastLine time.Time // when the last count line went out (neither mode)
	shown    bool      // a status line is on the terminal
	partial  []byte
}

const countEvery = 30 * time.Second

func newProgress(stderr, stdout io.Writer, total int) *progress {
	p := &progress{w: stderr, total: total, tty: isTerminal(stderr), rows: !sameFile(stderr, stdout), width: 80, now: time.Now}
	if f, ok := stderr.(*os.File); ok && p.tty {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			p.width = int(ws.Col)
		}
	}
	p.begin()
	return p
}

// begin starts the clock and, on a terminal, shows [0/N] at once (the
// first scenario can take seconds).
func (p *progress) begin() {
	p.start = p.now()
	p.lastLine = p.start
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K[0/%d] ETA ?", p.total)
		p.shown = true
	}
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := strings.IndexByte(string(p.partial), '\n')
		if i < 0 {
			break
		}
		line := string(p.partial[:i])
		p.partial = p.partial[i+1:]
		p.line(line)
	}
	return len(b), nil
}

func (p *progress) line(l string) {
	note := strings.HasPrefix(l, "note: ")
	if !note {
		p.done++
		l = strings.Join(strings.Fields(l), " ") // "identical NAME", not the report's column
	}
	count := fmt.Sprintf("[%d/%d]", p.done, p.total)
	if p.rows {
		p.clear()
		if note {
			fmt.Fprintln(p.w, l)
		} else {
			fmt.Fprintln(p.w, count, l)
		}
	}
	status := count + " " + p.eta()
	switch {
	case p.tty:
		if !p.rows && !note {
			status += "  " + l
		}
		if r := []rune(status); len(r) > p.width-1 {
			status = string(r[:max(p.width-1, 0)])
		}
		fmt.Fprint(p.w, "\r\033[K"+status)
		p.shown = true
	case !p.rows && !note:
		if t := p.now(); t.Sub(p.lastLine) >= countEvery || p.done == p.total {
			fmt.Fprintln(p.w, "progress:", status)
			p.lastLine = t
		}
	}
}

// eta is the time left at the pace so far.
func (p *progress) eta() string {
	if p.done == 0 || p.total <= p.done {
		if p.total <= p.done {
			return "done in " + p.now().Sub(p.start).Round(time.Second).String()
		}
		return "ETA ?"
	}
	per := p.now().Sub(p.start) / time.Duration(p.done)
	return "ETA " + (per * time.Duration(p.total-p.done)).Round(time.Second).String()
}

// clear erases the status line (the caller holds mu).
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// finish erases the status line before the report is printed.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// sameFile tells whether a and b write to the same place: the same writer,
// or files on the same device and inode (a terminal, or 2>&1).
func sameFile(a, b io.Writer) bool {
	if a == b {
		return true
	}
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 {
		return false
	}
	var sa, sb unix.Stat_t
	if unix.Fstat(int(fa.Fd()), &sa) != nil || unix.Fstat(int(fb.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
