package timeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/source"
)

// splitLogs are logs with every kind of line a cut could go wrong on:
// records of several lines, blank lines, CRLF endings, records without
// time (bare headers, lines of no known shape), lines longer than the
// window a cut is looked for in, and lines before the format is known.
func splitLogs() map[string]string {
	hms := func(i int) string { return fmt.Sprintf("%02d:%02d:%02d", 10+i/3600, i/60%60, i%60) }
	var nginx, fpm strings.Builder
	nginx.WriteString("a line of no known shape before the first record\n")
	nginx.WriteString("nginx: [warn] a bare header before the format is known\n\n")
	fpm.WriteString("NOTICE: a bare line before the format is known\n")
	for i := range 400 {
		nginx.WriteString(nginxLine(hms(i), fmt.Sprintf("FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Exception: %d in /var/www/a.php:3", i)))
		nginx.WriteString("PHP Stack trace:\nPHP   1. {main}() /var/www/a.php:0\n")
		if i%3 == 0 {
			nginx.WriteString("\n")
		}
		if i%5 == 0 {
			nginx.WriteString(strings.TrimSuffix(nginxLine(hms(i), "connect() failed (111: Connection refused) while connecting to upstream"), "\n") + "\r\n")
		}
		if i%7 == 0 {
			nginx.WriteString("nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\n")
			nginx.WriteString("nginx: [emerg] still could not bind()\n")
		}
		if i%11 == 0 {
			nginx.WriteString("a line of no known shape\n")
		}
		if i%37 == 0 {
			nginx.WriteString(nginxLine(hms(i), "upstream sent too big header "+strings.Repeat("x", probeLen+100)))
			nginx.WriteString(strings.Repeat("y", probeLen/2) + "\n")
		}
		fpm.WriteString(fpmLine(hms(i), fmt.Sprintf("server reached pm.max_children setting (%d), consider raising it", i)))
		if i%4 == 0 {
			fmt.Fprintf(&fpm, "\n[21-Nov-2026 %s]  [pool www] pid %d\nscript_filename = /var/www/slow.php\n[0x00007f0000000001] sleep() /var/www/slow.php:3\n[0x00007f0000000002] {main}() /var/www/slow.php:0\n", hms(i), 1000+i)
		}
		if i%9 == 0 {
			fmt.Fprintf(&fpm, "NOTICE: [pool www] child %d started\n", 2000+i)
		}
	}
	return map[string]string{"nginx": nginx.String(), "fpm": fpm.String()}
}

// TestSplitMatchesScan cuts files into parts of several sizes and wants
// the records, as prepare and emit see them, and the counts that one
// Scan of the whole file gives.
func TestSplitMatchesScan(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	logs := splitLogs()
	logs["no record starts"] = strings.Repeat("PHP   1. {main}() /var/www/a.php:0\n", 2000)
	for name, log := range logs {
		for _, size := range []int64{64, 500, 4096, 256 << 10} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				defer func(old int64) { partSize = old }(partSize)
				partSize = size
				path := filepath.Join(t.TempDir(), "error.log")
				if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
					t.Fatal(err)
				}
				opt := parser.Options{File: path, Location: time.UTC}

				var want []parser.Entry
				wantStats, err := parser.Scan(strings.NewReader(log), opt, func(e *parser.Entry) { want = append(want, *e) })
				if err != nil {
					t.Fatal(err)
				}

				// The file is cut when it is at least two parts long and
				// its format shows in its first 16 KiB.
				rc, err := source.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				cut := newSplitter(rc, opt) != nil
				rc.Close()
				if wantCut := int64(len(log)) >= 2*size && name != "no record starts"; cut != wantCut {
					t.Fatalf("cut %v, want %v", cut, wantCut)
				}

				got, res := mergeFile(t, path, opt)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				sameScan(t, want, got, wantStats, res.Stats)
			})
		}
	}
}

// failingFile is a file whose reads fail from an offset on: a disk error
// cannot be had on demand from a real file.
type failingFile struct {
	data   []byte
	failAt int64
	failTo int64     // reads from here on succeed again; 0: none do
	r      io.Reader // in order, for a file not cut
}

var errDisk = errors.New("input/output error")

