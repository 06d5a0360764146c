// Package source opens the inputs logtriage reads: files, gzip files
// (recognised by their magic bytes, not their name) and standard input.
// It knows nothing of log formats.
package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// Stdin is the name that stands for standard input.
const Stdin = "-"

// ErrIsDir is returned for a path that is a directory.
var ErrIsDir = errors.New("is a directory")

// Open opens name for reading; "-" is stdin. Gzip content is decompressed
// transparently. Errors name the path.
func Open(name string, stdin io.Reader) (io.ReadCloser, error) {
	return OpenCounting(name, stdin, nil)
}

// A Sectioned is a plain file, not compressed, opened by Open or
// OpenCounting: besides reading it from the start, a reader of a large
// log can read parts of it at any offset and parse them on several
// cores. Stdin and gzip files are never Sectioned.
type Sectioned interface {
	io.ReadCloser
	io.ReaderAt
	// Size is the file's size when it was opened.
	Size() int64
}

// An Inflated is a regular gzip file read decompressed, as Open and
// OpenCounting return one (a wrapper that keeps what it says may say so
// too). Unlike a pipe it never makes its reader wait
// for a writer, so a reader of a large log can read parts of it ahead of
// the records it has parsed, and parse them on several cores, without
// holding back records that were there to be had. Stdin and gzip read
// from a pipe are never Inflated, nor is a plain file (see Sectioned).
type Inflated interface {
	io.ReadCloser
	// InflatedFile does nothing: it marks the type.
	InflatedFile()
}

// ofFile makes what decompress returned for the open file f a Sectioned
// when f is a regular plain file, counting what ReadAt reads in c when c
// is not nil, and an Inflated, decompressed ahead in a goroutine of its
// own, when f is a regular compressed file. A pipe is left as it is: its
// writer may be slow, and reading ahead would hold back what it wrote.
func ofFile(rc *readCloser, zipped bool, f *os.File, c *Counter) io.ReadCloser {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return rc
	}
	if zipped {
		return inflatedFile{newReadAhead(rc)}
	}
	return &sectionedFile{readCloser: rc, f: f, size: st.Size(), c: c}
}

type inflatedFile struct{ *readAhead }

func (inflatedFile) InflatedFile() {}

type sectionedFile struct {
	*readCloser
	f    *os.File
	size int64
	c    *Counter // nil: no counting
}

func (s *sectionedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.f.ReadAt(p, off)
	if s.c != nil {
		s.c.n.Add(int64(n))
	}
	return n, err
}

func (s *sectionedFile) Size() int64 { return s.size }

func openFile(name string) (*os.File, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if st.IsDir() {
		file.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrIsDir}
	}
	return file, nil
}

type readCloser struct {
	io.Reader
	closers []io.Closer
}

func (r *readCloser) Close() error {
	var first error
	for _, c := range r.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// decompress looks at the first bytes and wraps gzip streams; zipped
// says it did. A plain stream is returned unbuffered: the parser's line
// reader has its own buffer, and a second would only copy every byte
// once more.
func decompress(name string, f io.ReadCloser) (rc *readCloser, zipped bool, err error) {
	var magic [2]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		f.Close()
		return nil, false, &os.PathError{Op: "read", Path: name, Err: err}
	}
	r := io.MultiReader(bytes.NewReader(magic[:n]), f)
	if n < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return &readCloser{Reader: r, closers: []io.Closer{f}}, false, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, gzipReadSize))
	if err != nil {
		f.Close()
		return nil, false, &os.PathError{Op: "gunzip", Path: name, Err: err}
	}
	return &readCloser{Reader: &namedErrReader{name: name, r: zr}, closers: []io.Closer{zr, f}}, true, nil
}

// gzipReadSize is the buffer between a compressed file and its
// decompressor (which needs an io.ByteReader).
const gzipReadSize = 32 << 10

