// Package follow reads log files as they grow, like tail -F, and keeps
// reading them across log rotation.
//
// It follows files and glob patterns, several at once, and merges their
// lines in the order they arrive. It survives every common rotation:
// rename and create (logrotate's "create", then the server reopens), delete
// and recreate, copytruncate, repeated truncation, and a symlinked log whose
// target changes. A file that was rotated away stays open and is drained
// until it has been idle for Options.RotateWait, because nginx keeps
// writing to the renamed file until it is told to reopen its logs.
//
// # Why not github.com/nxadm/tail
//
// DESIGN.md pins github.com/nxadm/tail v1.4.11 for this job; this package
// does not use it, because none of its following paths can be made correct
// or safe from the outside (follow_nxadm_test.go shows each case against the
// library itself):
//
//   - It can end the process. Its shared inotify goroutine calls os.Exit
//     (util.Fatal) when no inotify watcher can be made (EMFILE, or
//     fs.inotify.max_user_instances reached), and both its inotify and its
//     polling watcher call os.Exit when a stat fails with anything but
//     "not exist" (EACCES after a chmod of the directory, EIO on NFS). These
//     run in goroutines the library owns; a caller cannot recover from them.
//   - On a rename or delete it closes the old file at once and opens the
//     new one: lines the server writes to the renamed file before it
//     reopens its log are lost, and so is whatever was written between the
//     last read and the rename. There is no rotate_wait.
//   - It notices truncation only as "the size went down" at the moment it
//     looks. A file truncated and written past the old offset in between is
//     read from the old offset: the lines before it are lost and the first
//     line is read from its middle.
//   - Its inotify tracker keeps one event channel per file name for the
//     whole process, so two tails of one file steal each other's events,
//     and stopping one closes the channel the other reads.
//   - MaxLineSize splits a long line into several lines instead of cutting
//     it, and without it a line has no cap at all.
//
// So following is a small loop of its own: every Options.Poll it stats each
// name and each open file (one stat per file when nothing changed, so an
// idle follower costs next to nothing) and reads what was appended with
// pread. A file is identified by os.SameFile (device and inode), which is
// how rotation is told apart from growth; truncation is found by the size
// going below the read offset, or, when the file grew again past that
// offset between two looks, by the bytes just before the offset no longer
// being the ones that were read there. Polling has no inotify limits, works
// on NFS and needs no goroutine: Run reads in the caller's goroutine.
//
// After a truncation, what was written since the last look and copied away
// by copytruncate is read from the copy: a file next to the log whose name
// starts with the log's and whose bytes before the read offset are those
// read there.
//
// Known limits: lines written to a copytruncate'd log between the copy and
// the truncation are lost (they are in neither file: copytruncate's own
// race), and so are lines that a truncation without a copy destroys before
// they were read; a file that is rotated twice within one poll interval
// loses the middle generation unless a pattern matches its rotated name; a
// file truncated and rewritten with the very same bytes up to the old
// offset is taken for the same file. Patterns should match live logs
// (*.log), not rotated ones (error.log*): a file renamed by a rotation is
// recognised and read once, but a copy or a compressed file is a new file
// and would be read from its start.
package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/logtriage/logtriage/parser"
)

// Defaults for the zero Options.
const (
	DefaultPoll        = 250 * time.Millisecond
	DefaultRotateWait  = 30 * time.Second
	DefaultPartialWait = time.Second
)

const (
	// maxLine keeps the line cap of parser.LineReader, so that a followed
	// file yields the lines a one-shot read of it would.
	maxLine = parser.DefaultMaxLine
	// readSize is the pread buffer, shared by all files of a Follower.
	readSize = 64 << 10
	// turnBudget is how much one file may read before the others get a
	// turn, so that replaying a big file does not hold back the rest.
	turnBudget = 1 << 20
	// markSize is how many bytes before the read offset are remembered to
	// recognise a file that was truncated and written past that offset. A
	// log line with its timestamp fits, so a repeated message does not fool
	// the check.
	markSize = 1 << 10
	// maxGone bounds the memory of closed files (see gone).
	maxGone = 64
)

// ErrNoPatterns is returned when there is nothing to follow.
var ErrNoPatterns = errors.New("follow: no file to follow")