func (f *failingFile) ReadAt(p []byte, off int64) (int, error) {
	if f.failTo > 0 && off >= f.failTo {
		n := copy(p, f.data[min(off, int64(len(f.data))):])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	if off >= f.failAt {
		return 0, errDisk
	}
	n := copy(p, f.data[off:min(int64(len(f.data)), f.failAt)])
	if n < len(p) {
		return n, errDisk
	}
	return n, nil
}

func (f *failingFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *failingFile) Close() error               { return nil }
func (f *failingFile) Size() int64                { return int64(len(f.data)) }

// failingInput is error.log holding log, read from a failingFile, with
// the records and counts one Scan of that file gives, which ends in
// errDisk.
func failingInput(t *testing.T, log string, failAt, failTo int64) (Input, []parser.Entry, parser.Stats) {
	t.Helper()
	f := &failingFile{data: []byte(log), failAt: failAt, failTo: failTo}
	f.r = io.NewSectionReader(f, 0, f.Size())
	opt := parser.Options{File: "error.log", Location: time.UTC}
	var want []parser.Entry
	stats, err := parser.Scan(io.NewSectionReader(f, 0, f.Size()), opt, func(e *parser.Entry) { want = append(want, *e) })
	if !errors.Is(err, errDisk) {
		t.Fatalf("Scan: %v, want %v", err, errDisk)
	}
	return Input{Name: "error.log", Open: func() (io.ReadCloser, error) { return f, nil }, Options: opt}, want, stats
}

// TestSplitReadError wants the records before a read error and none
// after, as Scan gives them, however the file is cut.
func TestSplitReadError(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	log := splitLogs()["nginx"]
	// The disk fails from an offset on, or over a few bytes only: the
	// parts after those are read, and dropped.
	for _, fail := range [][2]int64{{int64(len(log)) / 3, 0}, {int64(len(log)) * 2 / 3, 0}, {int64(len(log)) / 4, int64(len(log))/4 + 10}} {
		failAt := fail[0]
		for _, size := range []int64{64, 500, 4096} {
			t.Run(fmt.Sprintf("%d-%d/%d", failAt, fail[1], size), func(t *testing.T) {
				defer func(old int64) { partSize = old }(partSize)
				partSize = size
				in, want, wantStats := failingInput(t, log, failAt, fail[1])
				var got []parser.Entry
				res := Merge(t.Context(), []Input{in}, func(e *parser.Entry) { got = append(got, *e) })
				if !errors.Is(res[0].Err, errDisk) {
					t.Errorf("Err %v, want %v", res[0].Err, errDisk)
				}
				sameScan(t, want, got, wantStats, res[0].Stats)
			})
		}
	}
}

// TestSplitFileGrows wants the lines written to a file after it was
// opened, as a read in order gets them: the last part runs to the end.
func TestSplitFileGrows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(old int64) { partSize = old }(partSize)
	partSize = 500
	log := splitLogs()["fpm"]
	path := filepath.Join(t.TempDir(), "php-fpm.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	more := fpmLine("23:00:00", "written after the open")
	in := Input{Name: path, Options: parser.Options{Location: time.UTC}, Open: func() (io.ReadCloser, error) {
		rc, err := source.Open(path, nil)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			rc.Close()
			return nil, err
		}
		defer f.Close()
		_, err = f.WriteString(more)
		return rc, err
	}}
	var last string
	res := Merge(t.Context(), []Input{in}, func(e *parser.Entry) { last = e.Raw })
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if want := strings.TrimSuffix(more, "\n"); last != want {
		t.Errorf("last record %q, want %q", last, want)
	}
	if want := int64(bytes.Count([]byte(log+more), []byte("\n"))); res[0].Stats.Lines != want {
		t.Errorf("%d lines, want %d", res[0].Stats.Lines, want)
	}
}

// TestSplitCancel cancels the merge of a file being cut and wants it to
// return, with no record after the cancellation.
func TestSplitCancel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(old int64) { partSize = old }(partSize)
	partSize = 500
	path := filepath.Join(t.TempDir(), "error.log")
	if err := os.WriteFile(path, []byte(splitLogs()["nginx"]), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := Input{Name: path, Open: func() (io.ReadCloser, error) { return source.Open(path, nil) }, Options: parser.Options{Location: time.UTC}}
	n := 0
	res := Merge(ctx, []Input{in}, func(*parser.Entry) {
		n++
		if n == 10 {
			cancel()
		}
	})
	if n != 10 {
		t.Errorf("%d records, want 10", n)
	}
	if !errors.Is(res[0].Err, context.Canceled) {
		t.Errorf("Err %v, want %v", res[0].Err, context.Canceled)
	}
}

