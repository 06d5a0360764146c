package parser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// feedCopies parses data the way a follower does: line by line through
// Feed, each line in a buffer of its own that is reused right after, so
// that every record is built by copying.
func feedCopies(t testing.TB, data []byte, opt Options) ([]Entry, Stats) {
	t.Helper()
	p := New(opt)
	lr := NewLineReader(bytes.NewReader(data), 0)
	var out []Entry
	emit := func(e *Entry) { out = append(out, *e) }
	var buf []byte
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf[:0], l.Text...)
		p.Feed(Line{Text: buf, Offset: l.Offset, Number: l.Number, Cut: l.Cut}, emit)
		for i := range buf {
			buf[i] = '#' // the record must not have kept the line
		}
	}
	p.Flush(emit)
	return out, p.Stats()
}

// scanEntries parses data with Scan, whose records share the reader's
// blocks, from a reader that gives it few bytes at a time.
func scanEntries(t testing.TB, data []byte, opt Options, r func(io.Reader) io.Reader) ([]Entry, Stats) {
	t.Helper()
	var out []Entry
	st, err := Scan(r(bytes.NewReader(data)), opt, func(e *Entry) { out = append(out, *e) })
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

// sameAsFeed checks that Scan gives the same records and counts as
// feeding copies of the lines.
func sameAsFeed(t *testing.T, data []byte, opt Options) {
	t.Helper()
	want, wantSt := feedCopies(t, data, opt)
	for _, r := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{{"whole", func(r io.Reader) io.Reader { return r }}, {"half", iotest.HalfReader}} {
		got, gotSt := scanEntries(t, data, opt, r.r)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s reads: Scan differs from Feed (-want +got):\n%s", r.name, diff)
		}
		if diff := cmp.Diff(wantSt, gotSt); diff != "" {
			t.Fatalf("%s reads: Scan stats differ from Feed (-want +got):\n%s", r.name, diff)
		}
	}
}

// tricky turns a log into one with what makes records hard to assemble:
// CRLF endings, blank and space-only lines inside records, stack-trace
// lines, lines of no format, and very long lines.
func tricky(data []byte, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		switch rng.IntN(20) {
		case 0:
			b.WriteString("\n")
		case 1:
			b.WriteString("  \t\n")
		case 2:
			fmt.Fprintf(&b, "#%d /srv/www/app.php(%d): f()\n", rng.IntN(9), rng.IntN(99))
		case 3:
			l = bytes.Replace(l, []byte("\n"), []byte("\r\n"), 1)
		case 4:
			b.WriteString("garbage that no format knows\n")
		case 5:
			l = bytes.Replace(l, []byte("\n"), []byte(" "+strings.Repeat("y", 40000)+"\n"), 1)
		}
		b.Write(l)
	}
	return b.Bytes()
}

func TestScanMatchesFeed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*", "*.log"))
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus files: %d, %v", len(files), err)
	}
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Join("..", "testdata", "corpus"), name)
		for _, maxRecord := range []int{0, 300} {
			t.Run(fmt.Sprintf("%s/max%d", rel, maxRecord), func(t *testing.T) {
				opt := Options{File: rel, Location: time.UTC, MaxRecord: maxRecord}
				sameAsFeed(t, data, opt)
				sameAsFeed(t, tricky(data, uint64(i)), opt)
				sameAsFeed(t, bytes.TrimSuffix(data, []byte("\n")), opt)
			})
		}
	}
}

// Records from Scan share the blocks they were read into; the samples of
// unparsed lines are copies, not a hold on a block.
func TestScanSharesBlocks(t *testing.T) {
	text := "no format knows this line\n" +
		"2024/01/15 10:00:00 [error] 1#1: *1 one, client: 10.0.0.1, server: a\n" +
		"2024/01/15 10:00:01 [error] 1#1: *2 two, client: 10.0.0.2, server: a\n"
	var raws []string
	st, err := Scan(strings.NewReader(text), Options{Location: time.UTC}, func(e *Entry) { raws = append(raws, e.Raw) })
	if err != nil || len(raws) != 3 || len(st.UnparsedSamples) != 1 {
		t.Fatalf("%d records, %d samples, %v", len(raws), len(st.UnparsedSamples), err)
	}
	first := uintptr(unsafe.Pointer(unsafe.StringData(raws[1])))
	if second := uintptr(unsafe.Pointer(unsafe.StringData(raws[2]))); second != first+uintptr(len(raws[1])+1) {
		t.Errorf("the second record is not next to the first in the block: %#x, %#x", first, second)
	}
	if unsafe.StringData(st.UnparsedSamples[0]) == unsafe.StringData(raws[0]) {
		t.Error("the unparsed sample is the record's own text, not a copy")
	}
	if n := testing.AllocsPerRun(10, func() { Scan(strings.NewReader(text), Options{Location: time.UTC}, func(*Entry) {}) }); n > 5 {
		t.Errorf("Scan of 3 lines: %v allocations, want a handful per call, none per record", n)
	}
}

// A php-fpm slowlog record ends with the blank line that separates it
// from the next: folding that line in still shares the block, so many
// records cost no more allocations than one.
func TestScanSlowlogSharesBlocks(t *testing.T) {
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, "\n[21-Nov-2026 10:00:%02d]  [pool www] pid %d\nscript_filename = /var/www/slow.php\n[0x00007f0000000001] sleep() /var/www/slow.php:3\n[0x00007f0000000002] {main}() /var/www/slow.php:0\n", i, 1000+i)
	}
	text := b.String()
	records := 0
	Scan(strings.NewReader(text), Options{Location: time.UTC}, func(e *Entry) {
		if e.Format == FormatFPMSlow && !e.Unparsed {
			records++
		}
	})
	if records != 20 {
		t.Fatalf("%d slowlog records, want 20", records)
	}
	if n := testing.AllocsPerRun(10, func() { Scan(strings.NewReader(text), Options{Location: time.UTC}, func(*Entry) {}) }); n > 5 {
		t.Errorf("Scan of 20 slowlog records: %v allocations, want a handful per call, none per record", n)
	}
}
