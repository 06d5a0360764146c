package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/logtriage/logtriage/source"
)

const (
	// maxHead caps the head, the first bytes that identify a file.
	maxHead = 4 << 10
	// maxPartial is how far back from the end of the last file a newline
	// is looked for. A line still being written is left for the next run;
	// one longer than this is not a line being written but a file without
	// newlines, and is read to its end.
	maxPartial = 1 << 20
	// mtimeSlack widens "modified since" for file systems that keep
	// modification times in whole seconds (two on FAT): a file written
	// just after a run may carry a time just before it. Reading a file too
	// many costs little; the caller filters its records by time.
	mtimeSlack = 2 * time.Second
)

// ErrChanged is returned by Segment.Open when the file at the segment's
// path is no longer the one planned, or holds fewer bytes than planned: a
// rotation or truncation happened between Plan and Open. The caller
// should not commit; the next run plans again from the same state.
var ErrChanged = errors.New("file changed since the run was planned")

// A Segment is a part of one file to read: from Offset to End (-1: to the
// end of the file, as it is when the segment is opened), in decompressed
// bytes for a gzip file.
type Segment struct {
	Path        string
	Offset, End int64
	// After, when set, is the time of the last record an earlier run read
	// for this log: the segment may hold records that were already
	// reported, and the caller drops those at or before After.
	After time.Time

	dev, ino uint64 // the file planned; zero when unknown
	gzip     bool
}

// Open opens the segment's file and returns a reader of the segment's
// bytes: a section of an uncompressed file (a source.Sectioned), or what
// is left of a gzip file's stream once Offset bytes are decompressed and
// discarded (a source.Inflated), stopping at End. A file that is
// not the one planned (another inode, compressed or not when it was
// not), or is shorter than planned, is an error wrapping ErrChanged.
func (s Segment) Open() (io.ReadCloser, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := s.check(fi); err != nil {
		f.Close()
		return nil, err
	}
	var magic [2]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, err
	}
	if isGzip(magic[:n]) != s.gzip {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", s.Path, ErrChanged)
	}
	if s.gzip {
		f.Close()
		return s.openGzip()
	}
	if fi.Size() < max(s.Offset, s.End) {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", s.Path, ErrChanged)
	}
	// A stretch of a plain file, to End or to the end the file has now:
	// a source.Sectioned, which a reader can also read at offsets and so
	// parse in parts on every core.
	end := s.End
	if end < 0 {
		end = fi.Size()
	}
	return &fileSection{io.NewSectionReader(f, s.Offset, end-s.Offset), f}, nil
}

// fileSection is a source.Sectioned stretch of an open file.
type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (s *fileSection) Close() error { return s.f.Close() }

// inflatedSection is what is left of a gzip file's stream after the
// bytes skipped: still a source.Inflated, which a reader may read ahead
// of the records it has parsed.
type inflatedSection struct {
	io.Reader
	io.Closer
}

func (inflatedSection) InflatedFile() {}

func (s Segment) openGzip() (io.ReadCloser, error) {
	r, err := source.Open(s.Path, nil)
	if err != nil {
		return nil, err
	}
	// source.Open takes a name, so check that the name still leads to
	// the file planned now that it is open.
	fi, err := os.Stat(s.Path)
	if err == nil {
		err = s.check(fi)
	}
	if err == nil {
		var n int64
		n, err = io.CopyN(io.Discard, r, s.Offset)
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("open %s: %w (%d of %d bytes)", s.Path, ErrChanged, n, s.Offset)
		}
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	rc := s.limit(r)
	if _, ok := r.(source.Inflated); ok {
		return inflatedSection{rc, rc}, nil
	}
	return rc, nil
}

func (s Segment) check(fi fs.FileInfo) error {
	if s.ino == 0 {
		return nil
	}
	if dev, ino := fileID(fi); dev != s.dev || ino != s.ino {
		return fmt.Errorf("open %s: %w", s.Path, ErrChanged)
	}
	return nil
}

// limit stops rc at End, if the segment has one.
func (s Segment) limit(rc io.ReadCloser) io.ReadCloser {
	if s.End < 0 {
		return rc
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, s.End-s.Offset), rc}
}

// A Plan says what to read of one log in this run, and what to remember
// once it is read.
type Plan struct {
	Path string // absolute
	// First is set when the state had nothing for Path.
	First bool
	// Segments are to be read in order; their records then come out in
	// the order they were written.
	Segments []Segment
	// Notes tell the operator what could not be done exactly (a
	// truncation, a file gone, a live file missing), one sentence each.
	Notes []string

	next file      // what Commit records
	run  time.Time // when the plan was made
}