// Options configure following. The zero value follows from the end of the
// files with the defaults above.
type Options struct {
	// FromStart reads the files that exist when following starts from
	// their beginning, then follows them. By default they are read from
	// their end. Files that appear later are always read from their start.
	FromStart bool
	// Start gives, for files that exist when following starts, the offset
	// to start reading at: a caller that replayed a file up to a size it
	// measured resumes exactly there, losing and repeating nothing. It
	// wins over FromStart; an offset past the file's end is ignored.
	Start map[string]int64
	// Poll is how often files are checked for new lines, rotation and
	// truncation. Zero means DefaultPoll.
	Poll time.Duration
	// RotateWait is how long a file that was rotated away (renamed,
	// deleted, no longer the symlink's target) is kept open and read after
	// it was last written to. Zero means DefaultRotateWait; a negative
	// value closes it as soon as it has been read to its end.
	RotateWait time.Duration
	// PartialWait is how long a last line without its newline is held
	// back before it is emitted as it is; what is written after it then
	// makes a line of its own. Zero means DefaultPartialWait.
	PartialWait time.Duration
	// Logf receives notices for the operator: waiting for a file,
	// rotation, truncation, files that cannot be read. Nil drops them.
	Logf func(format string, args ...any)
	// Ready, when set, is called once the first pass is done: the files
	// that exist are open and positioned (at their end, or read through
	// with FromStart), so anything written from now on will be seen.
	Ready func()
}

// Line is one line of a followed file.
type Line struct {
	// File is the name being followed, as given or as a pattern matched
	// it, even when the line comes from the file that was rotated away.
	File string
	// Text is the line without its newline and "\r". The receiver owns it.
	Text []byte
	// Offset is the byte offset of the line in the file it was read from
	// (which, after a rotation, may no longer be at File).
	Offset int64
	// Cut says the line was longer than parser.DefaultMaxLine; the rest
	// was dropped.
	Cut bool
	// At is when the line was read.
	At time.Time
}

// FileStats counts what was read under one name.
type FileStats struct {
	Name        string
	Lines       int64 // lines emitted, from the file and its rotated-away predecessors
	Bytes       int64 // bytes read
	Cut         int64 // lines longer than the cap
	Rotations   int64 // times the name was found to be another file, or gone
	Truncations int64 // times the file was found truncated
	Open        bool  // the name has a file open now
}

// Follower follows the files that a list of names and patterns designates.
// Make one with New and run it with Run.
type Follower struct {
	opt      Options
	literals []string
	globs    []string

	mu    sync.Mutex // guards paths and order against Stats
	paths map[string]*path
	order []*path // discovery order: the order of the arguments, then of appearance

	draining []*file // rotated-away files, oldest first
	gone     []gone  // recently closed files, oldest first
	buf      []byte
	scratch  []byte
	gen      int // pass number, to find glob matches that went away
	running  atomic.Bool
}

// path is one name to follow: an argument or a match of a pattern.
type path struct {
	name    string
	literal bool // named by an argument: kept and waited for even when missing
	seen    int  // last pass a pattern matched it
	cur     *file
	note    string // last notice, so a lasting condition is reported once
	c       counters
}

type counters struct {
	lines, bytes, cut, rotations, truncations atomic.Int64
	open                                      atomic.Bool
}

// file is one open file.
type file struct {
	name    string
	f       *os.File
	info    os.FileInfo // from open, for os.SameFile
	off     int64       // next byte to read
	size    int64       // size and mtime at the last look, to skip idle files
	mtime   time.Time
	mark    []byte    // the bytes just before off, at most markSize
	active  time.Time // last time bytes were read, or the file was rotated
	pend    []byte    // a line without its newline yet
	pendOn  bool
	pendOff int64
	pendCut bool
	err     string // last read error, reported once
	c       *counters
}

// gone remembers where a closed file was left, so that a file reappearing
// under a name a pattern matches (the rotated error.log.1 of a pattern
// error.log*) is not read a second time.
type gone struct {
	info os.FileInfo
	off  int64
	mark []byte
}