// Decompressed data is handed from the decompressing goroutine to the
// reader in chunks of chunkSize, at most chunksAhead of them waiting:
// one, so that the goroutine fills a chunk while the parser reads the
// other.
const (
	chunkSize   = 32 << 10
	chunksAhead = 1
)

// readAhead decompresses in a goroutine of its own, a chunk ahead of its
// reader, so that inflating an archive and parsing it use two cores
// instead of taking turns on one. A chunk is handed over once full (or at
// the end of the stream), which suits reading archives, not following a
// compressed stream written slowly.
type readAhead struct {
	chunks chan chunk  // filled, in stream order
	free   chan []byte // emptied, for the goroutine to fill again
	stop   chan struct{}
	done   chan struct{} // closed when the goroutine has returned

	cur    chunk // being read
	off    int   // read up to cur.b[off]
	rc     io.ReadCloser
	closed bool
}

// chunk is decompressed bytes and the error that ended them, if any.
type chunk struct {
	b   []byte
	err error
}

func newReadAhead(rc io.ReadCloser) *readAhead {
	ra := &readAhead{
		chunks: make(chan chunk, chunksAhead),
		free:   make(chan []byte, chunksAhead+1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		rc:     rc,
	}
	for range chunksAhead + 1 {
		ra.free <- make([]byte, chunkSize)
	}
	go ra.fill(rc)
	return ra
}

// fill runs in the goroutine: it reads r into free buffers until an error
// (io.EOF included) or until Close.
func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		select {
		case ra.chunks <- chunk{buf[:n], err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	if ra.closed {
		return 0, os.ErrClosed
	}
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b[:cap(ra.cur.b)]
		}
		ra.cur, ra.off = <-ra.chunks, 0
	}
	n := copy(p, ra.cur.b[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops the goroutine, waits for it (a read in progress is not
// interrupted) and closes the decompressor and the file.
func (ra *readAhead) Close() error {
	if ra.closed {
		return nil
	}
	ra.closed = true
	close(ra.stop)
	<-ra.done
	return ra.rc.Close()
}

// namedErrReader puts the file name into decompression errors, which
// otherwise say only "gzip: invalid checksum".
type namedErrReader struct {
	name string
	r    io.Reader
}

func (n *namedErrReader) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: %w", n.name, err)
	}
	return k, err
}

// Expand turns command-line arguments into input names: "-" stays, a
// glob pattern becomes the files it matches (in name order), anything
// else is a path. A pattern that matches nothing, or a malformed one, is
// an error for that argument; the others still expand.
func Expand(args []string) ([]string, []error) {
	var names []string
	var errs []error
	for _, a := range args {
		if a == Stdin || !strings.ContainsAny(a, "*?[") {
			names = append(names, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: bad pattern: %w", a, err))
			continue
		}
		if len(m) == 0 {
			errs = append(errs, fmt.Errorf("%s: no file matches", a))
			continue
		}
		names = append(names, m...)
	}
	return names, errs
}

// Counter counts bytes as they are read from the underlying files, before
// decompression, so progress can be shown against file sizes.
type Counter struct{ n atomic.Int64 }

// Load returns the bytes read so far.
func (c *Counter) Load() int64 { return c.n.Load() }

type countingReader struct {
	r io.ReadCloser
	c *Counter
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.c.n.Add(int64(n))
	return n, err
}

func (cr *countingReader) Close() error { return cr.r.Close() }

// OpenCounting is Open with the raw bytes read added to c, when c is not
// nil.
func OpenCounting(name string, stdin io.Reader, c *Counter) (io.ReadCloser, error) {
	counted := func(r io.ReadCloser) io.ReadCloser {
		if c == nil {
			return r
		}
		return &countingReader{r, c}
	}
	if name == Stdin {
		rc, _, err := decompress(name, counted(io.NopCloser(stdin)))
		if err != nil {
			return nil, err
		}
		return rc, nil
	}
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	rc, zipped, err := decompress(name, counted(f))
	if err != nil {
		return nil, err
	}
	return ofFile(rc, zipped, f, c), nil
}
