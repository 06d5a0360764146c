package follow

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fast are the options of most tests: quick polls so that the tests are
// short, a rotate wait well above the writer's reopen delay.
var fast = Options{Poll: 20 * time.Millisecond, RotateWait: 400 * time.Millisecond, PartialWait: time.Second}

// follower runs a Follower in the background.
type follower struct {
	t      *testing.T
	fl     *Follower
	lines  chan Line
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	logs []string
}

func start(t *testing.T, patterns []string, opt Options) *follower {
	t.Helper()
	h := &follower{t: t, lines: make(chan Line, 256), done: make(chan error, 1)}
	opt.Logf = func(format string, args ...any) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.logs = append(h.logs, fmt.Sprintf(format, args...))
	}
	fl, err := New(patterns, opt)
	if err != nil {
		t.Fatal(err)
	}
	h.fl = fl
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- fl.Run(ctx, h.lines) }()
	t.Cleanup(h.stop)
	return h
}

// stop cancels the follower and checks that it returns promptly.
func (h *follower) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		h.t.Fatal("Run did not return within 2s of cancellation")
	}
}

func (h *follower) logged(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.logs {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// waitOpen waits until every name has a file open.
func (h *follower) waitOpen(names ...string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		open := map[string]bool{}
		for _, s := range h.fl.Stats() {
			open[s.Name] = s.Open
		}
		all := true
		for _, n := range names {
			all = all && open[n]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("files %v not open after 5s; stats %+v", names, h.fl.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// next returns the next line, failing after a timeout.
func (h *follower) next() Line {
	h.t.Helper()
	select {
	case l := <-h.lines:
		return l
	case <-time.After(5 * time.Second):
		h.t.Fatal("no line within 5s")
		return Line{}
	}
}

// texts returns the next n lines' texts.
func (h *follower) texts(n int) []string {
	h.t.Helper()
	var got []string
	for range n {
		got = append(got, string(h.next().Text))
	}
	return got
}

// quiet checks that no line comes for d.
func (h *follower) quiet(d time.Duration) {
	h.t.Helper()
	select {
	case l := <-h.lines:
		h.t.Fatalf("unexpected line %q from %s", l.Text, l.File)
	case <-time.After(d):
	}
}

func appendFile(t *testing.T, name, s string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func numberedList(from, to int) []string {
	return strings.Split(strings.TrimSuffix(numbered(from, to), "\n"), "\n")
}

// logWriter writes numbered lines through one handle, like a server
// writing its error log, and reopens the log's name when told to.
type logWriter struct {
	name string
	mu   sync.Mutex
	f    *os.File
	n    int
}

func newLogWriter(t *testing.T, name string) *logWriter {
	w := &logWriter{name: name}
	w.reopen(t)
	t.Cleanup(func() { w.f.Close() })
	return w
}

// reopen is what nginx -s reopen does.
func (w *logWriter) reopen(t *testing.T) {
	f, err := os.OpenFile(w.name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
	}
	w.f = f
}

// write writes the next line with one write(2), as nginx does.
func (w *logWriter) write(t *testing.T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	line := fmt.Sprintf("%06d 2026/05/01 12:00:00 [error] 4242#4242: *%d connect() failed (111: Connection refused) while connecting to upstream\n", w.n, w.n)
	if _, err := w.f.WriteString(line); err != nil {
		t.Error(err)
	}
}

func (w *logWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// tally counts the numbered lines a follower sends.
type tally struct {
	mu    sync.Mutex
	count map[int]int
	bad   []string
	total int
}

func (ta *tally) run(lines <-chan Line, done <-chan struct{}) {
	for {
		select {
		case l := <-lines:
			ta.add(l)
		case <-done:
			return
		}
	}
}

func (ta *tally) add(l Line) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.total++
	n, err := strconv.Atoi(string(bytes.SplitN(l.Text, []byte(" "), 2)[0]))
	if err != nil || n <= 0 || !bytes.HasSuffix(l.Text, []byte("to upstream")) {
		ta.bad = append(ta.bad, string(l.Text))
		return
	}
	ta.count[n]++
}

func (ta *tally) distinct() int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return len(ta.count)
}

// figures returns the lines lost and duplicated among 1..written.
func (ta *tally) figures(written int) (seen, lost, dups int) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for i := 1; i <= written; i++ {
		switch c := ta.count[i]; {
		case c == 0:
			lost++
		case c > 1:
			dups += c - 1
		}
	}
	return ta.total, lost, dups
}

// rotation is one way of rotating a log. live is the name the server
// writes to and the follower follows; k numbers the rotation.
type rotation struct {
	name string
	// symlink: live is a symlink to live+".0".
	symlink bool
	rotate  func(t *testing.T, w *logWriter, live string, k int)
	// lossless: every line must be seen. Otherwise the loss is reported
	// and bounded by maxLoss, given the number of rotations and of lines
	// found in no file at the end (destroyed by the rotation itself).
	lossless bool
	maxLoss  func(rotations, destroyed int) int
	// truncates: a line the follower read half of (a read can see a
	// write in progress) may have its rest destroyed by the truncation;
	// the half is passed on as it was. At most one per truncation.
	truncates int
}

// reopenDelay is how long the server writes to the old file after the
// rotation, before it reopens its log.
const reopenDelay = 30 * time.Millisecond

var rotations = []rotation{
	{
		name: "rename+create",
		rotate: func(t *testing.T, w *logWriter, live string, k int) {
			// logrotate "create": rename, create an empty log, then
			// postrotate signals the server, which reopens a little
			// later and writes to the renamed file until then.
			if err := os.Rename(live, fmt.Sprintf("%s.%d", live, k)); err != nil {
				t.Error(err)
			}
			f, err := os.OpenFile(live, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
			if err != nil {
				t.Error(err)
				return
			}
			f.Close()
			time.Sleep(reopenDelay)
			w.reopen(t)
		},
		lossless: true,
	},
	{
		name: "delete+recreate",
		rotate: func(t *testing.T, w *logWriter, live string, k int) {
			// The server writes to the deleted file until it reopens.
			if err := os.Remove(live); err != nil {
				t.Error(err)
			}
			time.Sleep(reopenDelay)
			w.reopen(t)
		},
		lossless: true,
	},
	{
		name: "copytruncate",
		rotate: func(t *testing.T, w *logWriter, live string, k int) {
			// Lines written between the copy and the truncation are in
			// neither file: that is copytruncate's own race, and so is
			// the loss of lines written after the follower's last look
			// before the truncation. They are counted, not forbidden.
			b, err := os.ReadFile(live)
			if err != nil {
				t.Error(err)
			}
			if err := os.WriteFile(fmt.Sprintf("%s.%d", live, k), b, 0o640); err != nil {
				t.Error(err)
			}
			if err := os.Truncate(live, 0); err != nil {
				t.Error(err)
			}
		},
		// What the follower loses is what copytruncate destroyed, give
		// or take a line per rotation (read just before the truncation).
		maxLoss:   func(k, destroyed int) int { return destroyed + k },
		truncates: 1,
	},
	{
		name: "repeated-truncation",
		rotate: func(t *testing.T, w *logWriter, live string, k int) {
			// Three truncations in quick succession with writes in
			// between: lines destroyed before the follower could look
			// are lost to any reader; what is written after the last
			// truncation must all be read, from its first byte.
			for range 3 {
				if err := os.Truncate(live, 0); err != nil {
					t.Error(err)
				}
				time.Sleep(2 * time.Millisecond)
			}
		},
		// What was written between the follower's last look and the
		// first truncation, and between the truncations.
		maxLoss:   func(k, destroyed int) int { return 60 * k },
		truncates: 3,
	},
	{
		name:    "symlink",
		symlink: true,
		rotate: func(t *testing.T, w *logWriter, live string, k int) {
			// Point the link at a new file, atomically (symlink+rename,
			// as ln -sfn does not), and reopen a little later.
			target := fmt.Sprintf("%s.%d", live, k)
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
			if err != nil {
				t.Error(err)
				return
			}
			f.Close()
			tmp := live + ".tmp"
			if err := os.Symlink(filepath.Base(target), tmp); err != nil {
				t.Error(err)
			}
			if err := os.Rename(tmp, live); err != nil {
				t.Error(err)
			}
			time.Sleep(reopenDelay)
			w.reopen(t)
		},
		lossless: true,
	},
}

const (
	rotationLines = 3000
	rotateEvery   = 150 * time.Millisecond
)

// writeAndRotate writes rotationLines lines to live with short pauses,
// rotating every rotateEvery, and returns the number of rotations.
func writeAndRotate(t *testing.T, w *logWriter, live string, rot func(*testing.T, *logWriter, string, int)) int {
	stop := make(chan struct{})
	rotated := make(chan int)
	go func() {
		k := 0
		tick := time.NewTicker(rotateEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				rotated <- k
				return
			case <-tick.C:
				k++
				rot(t, w, live, k)
			}
		}
	}()
	for i := range rotationLines {
		w.write(t)
		if i%3 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	return <-rotated
}

// inFiles returns how many distinct numbered lines the files in dir hold.
func inFiles(t *testing.T, dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ta := &tally{count: map[int]int{}}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for l := range bytes.Lines(b) {
			ta.add(Line{Text: bytes.TrimSuffix(l, []byte("\n"))})
		}
	}
	return ta.distinct()
}

// waitFor waits until ok or until nothing changed for quiet.
func waitFor(ok func() bool, progress func() int, quiet time.Duration) {
	last, since := progress(), time.Now()
	for !ok() && time.Since(since) < quiet {
		time.Sleep(10 * time.Millisecond)
		if p := progress(); p != last {
			last, since = p, time.Now()
		}
	}
}

func TestRotation(t *testing.T) {
	for _, r := range rotations {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			live := filepath.Join(dir, "error.log")
			if r.symlink {
				if err := os.WriteFile(live+".0", nil, 0o640); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("error.log.0", live); err != nil {
					t.Fatal(err)
				}
			}
			w := newLogWriter(t, live)
			h := start(t, []string{live}, fast)
			h.waitOpen(live)

			ta := &tally{count: map[int]int{}}
			done := make(chan struct{})
			tallied := make(chan struct{})
			go func() { ta.run(h.lines, done); close(tallied) }()

			began := time.Now()
			k := writeAndRotate(t, w, live, r.rotate)
			written := w.written()
			waitFor(func() bool { return ta.distinct() == written }, ta.distinct, fast.RotateWait+time.Second)
			h.stop()
			close(done)
			<-tallied

			seen, lost, dups := ta.figures(written)
			destroyed := written - inFiles(t, dir)
			st := h.fl.Stats()[0]
			t.Logf("%s: %d rotations in %v; lines written %d, in no file %d, seen %d, lost %d, duplicated %d; stats %+v",
				r.name, k, time.Since(began).Round(time.Millisecond), written, destroyed, seen, lost, dups, st)
			if len(ta.bad) > r.truncates*k {
				t.Errorf("%d lines are not whole lines, e.g. %q", len(ta.bad), ta.bad[0])
			}
			for _, l := range ta.bad {
				if _, err := strconv.Atoi(strings.SplitN(l, " ", 2)[0]); err != nil {
					t.Errorf("a line cut by a truncation is not the start of a line: %q", l)
				}
			}
			if dups != 0 {
				t.Errorf("%d lines duplicated", dups)
			}
			if k < 3 {
				t.Errorf("only %d rotations happened", k)
			}
			if r.lossless {
				if lost != 0 {
					t.Errorf("%d lines lost", lost)
				}
				if st.Rotations < int64(k) {
					t.Errorf("stats count %d rotations, want %d", st.Rotations, k)
				}
			} else if max := r.maxLoss(k, destroyed); lost > max {
				t.Errorf("%d lines lost in %d rotations, want at most %d", lost, k, max)
			}
			if !r.lossless && st.Truncations == 0 {
				t.Errorf("no truncation counted")
			}
		})
	}
}

// TestTruncatedAndRegrown truncates a file and writes more than was there
// before within one poll interval: the size never goes down where the
// follower can see it, and only the bytes before the offset tell.
func TestTruncatedAndRegrown(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, live, "")
	h := start(t, []string{live}, Options{Poll: 300 * time.Millisecond})
	h.waitOpen(live)
	for round := range 5 {
		appendFile(t, live, numbered(1, 5))
		if diff := cmp.Diff(numberedList(1, 5), h.texts(5)); diff != "" {
			t.Fatalf("round %d, before truncation (-want +got):\n%s", round, diff)
		}
		if err := os.Truncate(live, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, live, numbered(100, 120))
		if diff := cmp.Diff(numberedList(100, 120), h.texts(21)); diff != "" {
			t.Fatalf("round %d, after truncation (-want +got):\n%s", round, diff)
		}
		if err := os.Truncate(live, 0); err != nil {
			t.Fatal(err)
		}
	}
	h.quiet(400 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for h.fl.Stats()[0].Truncations < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.fl.Stats()[0].Truncations; got != 10 {
		t.Errorf("Truncations = %d, want 10", got)
	}
}

func TestMissingAtStart(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "sub", "error.log")
	h := start(t, []string{live}, fast)
	time.Sleep(100 * time.Millisecond)
	if !h.logged("waiting for " + live) {
		t.Errorf("no notice of waiting; notices %q", h.logs)
	}
	if err := os.Mkdir(filepath.Dir(live), 0o755); err != nil {
		t.Fatal(err)
	}
	// Everything in a file that appears is new: it is read from its start.
	appendFile(t, live, numbered(1, 3))
	if diff := cmp.Diff(numberedList(1, 3), h.texts(3)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	appendFile(t, live, numbered(4, 4))
	if l := h.next(); l.File != live || string(l.Text) != "line 4" || l.Offset != int64(len(numbered(1, 3))) {
		t.Errorf("got %+v", l)
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.log")
	b := filepath.Join(dir, "b.log")
	appendFile(t, a, "old line of a\n")
	appendFile(t, filepath.Join(dir, "ignored.txt"), "")
	h := start(t, []string{filepath.Join(dir, "*.log")}, fast)
	h.waitOpen(a)
	// A file there at the start is followed from its end; one that
	// appears later is read from its start.
	appendFile(t, b, "first line of b\n")
	if l := h.next(); l.File != b || string(l.Text) != "first line of b" {
		t.Errorf("got %q from %s", l.Text, l.File)
	}
	appendFile(t, a, "new line of a\n")
	if l := h.next(); l.File != a || string(l.Text) != "new line of a" {
		t.Errorf("got %q from %s", l.Text, l.File)
	}
	h.quiet(100 * time.Millisecond)
}

// TestGlobMatchesRotatedName follows a pattern that also matches the name
// a rotated log gets: the rotated file is read once, not again as a new
// match.
func TestGlobMatchesRotatedName(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "error.log")
	appendFile(t, live, "old\n")
	h := start(t, []string{filepath.Join(dir, "error.log*")}, Options{Poll: 20 * time.Millisecond, RotateWait: 100 * time.Millisecond})
	h.waitOpen(live)
	appendFile(t, live, "before rotation\n")
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live+".1", "written before reopen\n")
	appendFile(t, live, "in the new file\n")
	got := map[string]string{}
	for range 3 {
		l := h.next()
		got[string(l.Text)] = l.File
	}
	want := map[string]string{
		"before rotation":       live,
		"written before reopen": live, // drained under the name it was followed as
		"in the new file":       live,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Once drained and closed, error.log.1 is followed under its own
	// name, from where the drain left it.
	time.Sleep(300 * time.Millisecond)
	appendFile(t, live+".1", "even later\n")
	if l := h.next(); l.File != live+".1" || string(l.Text) != "even later" {
		t.Errorf("got %q from %s", l.Text, l.File)
	}
	h.quiet(200 * time.Millisecond)
}

func TestFromStart(t *testing.T) {
	for _, fromStart := range []bool{false, true} {
		t.Run(fmt.Sprintf("FromStart=%v", fromStart), func(t *testing.T) {
			live := filepath.Join(t.TempDir(), "error.log")
			// The last line is still being written when following starts.
			appendFile(t, live, numbered(1, 100)+"line 101 st")
			opt := fast
			opt.FromStart = fromStart
			h := start(t, []string{live}, opt)
			h.waitOpen(live)
			appendFile(t, live, "arts here\n"+numbered(102, 110))
			want := append(numberedList(1, 100), "line 101 starts here")
			want = append(want, numberedList(102, 110)...)
			if !fromStart {
				want = want[100:]
			}
			if diff := cmp.Diff(want, h.texts(len(want))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			h.quiet(100 * time.Millisecond)
		})
	}
}

// TestStartOffset resumes at an offset the caller measured (after
// replaying the file up to it): nothing before it again, nothing after it
// lost, even what was written between the measure and the start.
func TestStartOffset(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, live, numbered(1, 50))
	st, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, numbered(51, 60)) // after the measure, before following
	opt := fast
	opt.Start = map[string]int64{live: st.Size()}
	h := start(t, []string{live}, opt)
	h.waitOpen(live)
	appendFile(t, live, numbered(61, 70))
	if diff := cmp.Diff(numberedList(51, 70), h.texts(20)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.quiet(100 * time.Millisecond)
}

// TestTwoFollowers follows one file twice, across a rotation: each sees
// every line (two tails of one file must not interfere).
func TestTwoFollowers(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	w := newLogWriter(t, live)
	var hs []*follower
	var tallies []*tally
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		h := start(t, []string{live}, fast)
		h.waitOpen(live)
		ta := &tally{count: map[int]int{}}
		wg.Go(func() { ta.run(h.lines, done) })
		hs = append(hs, h)
		tallies = append(tallies, ta)
	}
	for i := range 1000 {
		w.write(t)
		if i == 500 {
			rotations[0].rotate(t, w, live, 1)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for i, ta := range tallies {
		waitFor(func() bool { return ta.distinct() == 1000 }, ta.distinct, 2*time.Second)
		hs[i].stop()
		if seen, lost, dups := ta.figures(1000); lost != 0 || dups != 0 || len(ta.bad) != 0 {
			t.Errorf("follower %d: seen %d, lost %d, duplicated %d, bad %d", i, seen, lost, dups, len(ta.bad))
		}
	}
	close(done)
	wg.Wait()
}

func TestLongLinesAndCR(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, live, "")
	h := start(t, []string{live}, fast)
	h.waitOpen(live)
	long := bytes.Repeat([]byte("x"), maxLine+maxLine/2)
	appendFile(t, live, string(long)+"\r\nshort\r\n\nlast\n")
	l := h.next()
	if !l.Cut || len(l.Text) != maxLine || l.Offset != 0 {
		t.Errorf("long line: cut %v, %d bytes at %d; want cut, %d bytes at 0", l.Cut, len(l.Text), l.Offset, maxLine)
	}
	want := []Line{
		{File: live, Text: []byte("short"), Offset: int64(len(long) + 2)},
		{File: live, Text: []byte{}, Offset: int64(len(long) + 9)},
		{File: live, Text: []byte("last"), Offset: int64(len(long) + 10)},
	}
	var got []Line
	for range want {
		l := h.next()
		l.At = time.Time{}
		got = append(got, l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	st := h.fl.Stats()[0]
	if st.Cut != 1 || st.Lines != 4 || st.Bytes != int64(len(long)+15) {
		t.Errorf("stats %+v", st)
	}
}

func TestPartialLine(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, live, "")
	opt := fast
	opt.PartialWait = 300 * time.Millisecond
	h := start(t, []string{live}, opt)
	h.waitOpen(live)

	// A line whose newline comes later is one line.
	appendFile(t, live, "first ha")
	h.quiet(100 * time.Millisecond)
	appendFile(t, live, "lf\n")
	if got := string(h.next().Text); got != "first half" {
		t.Errorf("got %q", got)
	}
	// A last line that stays without newline is sent after PartialWait.
	began := time.Now()
	appendFile(t, live, "no newline")
	l := h.next()
	if string(l.Text) != "no newline" || time.Since(began) < opt.PartialWait {
		t.Errorf("got %q after %v, want %q after %v", l.Text, time.Since(began), "no newline", opt.PartialWait)
	}
	// What follows makes a line of its own.
	appendFile(t, live, " and more\n")
	if got := string(h.next().Text); got != " and more" {
		t.Errorf("got %q", got)
	}
}

func TestBadPatterns(t *testing.T) {
	for _, patterns := range [][]string{nil, {"/var/log/[x.log"}, {"-"}, {""}} {
		err := Follow(context.Background(), patterns, Options{}, make(chan Line))
		if err == nil {
			t.Errorf("Follow(%q) returned nil", patterns)
		}
	}
}

// cpuTime returns the CPU time this process used so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleCPU follows idle files with the default poll interval and
// checks that it costs next to nothing. The bound is generous; the figure
// is logged.
func TestIdleCPU(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 4 {
		name := filepath.Join(dir, fmt.Sprintf("%d.log", i))
		appendFile(t, name, numbered(1, 10))
		names = append(names, name)
	}
	h := start(t, append(names, filepath.Join(dir, "missing.log"), filepath.Join(dir, "*.log")), Options{})
	h.waitOpen(names...)
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	cpu0, wall0 := cpuTime(t), time.Now()
	time.Sleep(2 * time.Second)
	cpu, wall := cpuTime(t)-cpu0, time.Since(wall0)
	share := float64(cpu) / float64(wall)
	t.Logf("idle: %v CPU in %v wall (%.2f%%)", cpu, wall.Round(time.Millisecond), 100*share)
	if share > 0.05 {
		t.Errorf("idle following used %.1f%% of a CPU, want < 5%%", 100*share)
	}
}

// TestCancel checks that Run returns promptly when cancelled, even while
// the receiver does not read, and leaves no goroutine behind.
func TestCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	live := filepath.Join(dir, "error.log")
	appendFile(t, live, numbered(1, 1000))
	for _, opt := range []Options{{}, {FromStart: true}} {
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan Line) // nobody reads: Run blocks in a send
		done := make(chan error)
		go func() {
			done <- Follow(ctx, []string{live, filepath.Join(dir, "missing"), filepath.Join(dir, "*.log")}, opt, out)
		}()
		time.Sleep(100 * time.Millisecond)
		began := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Follow returned %v", err)
			}
			t.Logf("FromStart=%v: returned %v after cancel", opt.FromStart, time.Since(began))
		case <-time.After(time.Second):
			t.Fatal("Follow did not return within 1s of cancellation")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDrainedFileIsClosed checks that rotated-away files are closed after
// RotateWait (or at once when it is negative), and that what is kept of
// closed files is bounded, so that following for days does not pile up
// descriptors or memory.
func TestDrainedFileIsClosed(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatalf("counting descriptors: %v", err)
		}
		return len(ents)
	}
	for _, wait := range []time.Duration{50 * time.Millisecond, -1} {
		t.Run(fmt.Sprintf("RotateWait=%v", wait), func(t *testing.T) {
			live := filepath.Join(t.TempDir(), "error.log")
			appendFile(t, live, "")
			opt := Options{Poll: 10 * time.Millisecond, RotateWait: wait}
			h := start(t, []string{live}, opt)
			h.waitOpen(live)
			before := fds()
			const n = maxGone + 6
			for i := range n {
				appendFile(t, live, numbered(i, i))
				if err := os.Rename(live, fmt.Sprintf("%s.%d", live, i)); err != nil {
					t.Fatal(err)
				}
				appendFile(t, live, "")
				if got, want := string(h.next().Text), fmt.Sprintf("line %d", i); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
				// Two rotations within one poll would skip a file: wait.
				for st := h.fl.Stats()[0]; st.Rotations < int64(i+1) || !st.Open; st = h.fl.Stats()[0] {
					time.Sleep(time.Millisecond)
				}
			}
			time.Sleep(max(wait, 0) + 10*opt.Poll)
			if after := fds(); after > before {
				t.Errorf("%d descriptors open after %d rotations, %d before", after, n, before)
			}
			h.stop()
			if st := h.fl.Stats()[0]; st.Rotations != n || st.Lines != n {
				t.Errorf("stats %+v, want %d rotations and lines", st, n)
			}
			if len(h.fl.gone) != maxGone {
				t.Errorf("%d closed files remembered, want %d", len(h.fl.gone), maxGone)
			}
		})
	}
}

// TestOneFileTwoNames follows a symlink and its target, and a directory:
// the file is read once, under the first name; the directory is reported.
func TestOneFileTwoNames(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "error.log")
	link := filepath.Join(dir, "current.log")
	appendFile(t, target, "")
	if err := os.Symlink("error.log", link); err != nil {
		t.Fatal(err)
	}
	h := start(t, []string{link, target, dir}, fast)
	h.waitOpen(link)
	appendFile(t, target, numbered(1, 3))
	for _, want := range numberedList(1, 3) {
		if l := h.next(); l.File != link || string(l.Text) != want {
			t.Errorf("got %q from %s, want %q from %s", l.Text, l.File, want, link)
		}
	}
	h.quiet(100 * time.Millisecond)
	if !h.logged("not following " + dir + ": not a regular file") {
		t.Errorf("directory not reported; notices %q", h.logs)
	}
}
