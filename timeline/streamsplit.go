package timeline

import (
	"bytes"
	"errors"
	"io"
	"slices"

	"github.com/logtriage/logtriage/parser"
)

// streamCutter cuts a stream that can only be read in order: each part is
// read into a buffer of its own, about partSize bytes and then on to the
// end of the first line after them that starts a record. That line and
// what was read after it begin the next part. The buffers are recycled,
// so the memory held is that of the parts in flight.
type streamCutter struct {
	r     io.Reader
	probe *parser.Parser // nil: the format was not detected in the head,
	// and the stream is not cut
	detected int64       // the end of the line the format was detected on
	bufs     chan []byte // emptied buffers
	pending  []byte      // read and not yet in a part: the next one's start
	at       int64       // the offset of pending in the stream
	err      error       // the error that ended the stream, io.EOF included
	over     bool        // the last part was cut
}

func (c *streamCutter) next() (span, bool) {
	if c.over {
		return span{}, false
	}
	buf, start := c.pending, c.at
	c.pending = nil
	if c.probe == nil {
		c.over = true
		return span{r: c.rest(buf), start: start, buf: buf}, true
	}
	// Cut at the first line that starts a record among those that start
	// at or after from: the first begins after the first newline at or
	// after from-1. line is the start of the line whose newline is looked
	// for, known once the first newline is found (-1 before), and buf has
	// no newline from line up to seen.
	from := int(max(partSize, c.detected-start))
	line, seen := -1, from-1
	for {
		for seen < len(buf) {
			i := bytes.IndexByte(buf[seen:], '\n')
			if i < 0 {
				seen = len(buf)
				break
			}
			nl := seen + i
			if line >= 0 && c.probe.StartsRecord(bytes.TrimSuffix(buf[line:nl], []byte("\r"))) {
				c.pending = append(c.buffer(), buf[line:]...)
				c.at = start + int64(line)
				return span{r: bytes.NewReader(buf[:line]), start: start, buf: buf}, true
			}
			line, seen = nl+1, nl+1
		}
		if c.err != nil || len(buf) >= from+cutSearch {
			// The stream ended, or has no record start near enough to
			// cut at: what is left of it is the last part.
			c.over = true
			return span{r: c.rest(buf), start: start, buf: buf}, true
		}
		buf = c.read(buf)
	}
}

// rest returns a reader of buf and then of what is left of the stream,
// which ends as the stream does.
func (c *streamCutter) rest(buf []byte) io.Reader {
	r := bytes.NewReader(buf)
	switch {
	case c.err == nil:
		return io.MultiReader(r, c.r)
	case errors.Is(c.err, io.EOF):
		return r
	default:
		return io.MultiReader(r, errReader{c.err})
	}
}

// read appends to buf what the stream has next, growing buf when it is
// full, and keeps the error that ends the stream. A stream that keeps
// returning nothing is an error, as in bufio.
func (c *streamCutter) read(buf []byte) []byte {
	if len(buf) == cap(buf) {
		buf = slices.Grow(buf, len(buf))
	}
	for range 100 {
		n, err := c.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			c.err = err
		}
		if n > 0 || err != nil {
			return buf
		}
	}
	c.err = io.ErrNoProgress
	return buf
}

// bufLen is the size of a part's buffer: room for the first part, which
// holds the head the format is detected in, and, mostly, for the line
// that ends a part.
func bufLen() int { return int(max(partSize, probeLen) + partSize/4) }

// buffer returns an empty buffer for a part, a recycled one if there is
// one.
func (c *streamCutter) buffer() []byte {
	select {
	case b := <-c.bufs:
		return b[:0]
	default:
		return make([]byte, 0, bufLen())
	}
}

// release recycles the span's buffer, unless it grew (a part ending in a
// long line, or after a long stretch without a record start): a few such
// parts should not hold large buffers for the rest of the stream.
func (c *streamCutter) release(sp span) {
	if sp.buf == nil || cap(sp.buf) > bufLen() {
		return
	}
	select {
	case c.bufs <- sp.buf:
	default: // not reached: bufs has room for every buffer of the input
	}
}

// errReader returns err on every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