// New checks the patterns and returns a Follower for them. A pattern with
// glob characters (*?[) follows every file it matches, now or later; any
// other is a file name, waited for when it does not exist. "-" (standard
// input) cannot be followed; the caller reads it directly.
func New(patterns []string, opt Options) (*Follower, error) {
	if len(patterns) == 0 {
		return nil, ErrNoPatterns
	}
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.RotateWait == 0 {
		opt.RotateWait = DefaultRotateWait
	}
	if opt.PartialWait <= 0 {
		opt.PartialWait = DefaultPartialWait
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	fl := &Follower{opt: opt, paths: map[string]*path{}}
	for _, p := range patterns {
		switch {
		case p == "-":
			return nil, fmt.Errorf("follow %s: standard input cannot be followed", p)
		case p == "":
			return nil, errors.New("follow: empty file name")
		case strings.ContainsAny(p, "*?["):
			if _, err := filepath.Match(p, ""); err != nil {
				return nil, fmt.Errorf("follow %s: bad pattern: %w", p, err)
			}
			fl.globs = append(fl.globs, p)
		default:
			fl.literals = append(fl.literals, p)
		}
	}
	return fl, nil
}

// Follow follows patterns (see New) and sends their lines to out until
// ctx is cancelled, then returns nil. It returns an error only for bad
// patterns. It never closes out.
func Follow(ctx context.Context, patterns []string, opt Options, out chan<- Line) error {
	fl, err := New(patterns, opt)
	if err != nil {
		return err
	}
	return fl.Run(ctx, out)
}

// Run follows the files and sends their lines to out until ctx is
// cancelled, then closes the files and returns nil. A slow receiver slows
// the reading; nothing is dropped. A line still waiting for its newline
// when ctx is cancelled is not sent. Run may be called once.
func (fl *Follower) Run(ctx context.Context, out chan<- Line) error {
	if !fl.running.CompareAndSwap(false, true) {
		return errors.New("follow: Run called twice")
	}
	defer fl.closeAll()
	fl.buf = make([]byte, readSize)
	fl.scratch = make([]byte, markSize)
	s := &sender{ctx: ctx, out: out}

	tick := time.NewTicker(fl.opt.Poll)
	defer tick.Stop()
	for first := true; ; first = false {
		more := fl.pass(s, first)
		if ctx.Err() != nil {
			return nil
		}
		if first && fl.opt.Ready != nil {
			fl.opt.Ready()
		}
		if more {
			continue // a file has more to read: no waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Stats returns the counts for each name followed, in discovery order. It
// may be called while Run runs.
func (fl *Follower) Stats() []FileStats {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	st := make([]FileStats, 0, len(fl.order))
	for _, p := range fl.order {
		st = append(st, FileStats{
			Name:        p.name,
			Lines:       p.c.lines.Load(),
			Bytes:       p.c.bytes.Load(),
			Cut:         p.c.cut.Load(),
			Rotations:   p.c.rotations.Load(),
			Truncations: p.c.truncations.Load(),
			Open:        p.c.open.Load(),
		})
	}
	return st
}

// sender delivers lines; its err is set once ctx is done.
type sender struct {
	ctx context.Context
	out chan<- Line
	err error
}

func (s *sender) send(l Line) bool {
	if s.err != nil {
		return false
	}
	select {
	case s.out <- l:
		return true
	case <-s.ctx.Done():
		s.err = s.ctx.Err()
		return false
	}
}

// pass looks at every file once. It reports whether a file has more to
// read than its turn allowed.
func (fl *Follower) pass(s *sender, first bool) bool {
	fl.gen++
	fl.discover(first)
	more := false
	// Rotated-away files first: their lines are older than the new file's.
	for i := 0; i < len(fl.draining) && s.err == nil; {
		closed, m := fl.drain(s, fl.draining[i])
		if closed {
			fl.draining = slices.Delete(fl.draining, i, i+1)
			continue
		}
		more = more || m
		i++
	}
	for _, p := range fl.order { // only discover changes it
		if s.err != nil {
			break
		}
		more = fl.check(s, p, first) || more
	}
	return more && s.err == nil
}

// discover adds the names given and the files the patterns match, and
// forgets matches that are gone and have no open file.
func (fl *Follower) discover(first bool) {
	if first {
		for _, name := range fl.literals {
			fl.add(name, true)
		}
	}
	for _, g := range fl.globs {
		m, _ := filepath.Glob(g) // the pattern was checked in New
		if first && len(m) == 0 {
			fl.opt.Logf("waiting for a file matching %s", quote(g))
		}
		for _, name := range m {
			fl.add(name, false).seen = fl.gen
		}
	}
	if len(fl.globs) == 0 {
		return
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.order = slices.DeleteFunc(fl.order, func(p *path) bool {
		if p.literal || p.seen == fl.gen || p.cur != nil {
			return false
		}
		delete(fl.paths, p.name)
		return true
	})
}

func (fl *Follower) add(name string, literal bool) *path {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	p := fl.paths[name]
	if p == nil {
		p = &path{name: name}
		fl.paths[name] = p
		fl.order = append(fl.order, p)
	}
	p.literal = p.literal || literal
	return p
}

// notice reports a lasting condition of p once.
func (fl *Follower) notice(p *path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg != p.note {
		p.note = msg
		fl.opt.Logf("%s", msg)
	}
}

// check looks at one name: reads what was appended to its file, and finds
// truncation, rotation, and a file that appeared. It reports whether the
// file has more to read.
func (fl *Follower) check(s *sender, p *path, first bool) bool {
	fi, err := os.Stat(p.name)
	if err != nil && p.cur != nil && !errors.Is(err, os.ErrNotExist) {
		// The name cannot be looked up (a directory made unreadable, an
		// NFS error): that is no rotation; keep reading the open file.
		fl.notice(p, "cannot check %s for rotation: %v; reading the file already open", quote(p.name), err)
		fi, err = p.cur.f.Stat()
	}
	if p.cur != nil {
		if err == nil && os.SameFile(p.cur.info, fi) {
			return fl.update(s, p.cur, fi.Size(), fi.ModTime(), false)
		}
		how := "replaced by a new file"
		if err != nil {
			how = "removed or renamed"
		}
		fl.rotate(s, p, how)
		if s.err != nil {
			return false
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if p.literal {
				fl.notice(p, "waiting for %s", quote(p.name))
			}
		} else {
			fl.notice(p, "cannot follow %s: %v", quote(p.name), err)
		}
		return false
	}
	if !fi.Mode().IsRegular() {
		fl.notice(p, "not following %s: not a regular file", quote(p.name))
		return false
	}
	if d := fl.openAs(fi); d != nil {
		if d.name != p.name || !slices.Contains(fl.draining, d) {
			// Another name leads to the same file (a pattern matching
			// the rotated-away name, a symlink and its target): it is
			// read once, under the name that found it first.
			return false
		}
		// A rotated-away file came back under its name.
		fl.draining = slices.DeleteFunc(fl.draining, func(f *file) bool { return f == d })
		p.cur = d
		p.c.open.Store(true)
		return fl.update(s, d, fi.Size(), fi.ModTime(), false)
	}
	f, err := fl.open(p, fi, first)
	if err != nil {
		fl.notice(p, "cannot follow %s: %v", quote(p.name), err)
		return false
	}
	if f == nil {
		return false // replaced between stat and open: next time
	}
	p.cur = f
	p.c.open.Store(true)
	if first {
		p.note = ""
	} else {
		fl.notice(p, "following %s", quote(p.name))
	}
	return fl.update(s, f, -1, time.Time{}, false)
}

// openAs returns the open file that fi is, if any.
func (fl *Follower) openAs(fi os.FileInfo) *file {
	for _, f := range fl.draining {
		if os.SameFile(f.info, fi) {
			return f
		}
	}
	for _, p := range fl.order {
		if p.cur != nil && os.SameFile(p.cur.info, fi) {
			return p.cur
		}
	}
	return nil
}

// open opens the file that stat found at p.name, and chooses where to
// start: for a file that was there at the start, at Options.Start's
// offset for it, or at its beginning with FromStart, or else at its end
// (the start of its last line, which may still be written); where a
// closed file was left; or else at the beginning, since all of a new
// file is new.
func (fl *Follower) open(p *path, fi os.FileInfo, first bool) (*file, error) {
	osf, err := os.Open(p.name)
	if err != nil {
		return nil, err
	}
	info, err := osf.Stat()
	if err != nil || !os.SameFile(info, fi) {
		osf.Close()
		return nil, err
	}
	f := &file{name: p.name, f: osf, info: info, active: time.Now(), c: &p.c}
	start, resume := fl.opt.Start[p.name]
	switch {
	case first && resume && start <= info.Size():
		f.off = start
	case first && !fl.opt.FromStart:
		f.off = fl.lastLineStart(f, info.Size())
	default:
		if i := slices.IndexFunc(fl.gone, func(g gone) bool { return os.SameFile(g.info, info) }); i >= 0 {
			g := fl.gone[i]
			fl.gone = slices.Delete(fl.gone, i, i+1)
			f.off, f.mark = g.off, g.mark
			if info.Size() < f.off || !fl.marked(f) {
				f.off, f.mark = 0, nil
			}
		}
	}
	if f.mark == nil && f.off > 0 {
		n := min(f.off, markSize)
		f.mark = make([]byte, n)
		if _, err := osf.ReadAt(f.mark, f.off-n); err != nil {
			f.mark = nil
			f.off = 0
		}
	}
	return f, nil
}

// lastLineStart returns the offset after the last newline of the file's
// last 64 KiB: following from the end starts with the line being written.
func (fl *Follower) lastLineStart(f *file, size int64) int64 {
	n := min(size, int64(len(fl.buf)))
	if n == 0 {
		return 0
	}
	b := fl.buf[:n]
	if _, err := f.f.ReadAt(b, size-n); err != nil {
		return size
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return size - n + int64(i) + 1
	}
	if n == size {
		return 0
	}
	return size
}

// rotate retires p's file: it reads it to its end, then keeps it open
// among the draining files until it has been idle for RotateWait.
func (fl *Follower) rotate(s *sender, p *path, how string) {
	f := p.cur
	p.cur = nil
	p.c.open.Store(false)
	p.c.rotations.Add(1)
	p.note = ""
	fl.opt.Logf("%s rotated (%s)", quote(p.name), how)
	fl.readAll(s, f)
	f.active = time.Now()
	if fl.opt.RotateWait < 0 {
		fl.retire(s, f)
		return
	}
	fl.draining = append(fl.draining, f)
}

// drain reads a rotated-away file. It reports whether the file was
// closed, and whether it has more to read.
func (fl *Follower) drain(s *sender, f *file) (closed, more bool) {
	fi, err := f.f.Stat()
	if err != nil {
		fl.retire(s, f)
		return true, false
	}
	more = fl.update(s, f, fi.Size(), fi.ModTime(), true)
	if more || s.err != nil || time.Since(f.active) < fl.opt.RotateWait {
		return false, more
	}
	fl.retire(s, f)
	return true, false
}

// retire emits a held-back last line, closes the file and remembers where
// it was left.
func (fl *Follower) retire(s *sender, f *file) {
	fl.flush(s, f)
	f.f.Close()
	if len(fl.gone) == maxGone {
		fl.gone = slices.Delete(fl.gone, 0, 1)
	}
	fl.gone = append(fl.gone, gone{info: f.info, off: f.off, mark: f.mark})
	f.pend = nil
}

func (fl *Follower) readAll(s *sender, f *file) {
	for fl.read(s, f) {
	}
}

// update reads what was appended to f, given the size and mtime a stat
// just saw (size < 0: unknown, look anyway). It finds truncation first,
// and emits a held-back last line that waited PartialWait. It reports
// whether there is more to read.
func (fl *Follower) update(s *sender, f *file, size int64, mtime time.Time, draining bool) bool {
	changed := size < 0 || size != f.size || !mtime.Equal(f.mtime)
	if !changed && f.off >= size {
		if f.pendOn && !draining && time.Since(f.active) >= fl.opt.PartialWait {
			fl.flush(s, f)
		}
		return false
	}
	f.size, f.mtime = size, mtime
	if (size >= 0 && size < f.off) || !fl.marked(f) {
		fl.truncated(s, f)
	}
	more := fl.read(s, f)
	if size < 0 {
		f.size = f.off
	}
	return more
}

// marked reports whether the bytes before f.off are still those read
// there. If not, the file was truncated and written again past f.off.
func (fl *Follower) marked(f *file) bool {
	if len(f.mark) == 0 {
		return true
	}
	b := fl.scratch[:len(f.mark)]
	n, _ := f.f.ReadAt(b, f.off-int64(len(b)))
	return n == len(b) && bytes.Equal(b, f.mark)
}

func (fl *Follower) truncated(s *sender, f *file) {
	fl.fromCopy(s, f)
	fl.flush(s, f)
	f.c.truncations.Add(1)
	fl.opt.Logf("%s truncated", quote(f.name))
	f.off = 0
	f.mark = f.mark[:0]
}

// fromCopy reads, after a truncation, what copytruncate copied away and
// f had not read yet: the lines written between the last look and the
// copy. The copy is a file next to f whose name starts with f's and whose
// bytes before f.off are those read there (a log line with its timestamp,
// so an older copy does not match). Lines written between the copy and
// the truncation are in neither file.
func (fl *Follower) fromCopy(s *sender, f *file) {
	if len(f.mark) == 0 {
		return
	}
	dir, base := filepath.Split(f.name)
	ents, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Name() == base || !strings.HasPrefix(e.Name(), base) || !e.Type().IsRegular() {
			continue
		}
		c, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		info, err := c.Stat()
		if err != nil || os.SameFile(info, f.info) || info.Size() <= f.off {
			c.Close()
			continue
		}
		orig := f.f
		f.f = c
		if fl.marked(f) {
			from := f.off
			for s.err == nil {
				n, _ := c.ReadAt(fl.buf, f.off)
				if n == 0 {
					break
				}
				fl.lines(s, f, fl.buf[:n])
				f.off += int64(n)
				f.remember(fl.buf[:n])
				f.c.bytes.Add(int64(n))
			}
			fl.opt.Logf("%s: read %d bytes written before its truncation from its copy %s", quote(f.name), f.off-from, quote(e.Name()))
			f.f = orig
			c.Close()
			return
		}
		f.f = orig
		c.Close()
	}
}

// read reads from f.off to the end of the file or the end of f's turn,
// and reports whether the turn ended first.
func (fl *Follower) read(s *sender, f *file) bool {
	for budget := turnBudget; budget > 0 && s.err == nil; {
		n, err := f.f.ReadAt(fl.buf, f.off)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) && err.Error() != f.err {
				f.err = err.Error()
				fl.opt.Logf("reading %s: %v", quote(f.name), err)
			}
			return false
		}
		f.err = ""
		// The file may have been truncated (and grown again) since the
		// last look: the bytes just read would then be from the middle
		// of the new content. Check before using them.
		if !fl.marked(f) {
			fl.truncated(s, f)
			continue
		}
		fl.lines(s, f, fl.buf[:n])
		if s.err != nil {
			return false
		}
		f.off += int64(n)
		f.remember(fl.buf[:n])
		f.active = time.Now()
		f.c.bytes.Add(int64(n))
		budget -= n
		if n < len(fl.buf) {
			return false
		}
	}
	return s.err == nil
}

// lines splits b, read at f.off, into lines and sends the complete ones.
func (fl *Follower) lines(s *sender, f *file, b []byte) {
	at := time.Now()
	off := f.off
	for len(b) > 0 {
		if !f.pendOn {
			f.pendOn, f.pendOff, f.pendCut = true, off, false
			f.pend = f.pend[:0]
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f.hold(b)
			return
		}
		f.hold(b[:i])
		off += int64(i) + 1
		b = b[i+1:]
		fl.emit(s, f, at)
	}
}

// hold adds b to the line being collected, up to the cap.
func (f *file) hold(b []byte) {
	if room := maxLine - len(f.pend); len(b) > room {
		b = b[:max(room, 0)]
		f.pendCut = true
	}
	f.pend = append(f.pend, b...)
}

// flush emits the line being collected, if any.
func (fl *Follower) flush(s *sender, f *file) {
	if f.pendOn {
		fl.emit(s, f, time.Now())
	}
}

func (fl *Follower) emit(s *sender, f *file, at time.Time) {
	text := bytes.TrimSuffix(f.pend, []byte("\r"))
	l := Line{File: f.name, Text: bytes.Clone(text), Offset: f.pendOff, Cut: f.pendCut, At: at}
	f.pendOn = false
	if cap(f.pend) > readSize {
		f.pend = nil // do not keep a megabyte for one long line
	}
	if !s.send(l) {
		return
	}
	f.c.lines.Add(1)
	if l.Cut {
		f.c.cut.Add(1)
	}
}

// remember keeps the last markSize bytes read, which end at f.off.
func (f *file) remember(b []byte) {
	if len(b) >= markSize {
		f.mark = append(f.mark[:0], b[len(b)-markSize:]...)
		return
	}
	f.mark = append(f.mark, b...)
	if extra := len(f.mark) - markSize; extra > 0 {
		f.mark = f.mark[:copy(f.mark, f.mark[extra:])]
	}
}

func (fl *Follower) closeAll() {
	for _, f := range fl.draining {
		f.f.Close()
	}
	fl.draining = nil
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, p := range fl.order {
		if p.cur != nil {
			p.cur.f.Close()
			p.cur = nil
			p.c.open.Store(false)
		}
	}
}

// quote returns name as it is, or quoted if it has characters that do not
// print: a file name a pattern matched is not to be trusted with a
// terminal.
func quote(name string) string {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