// candidate is a file that may hold the recorded one: the live file or a
// rotation.
type candidate struct {
	path     string
	live     bool
	dev, ino uint64
	size     int64 // on disk
	length   int64 // of the content; -1 until known for a gzip file
	mtime    time.Time
	gzip     bool
	head     []byte // first bytes of the content, up to maxHead
	headRead bool
}

// Plan works out what to read of the log at path in this run: see the
// package documentation. since matters only on the first run for path:
// files last modified before it are not read. It is an error when neither
// path nor any rotation of it exists, or when a file that has to be
// looked at cannot be read. A rotation in the middle of planning can
// make it fail with an error wrapping ErrChanged; planning again is then
// safe.
func (s *State) Plan(path string, since time.Time) (*Plan, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	p := &Plan{Path: abs, run: now()}
	files, err := candidates(abs)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("plan %s: %w, nor any rotation of it", abs, fs.ErrNotExist)
	}
	last := files[len(files)-1]
	if !last.live {
		p.note("%s does not exist (rotated and not yet recreated?): reading up to %s", abs, last.path)
	}

	rec, ok := s.files[abs]
	if !ok {
		p.First = true
		return p, p.read(files, 0, since, time.Time{})
	}
	if rec.Offset == 0 {
		// Nothing was read from that file, so nothing of it can be lost
		// or read twice: read what changed since the last run. This also
		// covers a file that was empty, which only its inode identifies,
		// and inodes are reused.
		return p, p.read(files, 0, rec.Run, rec.LastRecord)
	}
	i, err := find(files, rec)
	if err != nil {
		return nil, err
	}
	if i >= 0 {
		return p, p.read(files[i:], rec.Offset, time.Time{}, time.Time{})
	}
	lost := rec.LastRecord
	if lost.IsZero() {
		lost = rec.Run
	}
	if last.live && !last.gzip && rec.Ino != 0 && last.dev == rec.Dev && last.ino == rec.Ino {
		p.note("%s was truncated and no copy of it was found: reading it from the start; lines written to it after %s and before the truncation are lost",
			abs, lost.Format(time.RFC3339))
		return p, p.read(files[len(files)-1:], 0, time.Time{}, time.Time{})
	}
	p.note("%s: the file read last (%s, %d bytes read) is gone: reading the files modified since the last run at %s, skipping records at or before %s; lines written to it after that and before its rotation may be missing",
		abs, rec.Name, rec.Offset, rec.Run.Format(time.RFC3339), lost.Format(time.RFC3339))
	return p, p.read(files, 0, rec.Run, rec.LastRecord)
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// read plans files, oldest first: the first from offset, the others from
// their start, each only if modified since since (zero: always), and the
// last up to its last complete line, which becomes what Commit records.
func (p *Plan) read(files []*candidate, offset int64, since, after time.Time) error {
	for i, c := range files {
		from := int64(0)
		if i == 0 {
			from = offset
		}
		end := int64(-1)
		if i == len(files)-1 {
			var err error
			if end, err = p.finish(c, from); err != nil {
				return err
			}
		}
		empty := end == from || (end < 0 && c.length >= 0 && c.length <= from)
		if empty || !modifiedSince(c.mtime, since) {
			continue
		}
		p.Segments = append(p.Segments, Segment{Path: c.path, Offset: from, End: end, After: after, dev: c.dev, ino: c.ino, gzip: c.gzip})
	}
	return nil
}

func modifiedSince(mtime, since time.Time) bool {
	return since.IsZero() || !mtime.Before(since.Add(-mtimeSlack))
}

