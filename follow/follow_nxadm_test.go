package follow

// These tests run github.com/nxadm/tail v1.4.11, which DESIGN.md pins for
// following files, through the cases this package must handle, and show
// why the package does not use it (see the package comment). They assert
// the library's known bugs; if one fails after an upgrade of the library,
// that bug is fixed and the choice can be reconsidered.

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nxadm/tail"
)

func nxadmTail(t *testing.T, name string, cfg tail.Config) *tail.Tail {
	t.Helper()
	cfg.Logger = tail.DiscardingLogger
	tl, err := tail.TailFile(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Stop() })
	return tl
}

// nxadmLines returns the lines tl sends within d.
func nxadmLines(tl *tail.Tail, d time.Duration) []string {
	var got []string
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-tl.Lines:
			if !ok {
				return got
			}
			got = append(got, l.Text)
		case <-timeout:
			return got
		}
	}
}

// TestNxadmExitsWithoutWatcher: when no inotify instance can be made
// (here: no file descriptor left; in production: max_user_instances
// reached), the library calls os.Exit from a goroutine of its own.
func TestNxadmExitsWithoutWatcher(t *testing.T) {
	if os.Getenv("FOLLOW_NXADM_CHILD") == "1" {
		name := os.Getenv("FOLLOW_NXADM_FILE")
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		lim.Cur = 64
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		var last *os.File
		for {
			f, err := os.Open(os.DevNull)
			if err != nil {
				break
			}
			last = f
		}
		last.Close() // one descriptor left: for the file, none for inotify
		tl, err := tail.TailFile(name, tail.Config{Follow: true, MustExist: true, Logger: tail.DiscardingLogger})
		if err != nil {
			t.Fatal(err)
		}
		nxadmLines(tl, 5*time.Second)
		return // not reached: the library exits
	}
	name := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, name, "a line\n")
	cmd := exec.Command(os.Args[0], "-test.run=^TestNxadmExitsWithoutWatcher$", "-test.v")
	cmd.Env = append(os.Environ(), "FOLLOW_NXADM_CHILD=1", "FOLLOW_NXADM_FILE="+name)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "FATAL -- failed to create Watcher") {
		t.Fatalf("nxadm/tail did not exit the process: %v\n%s", err, out)
	}
	for l := range strings.Lines(string(out)) {
		if strings.Contains(l, "FATAL") {
			t.Logf("nxadm/tail exited the process (%v): %s", err, strings.TrimSpace(l))
		}
	}
}

// TestNxadmSplitsLongLines: MaxLineSize splits a line instead of cutting
// it, so its tail reads as a line of its own.
func TestNxadmSplitsLongLines(t *testing.T) {
	name := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, name, "0123456789abcdef\n")
	tl := nxadmTail(t, name, tail.Config{MaxLineSize: 10})
	if got := nxadmLines(tl, 2*time.Second); len(got) != 2 {
		t.Errorf("nxadm/tail no longer splits long lines: got %q", got)
	}
}

// TestNxadmTwoTails: two tails of one file share the library's event
// channel for that name; stopping one leaves the other deaf.
func TestNxadmTwoTails(t *testing.T) {
	name := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, name, "")
	end := &tail.SeekInfo{Whence: io.SeekEnd}
	a := nxadmTail(t, name, tail.Config{Follow: true, ReOpen: true, Location: end})
	b := nxadmTail(t, name, tail.Config{Follow: true, ReOpen: true, Location: end})
	time.Sleep(100 * time.Millisecond)
	appendFile(t, name, "seen by both\n")
	if got := nxadmLines(a, 300*time.Millisecond); len(got) != 1 {
		t.Logf("tail a got %q of one line written: the two tails steal each other's events", got)
	}
	nxadmLines(b, 300*time.Millisecond)
	a.Stop()
	time.Sleep(200 * time.Millisecond) // a's watcher goroutine ends after Stop returns
	appendFile(t, name, numbered(1, 10))
	if got := nxadmLines(b, time.Second); len(got) != 0 {
		t.Errorf("nxadm/tail: the second tail still works after the first stopped: got %d lines", len(got))
	}
}

// TestNxadmRenameCreate: on a rename the library reopens the name at once,
// so lines the server writes to the renamed file before it reopens its
// log are lost.
func TestNxadmRenameCreate(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	w := newLogWriter(t, live)
	tl := nxadmTail(t, live, tail.Config{Follow: true, ReOpen: true, Location: &tail.SeekInfo{Whence: io.SeekEnd}})
	time.Sleep(100 * time.Millisecond)
	ta := &tally{count: map[int]int{}}
	done := make(chan struct{})
	tallied := make(chan struct{})
	go func() {
		defer close(tallied)
		for {
			select {
			case l := <-tl.Lines:
				ta.add(Line{Text: []byte(l.Text)})
			case <-done:
				return
			}
		}
	}()
	k := writeAndRotate(t, w, live, rotations[0].rotate)
	written := w.written()
	waitFor(func() bool { return ta.distinct() == written }, ta.distinct, time.Second)
	close(done)
	<-tallied
	seen, lost, dups := ta.figures(written)
	t.Logf("nxadm/tail rename+create: %d rotations; lines written %d, seen %d, lost %d, duplicated %d", k, written, seen, lost, dups)
	if lost == 0 {
		t.Errorf("nxadm/tail no longer loses lines on rename+create")
	}
}

// TestNxadmTruncatedAndRegrown: in polling mode (the one for NFS), a file
// truncated and written past the old offset between two polls is read on
// from the old offset: the lines before it are lost, and the first line
// read starts in the middle of a line. (A poll that falls between the
// truncation and the writing sees the truncation; of three rounds, at
// least one must show the bug.)
func TestNxadmTruncatedAndRegrown(t *testing.T) {
	live := filepath.Join(t.TempDir(), "error.log")
	appendFile(t, live, numbered(1, 5))
	tl := nxadmTail(t, live, tail.Config{Follow: true, ReOpen: true, Poll: true, Location: &tail.SeekInfo{Whence: io.SeekEnd}})
	time.Sleep(600 * time.Millisecond) // let it poll
	bad := 0
	for range 3 {
		if err := os.Truncate(live, 0); err != nil {
			t.Fatal(err)
		}
		appendFile(t, live, numbered(100, 120))
		got := nxadmLines(tl, 700*time.Millisecond)
		t.Logf("nxadm/tail read %d of 21 lines after truncation: %q", len(got), got)
		if len(got) != 21 {
			bad++
		}
	}
	if bad == 0 {
		t.Errorf("nxadm/tail no longer misses a truncation followed by growth")
	}
}
