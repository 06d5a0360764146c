package parser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readLines(t *testing.T, r io.Reader, max int) ([]Line, error) {
	t.Helper()
	lr := NewLineReader(r, max)
	var out []Line
	for {
		l, err := lr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		l.Text = append([]byte(nil), l.Text...)
		out = append(out, l)
	}
}

// ignoreExt leaves out where a line lies in the reader's block.
var ignoreExt = cmpopts.IgnoreUnexported(Line{})

func TestLineReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []Line
	}{
		{"empty", "", 0, nil},
		{"final line without newline", "a\nb", 0, []Line{{Text: []byte("a"), Number: 1}, {Text: []byte("b"), Offset: 2, Number: 2}}},
		{"crlf", "a\r\nb\r\n", 0, []Line{{Text: []byte("a"), Number: 1}, {Text: []byte("b"), Offset: 3, Number: 2}}},
		{"blank lines", "\n\nx\n", 0, []Line{{Number: 1}, {Offset: 1, Number: 2}, {Text: []byte("x"), Offset: 2, Number: 3}}},
		{"cut", "abcdefgh\nxy\n", 4, []Line{{Text: []byte("abcd"), Number: 1, Cut: true}, {Text: []byte("xy"), Offset: 9, Number: 2}}},
		{"exactly the cap", "abcd\n", 4, []Line{{Text: []byte("abcd"), Number: 1}}},
		{"nul and invalid utf-8 kept", "a\x00b\xff\n", 0, []Line{{Text: []byte("a\x00b\xff"), Number: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLines(t, strings.NewReader(tt.in), tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreExt); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

// A line far longer than bufio's buffer (which kills bufio.Scanner) is cut
// at the cap, counted, and the next line is intact.
func TestLineReaderHugeLine(t *testing.T) {
	in := strings.Repeat("x", 10<<20) + "\nnext\n"
	got, err := readLines(t, iotest.HalfReader(strings.NewReader(in)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Text) != 1<<20 || !got[0].Cut || string(got[1].Text) != "next" || got[1].Offset != 10<<20+1 {
		t.Fatalf("got %d lines, first %d bytes cut=%v", len(got), len(got[0].Text), got[0].Cut)
	}
}

// A read error after some lines: the lines come first, then the error.
func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("one\ntwo"), iotest.ErrReader(boom))
	got, err := readLines(t, r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if len(got) != 2 || string(got[1].Text) != "two" {
		t.Fatalf("lines before the error: %d", len(got))
	}
}

// Lines are returned whole whatever the reads and the block boundaries,
// and their text is never changed by the reads after them.
func TestLineReaderKeepsText(t *testing.T) {
	var in strings.Builder
	var want []string
	for i := range 5000 {
		// Lengths from 0 to beyond a block, so that lines straddle block
		// ends and some need a bigger block.
		n := (i * 7919) % (BlockSize / 3)
		if i%500 == 0 {
			n = 3 * BlockSize
		}
		line := strings.Repeat(string(rune('a'+i%26)), n)
		if i%3 == 0 {
			line += "\r"
		}
		in.WriteString(line + "\n")
		want = append(want, strings.TrimSuffix(line, "\r"))
	}
	for _, r := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{{"whole", func(r io.Reader) io.Reader { return r }}, {"one byte", iotest.OneByteReader}, {"half", iotest.HalfReader}, {"data and EOF", iotest.DataErrReader}} {
		t.Run(r.name, func(t *testing.T) {
			lr := NewLineReader(r.r(strings.NewReader(in.String())), 0)
			var lines []Line
			for {
				l, err := lr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if cap(l.Text) != len(l.Text) {
					t.Fatalf("line %d: text has room to append into the block", l.Number)
				}
				lines = append(lines, l)
			}
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d", len(lines), len(want))
			}
			var offset int64
			for i, l := range lines {
				if string(l.Text) != want[i] || l.Offset != offset || l.Number != i+1 || l.Cut {
					t.Fatalf("line %d: %d bytes at %d (cut %v), want %d bytes at %d", i+1, len(l.Text), l.Offset, l.Cut, len(want[i]), offset)
				}
				offset += int64(len(want[i])) + 1
				if i%3 == 0 {
					offset++
				}
			}
		})
	}
}

// Cut lines in a row, with the dropped tails longer than a block, and a
// cut last line without a newline.
func TestLineReaderCuts(t *testing.T) {
	long := strings.Repeat("x", 5*BlockSize)
	in := long + "\n" + long + "\nshort\n" + long
	got, err := readLines(t, iotest.HalfReader(strings.NewReader(in)), 10)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(long)) + 1
	want := []Line{
		{Text: []byte("xxxxxxxxxx"), Number: 1, Cut: true},
		{Text: []byte("xxxxxxxxxx"), Offset: n, Number: 2, Cut: true},
		{Text: []byte("short"), Offset: 2 * n, Number: 3},
		{Text: []byte("xxxxxxxxxx"), Offset: 2*n + 6, Number: 4, Cut: true},
	}
	if diff := cmp.Diff(want, got, ignoreExt); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// A reader that returns nothing, forever, is an error rather than a hang.
func TestLineReaderNoProgress(t *testing.T) {
	_, err := readLines(t, emptyReader{}, 0)
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// dirtyBlocks lends blocks full of line ends, as blocks read into before
// are, and remembers them.
type dirtyBlocks struct{ lent [][]byte }

func (d *dirtyBlocks) get() []byte {
	b := make([]byte, BlockSize)
	for i := range b {
		b[i] = "\n\r\nx"[i%4]
	}
	d.lent = append(d.lent, b)
	return b
}

// holds reports whether text lies in one of the lent blocks.
func (d *dirtyBlocks) holds(text []byte) bool {
	if len(text) == 0 {
		return true
	}
	for _, b := range d.lent {
		start, end := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[len(b)-1]))
		if p := uintptr(unsafe.Pointer(&text[0])); p >= start && p+uintptr(len(text))-1 <= end {
			return true
		}
	}
	return false
}

// A reader given blocks that were read into before reads the same lines
// as one that makes its own: it never looks past what it read into a
// block. Most lines lie in the lent blocks; a line longer than a block
// gets a larger one of its own, which the lines after it share.
func TestLineReaderLentBlocks(t *testing.T) {
	var in strings.Builder
	for i := range 2000 {
		n := (i * 7919) % (BlockSize / 8)
		if i%700 == 0 {
			n = 2 * BlockSize
		}
		in.WriteString(strings.Repeat(string(rune('a'+i%26)), n))
		if i%3 == 0 {
			in.WriteString("\r")
		}
		in.WriteString("\n")
	}
	in.WriteString("last line, no newline")
	for _, max := range []int{0, 1000} {
		for _, r := range []struct {
			name string
			r    func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"half", iotest.HalfReader}} {
			t.Run(fmt.Sprintf("%s/%d", r.name, max), func(t *testing.T) {
				want, err := readLines(t, r.r(strings.NewReader(in.String())), max)
				if err != nil {
					t.Fatal(err)
				}
				d := &dirtyBlocks{}
				lr := NewLineReader(r.r(strings.NewReader(in.String())), max)
				lr.SetBlock(d.get)
				var got []Line
				inBlocks := 0
				for {
					l, err := lr.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if d.holds(l.Text) {
						inBlocks++
					}
					l.Text = append([]byte(nil), l.Text...)
					got = append(got, l)
				}
				// Not cmp.Diff: it takes seconds over megabytes of lines.
				if len(got) != len(want) {
					t.Fatalf("%d lines, want %d", len(got), len(want))
				}
				for i, w := range want {
					if g := got[i]; !bytes.Equal(g.Text, w.Text) || g.Offset != w.Offset || g.Number != w.Number || g.Cut != w.Cut {
						t.Fatalf("line %d: %d bytes at %d (cut %v), want %d bytes at %d (cut %v)", w.Number, len(g.Text), g.Offset, g.Cut, len(w.Text), w.Offset, w.Cut)
					}
				}
				if inBlocks < len(got)*3/4 || len(d.lent) < 10 {
					t.Errorf("%d of %d lines in %d lent blocks", inBlocks, len(got), len(d.lent))
				}
			})
		}
	}
}

// Scan reads into the blocks Options.Block lends: the records' text
// lies in them.
func TestScanLentBlocks(t *testing.T) {
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "2026/11/21 10:00:%02d [error] 1#1: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: a\n", i%60, i)
	}
	d := &dirtyBlocks{}
	var want, got []string
	Scan(strings.NewReader(in.String()), Options{Location: time.UTC}, func(e *Entry) { want = append(want, e.Raw) })
	Scan(strings.NewReader(in.String()), Options{Location: time.UTC, Block: d.get}, func(e *Entry) {
		if !d.holds(unsafe.Slice(unsafe.StringData(e.Raw), len(e.Raw))) {
			t.Fatalf("record at line %d is not in a lent block", e.Line)
		}
		got = append(got, strings.Clone(e.Raw))
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-own blocks +lent blocks):\n%s", diff)
	}
	if len(d.lent) < 5 {
		t.Errorf("%d blocks lent", len(d.lent))
	}
}

// Scan builds each record in the Entry Options.Entry gives, and emit
// gets that one.
func TestScanIntoGivenEntries(t *testing.T) {
	log := "2026/11/21 10:00:00 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: a\n" +
		"a line of no known shape\n" +
		"2026/11/21 10:00:01 [error] 1#1: *2 FastCGI sent in stderr: \"PHP message: x\nPHP Stack trace:\" while reading response header from upstream, client: 10.0.0.2, server: a\n"
	var want []Entry
	Scan(strings.NewReader(log), Options{Location: time.UTC}, func(e *Entry) { want = append(want, *e) })
	places := make([]Entry, 0, 10)
	var got []Entry
	Scan(strings.NewReader(log), Options{Location: time.UTC, Entry: func() *Entry {
		places = append(places, Entry{Message: "stale"})
		return &places[len(places)-1]
	}}, func(e *Entry) {
		if e != &places[len(places)-1] {
			t.Fatalf("record at line %d is not in the place given", e.Line)
		}
		got = append(got, *e)
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-own entry +given entries):\n%s", diff)
	}
	if len(got) < 2 {
		t.Errorf("%d records", len(got))
	}
}