// finish finds where reading the last file stops, reading from from, and
// sets what Commit records. An uncompressed file stops after its last
// newline; a gzip file is complete and is read to its end.
func (p *Plan) finish(c *candidate, from int64) (int64, error) {
	var end, size int64
	if c.gzip {
		r, err := source.Open(c.path, nil)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		if size, err = io.Copy(io.Discard, r); err != nil {
			return 0, err
		}
		end = size
	} else {
		f, err := os.Open(c.path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if dev, ino := fileID(fi); dev != c.dev || ino != c.ino {
			return 0, fmt.Errorf("read %s: %w", c.path, ErrChanged)
		}
		size = c.size
		if end, err = lineEnd(f, from, size, maxPartial); err != nil {
			return 0, fmt.Errorf("read %s: %w", c.path, err)
		}
	}
	if end < from {
		// Only a gzip file can end before the offset, and find checked
		// that this one does not.
		return 0, fmt.Errorf("read %s: %w", c.path, ErrChanged)
	}
	head, err := c.readHead()
	if err != nil {
		return 0, err
	}
	// The identity is the content read so far, up to maxHead: bytes a
	// log never rewrites. More than the first line, which is the same in
	// every php-fpm slow log (empty) and differs little in others.
	head = head[:min(int64(len(head)), end)]
	p.next = file{
		Name:    c.path,
		Dev:     c.dev,
		Ino:     c.ino,
		HeadLen: len(head),
		Size:    size,
		Offset:  end,
	}
	if len(head) > 0 {
		p.next.HeadSHA256 = hashHead(head)
	}
	return end, nil
}

// lineEnd returns the offset just after the last newline of r in
// [from, size), looking back at most limit bytes from size. With no
// newline there, it returns from, leaving the partial line for later,
// unless that line is at least limit bytes long: then size.
func lineEnd(r io.ReaderAt, from, size, limit int64) (int64, error) {
	buf := make([]byte, min(limit, 64<<10))
	low := max(from, size-limit)
	for hi := size; hi > low; {
		lo := max(low, hi-int64(len(buf)))
		b := buf[:hi-lo]
		if _, err := r.ReadAt(b, lo); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return lo + int64(i) + 1, nil
		}
		hi = lo
	}
	if size-from >= limit {
		return size, nil
	}
	return from, nil
}

// candidates returns the rotations of the log at path, oldest first, and
// the live file last if it exists.
func candidates(path string) ([]*candidate, error) {
	names, err := source.Rotations(path)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	var files []*candidate
	for _, name := range append(names, path) {
		c, err := inspect(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the live file, or a rotation just renamed
		}
		if err != nil {
			return nil, err
		}
		c.live = name == path
		files = append(files, c)
	}
	return files, nil
}

// inspect stats name and reads the first bytes of an uncompressed file
// through the same descriptor, so that they belong to the file stat saw.
func inspect(name string) (*candidate, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "plan", Path: name, Err: source.ErrIsDir}
	}
	c := &candidate{path: name, size: fi.Size(), length: fi.Size(), mtime: fi.ModTime()}
	c.dev, c.ino = fileID(fi)
	buf := make([]byte, min(c.size, maxHead))
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	if c.gzip = isGzip(buf); c.gzip {
		c.length = -1
	} else {
		c.head, c.headRead = buf, true
	}
	return c, nil
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// readHead returns the first decompressed bytes of c, up to maxHead.
func (c *candidate) readHead() ([]byte, error) {
	if c.headRead {
		return c.head, nil
	}
	r, err := source.Open(c.path, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if c.head, err = io.ReadAll(io.LimitReader(r, maxHead)); err != nil {
		return nil, err
	}
	c.headRead = true
	if len(c.head) < maxHead {
		c.length = int64(len(c.head))
	}
	return c.head, nil
}

// find returns the index of the recorded file in files, -1 if none is it.
func find(files []*candidate, rec file) (int, error) {
	if rec.Ino != 0 {
		for i := len(files) - 1; i >= 0; i-- {
			c := files[i]
			if c.gzip || c.dev != rec.Dev || c.ino != rec.Ino {
				continue
			}
			if c.size >= rec.Offset && headIs(c.head, rec) {
				return i, nil
			}
		}
	}
	for i := len(files) - 1; i >= 0; i-- {
		ok, err := files[i].holds(rec)
		if err != nil {
			return -1, err
		}
		if ok {
			return i, nil
		}
	}
	return -1, nil
}

// holds reports whether c starts with the recorded head and has at
// least the recorded offset's bytes.
func (c *candidate) holds(rec file) (bool, error) {
	if !c.gzip {
		return c.size >= rec.Offset && headIs(c.head, rec), nil
	}
	head, err := c.readHead()
	if err != nil || !headIs(head, rec) {
		return false, err
	}
	if c.length >= 0 {
		return c.length >= rec.Offset, nil
	}
	r, err := source.Open(c.path, nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, rec.Offset); err != nil {
		if errors.Is(err, io.EOF) {
			err = nil // shorter: not the file
		}
		return false, err
	}
	// One byte more tells whether anything was written after the offset.
	if _, err := io.ReadFull(r, make([]byte, 1)); errors.Is(err, io.EOF) {
		c.length = rec.Offset
	}
	return true, nil
}

func headIs(head []byte, rec file) bool {
	return len(head) >= rec.HeadLen && hashHead(head[:rec.HeadLen]) == rec.HeadSHA256
}

func hashHead(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
