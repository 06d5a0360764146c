package parser

import (
	"bytes"
	"io"
)

// DefaultMaxLine is the longest line LineReader keeps; the rest of a longer
// line is dropped and the line is marked cut. nginx never writes more than
// 2048 bytes and Apache 8192, so anything near this is not a log line.
const DefaultMaxLine = 1 << 20

// BlockSize is the size of the blocks LineReader reads into (a line too
// long for one gets a larger block of its own), and minRead the least
// room in a block worth a read: a block with less is left for a new one.
const (
	BlockSize = 64 << 10
	minRead   = 2 << 10
)

// LineReader splits a stream into lines. Unlike bufio.Scanner it never
// fails on a long line: it keeps the first max bytes, drops the rest and
// says so. It strips the "\r" of CRLF endings and returns a last line that
// has no newline.
//
// It reads into blocks of memory that it never writes again once a line
// in them was returned (a line that runs past the end of a block is moved
// to a new one before it is returned), so the text of a Line stays
// unchanged after later calls. Scan relies on that to give records that
// share the block instead of copying each one; a caller must not write
// into a Line's text.
type LineReader struct {
	r     io.Reader
	max   int
	block []byte // block[next:fill] is read and not yet returned
	next  int
	fill  int
	// clean is how many bytes from next on are known to hold no newline:
	// a line that comes in many short reads is searched once, not again
	// from its start after each read.
	clean  int
	offset int64 // offset of the next line
	lineNo int
	err    error         // sticky: returned once the lines before it are out
	get    func() []byte // lends blocks of BlockSize; nil: make them
}

// SetBlock makes the reader take its blocks of BlockSize bytes from get
// instead of allocating them: a block that is not new need not be
// zeroed, and no garbage is left for the collector. The reader never
// reads a block's bytes beyond those it read into it. The text of the
// lines returned lies in those blocks, so it stays unchanged only as
// long as get's owner does not lend a block again. A nil get restores
// allocation.
func (lr *LineReader) SetBlock(get func() []byte) { lr.get = get }

// newBlock returns an empty block of size bytes.
func (lr *LineReader) newBlock(size int) []byte {
	if size == BlockSize && lr.get != nil {
		if b := lr.get(); len(b) >= BlockSize {
			return b[:BlockSize:BlockSize]
		}
	}
	return make([]byte, size)
}

// NewLineReader returns a LineReader with lines capped at max bytes
// (DefaultMaxLine when max <= 0).
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: r, max: max}
}

// Line is one physical line. Text is not changed by later calls to Next
// of the LineReader that returned it.
type Line struct {
	Text   []byte
	Offset int64 // byte offset of the line's first byte
	Number int   // 1-based number of the line
	Cut    bool  // the line was longer than the cap; its tail was dropped

	// ext runs from the line's first byte to the end of its LineReader's
	// block; nil for a line from elsewhere. Scan uses it to see that the
	// lines of a record lie one after the other in one block.
	ext []byte
}

// Next returns the next line. At the end of the stream it returns io.EOF;
// a read error is returned after the lines before it.
func (lr *LineReader) Next() (Line, error) {
	for {
		if i := bytes.IndexByte(lr.block[lr.next+lr.clean:lr.fill], '\n'); i >= 0 && lr.clean+i <= lr.max {
			i += lr.clean
			lr.clean = 0
			text := lr.block[lr.next : lr.next+i]
			lr.next += i + 1
			return lr.line(text, int64(i+1), false), nil
		}
		unread := lr.fill - lr.next
		if unread > lr.max {
			lr.clean = 0
			return lr.cut(), nil
		}
		if lr.err != nil {
			if unread == 0 {
				return Line{}, lr.err
			}
			lr.clean = 0
			text := lr.block[lr.next:lr.fill]
			lr.next = lr.fill
			return lr.line(text, int64(unread), false), nil
		}
		lr.clean = unread // read moves the unread bytes, but not from next
		lr.read()
	}
}

// read reads more of the stream after the unread bytes, first moving
// them to a new block when the current one has too little room left.
func (lr *LineReader) read() {
	if len(lr.block)-lr.fill < minRead {
		unread := lr.fill - lr.next
		size := BlockSize
		for size < 2*unread+minRead {
			size *= 2
		}
		block := lr.newBlock(size)
		copy(block, lr.block[lr.next:lr.fill])
		lr.block, lr.next, lr.fill = block, 0, unread
	}
	lr.fill += lr.readAt(lr.fill)
}

// readAt reads into the block from i on and returns how many bytes came.
// A reader that keeps returning nothing is an error, as in bufio.
func (lr *LineReader) readAt(i int) int {
	for range 100 {
		n, err := lr.r.Read(lr.block[i:])
		if err != nil {
			lr.err = err
		}
		if n > 0 || err != nil {
			return n
		}
	}
	lr.err = io.ErrNoProgress
	return 0
}

// cut returns the first max bytes of the line at next, which is longer,
// and drops the rest of it up to and including its newline.
func (lr *LineReader) cut() Line {
	text := lr.block[lr.next : lr.next+lr.max]
	n := int64(lr.max)
	lr.next += lr.max
	for {
		if i := bytes.IndexByte(lr.block[lr.next:lr.fill], '\n'); i >= 0 {
			n += int64(i + 1)
			lr.next += i + 1
			break
		}
		n += int64(lr.fill - lr.next)
		if lr.err != nil {
			lr.next = lr.fill
			break
		}
		// What is dropped was never returned: read over it, in this block
		// after the kept text, or in a new one.
		lr.fill = lr.next
		if len(lr.block)-lr.fill < minRead {
			lr.block, lr.next, lr.fill = lr.newBlock(BlockSize), 0, 0
		}
		lr.fill += lr.readAt(lr.fill)
	}
	return lr.line(text, n, true)
}

// line returns a line of n bytes in the stream (its newline and any
// dropped tail included), with its "\r" stripped.
func (lr *LineReader) line(text []byte, n int64, cut bool) Line {
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1] // not bytes.TrimSuffix: a call per line shows
	}
	l := Line{Text: text[:len(text):len(text)], Offset: lr.offset, Number: lr.lineNo + 1, Cut: cut}
	if cap(text) > 0 { // an empty line too: its newline is in the block
		l.ext = text[:cap(text)]
	}
	lr.offset += n
	lr.lineNo++
	return l
}