// watchedFile is a plain log that notes when it is first and last read
// at offsets (cut into parts), on a clock shared by the inputs of one
// merge.
type watchedFile struct {
	*os.File
	size            int64
	clock           *atomic.Int64
	firstAt, lastAt atomic.Int64 // ticks; 0: never read at an offset
}

func (w *watchedFile) ReadAt(p []byte, off int64) (int, error) {
	w.firstAt.CompareAndSwap(0, w.clock.Add(1))
	n, err := w.File.ReadAt(p, off)
	w.lastAt.Store(w.clock.Add(1))
	return n, err
}

func (w *watchedFile) Size() int64 { return w.size }

// TestSplitInputsAtOnce merges more large logs than may be cut at the
// same time: no more than splitInputs are read in parts at once, at
// least one is, and every input's records come out whole.
func TestSplitInputsAtOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(old int64) { partSize = old }(partSize)
	partSize = 2048
	log := splitLogs()["nginx"]
	var clock atomic.Int64
	var mu sync.Mutex
	var files []*watchedFile
	var ins []Input
	const inputs = 6
	if splitInputs >= inputs {
		t.Fatalf("splitInputs is %d: the test needs more inputs than that", splitInputs)
	}
	for i := range inputs {
		path := writeFile(t, fmt.Sprintf("error.log.%d", i), []byte(log))
		ins = append(ins, Input{Name: path, Open: func() (io.ReadCloser, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			w := &watchedFile{File: f, size: int64(len(log)), clock: &clock}
			mu.Lock()
			files = append(files, w)
			mu.Unlock()
			return w, nil
		}})
	}
	counts := map[string]int{}
	res := Merge(t.Context(), ins, func(e *parser.Entry) { counts[e.File]++ })
	want, _, err := scanWhole(t, ins[0].Name, parser.Options{File: ins[0].Name})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || counts[ins[i].Name] != len(want) {
			t.Errorf("%s: %d records, %v; want %d", ins[i].Name, counts[ins[i].Name], r.Err, len(want))
		}
	}
	cut, most := 0, 0
	for _, f := range files {
		if f.firstAt.Load() == 0 {
			continue
		}
		cut++
		at := 0 // inputs being cut when f began to be
		for _, g := range files {
			if g.firstAt.Load() != 0 && g.firstAt.Load() <= f.firstAt.Load() && f.firstAt.Load() <= g.lastAt.Load() {
				at++
			}
		}
		most = max(most, at)
	}
	if cut == 0 || most > splitInputs {
		t.Errorf("%d of %d inputs cut, at most %d at once; want some, at most %d at once", cut, len(files), most, splitInputs)
	}
	t.Logf("%d of %d inputs cut, at most %d at once", cut, len(files), most)
}

// TestSplitReadErrorLongParts: after a part fails, the parts after it
// are still parsed, each to the end, and all their records dropped:
// parts of thousands of records, more than a part holds back.
func TestSplitReadErrorLongParts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(old int64) { partSize = old }(partSize)
	partSize = 1 << 20
	var b strings.Builder
	for i := range 30000 {
		b.WriteString(nginxLine(fmt.Sprintf("10:%02d:%02d", i/60%60, i%60), "recv() failed"))
	}
	log := b.String()
	if n := int64(len(log)) / partSize; n < 4 {
		t.Fatalf("%d parts", n)
	}
	failAt := partSize + partSize/2
	in, want, wantStats := failingInput(t, log, failAt, failAt+10)
	var got []parser.Entry
	res := MergeWith(t.Context(), []Input{in}, each(func(*parser.Entry, *int) {}), func(e *parser.Entry, _ *int) { got = append(got, *e) })
	if !errors.Is(res[0].Err, errDisk) {
		t.Errorf("Err %v, want %v", res[0].Err, errDisk)
	}
	sameScan(t, want, got, wantStats, res[0].Stats)
}
