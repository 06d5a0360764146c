// Package source opens the inputs logtriage reads: files, gzip files
// (recognised by their magic bytes, not their name) and standard input.
// It knows nothing of log formats.
package source

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// Stdin is the name that stands for standard input.
const Stdin = "-"

// ErrIsDir is returned for a path that is a directory.
var ErrIsDir = errors.New("is a directory")

// Open opens name for reading; "-" is stdin. Gzip content is decompressed
// transparently. Errors name the path.
func Open(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == Stdin {
		return decompress(name, io.NopCloser(stdin))
	}
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	return decompress(name, f)
}

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

// decompress peeks at the first bytes and wraps gzip streams.
func decompress(name string, f io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, &os.PathError{Op: "gunzip", Path: name, Err: err}
		}
		return &readCloser{Reader: &namedErrReader{name: name, r: zr}, closers: []io.Closer{zr, f}}, nil
	}
	return &readCloser{Reader: br, closers: []io.Closer{f}}, nil
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

// OpenCounting is Open with the raw bytes read added to c.
func OpenCounting(name string, stdin io.Reader, c *Counter) (io.ReadCloser, error) {
	if name == Stdin {
		return decompress(name, &countingReader{io.NopCloser(stdin), c})
	}
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	return decompress(name, &countingReader{f, c})
}
