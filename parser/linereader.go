package parser

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLine is the longest line LineReader keeps; the rest of a longer
// line is dropped and the line is marked cut. nginx never writes more than
// 2048 bytes and Apache 8192, so anything near this is not a log line.
const DefaultMaxLine = 1 << 20

// LineReader splits a stream into lines. Unlike bufio.Scanner it never
// fails on a long line: it keeps the first max bytes, drops the rest and
// says so. It strips the "\r" of CRLF endings and returns a last line that
// has no newline.
type LineReader struct {
	r      *bufio.Reader
	max    int
	buf    []byte
	offset int64 // offset of the next line
	lineNo int
	err    error // sticky: returned once the lines before it are out
}

// NewLineReader returns a LineReader with a 64 KiB buffer and lines capped
// at max bytes (DefaultMaxLine when max <= 0).
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Line is one physical line. Text is valid until the next call to Next.
type Line struct {
	Text   []byte
	Offset int64 // byte offset of the line's first byte
	Number int   // 1-based line number
	Cut    bool  // the line was longer than the cap; its tail was dropped
}

// Next returns the next line. At the end of the stream it returns io.EOF;
// a read error is returned after the lines before it.
func (lr *LineReader) Next() (Line, error) {
	if lr.err != nil {
		return Line{}, lr.err
	}
	start := lr.offset
	lr.buf = lr.buf[:0]
	cut := false
	var n int64
	for {
		chunk, err := lr.r.ReadSlice('\n')
		n += int64(len(chunk))
		chunk = bytes.TrimSuffix(chunk, []byte("\n"))
		if room := lr.max - len(lr.buf); len(chunk) > room {
			chunk = chunk[:max(room, 0)]
			cut = true
		}
		lr.buf = append(lr.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			lr.err = err
			if n == 0 {
				return Line{}, err
			}
		}
		lr.offset += n
		lr.lineNo++
		text := bytes.TrimSuffix(lr.buf, []byte("\r"))
		return Line{Text: text, Offset: start, Number: lr.lineNo, Cut: cut}, nil
	}
}

// Offset returns the offset just past the last line returned.
func (lr *LineReader) Offset() int64 { return lr.offset }
