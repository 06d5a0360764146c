package timeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/source"
)

// gzipped returns data compressed as gzip does.
func gzipped(t testing.TB, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeFile writes data to name in a new temporary directory and returns
// its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// streamLogs are splitLogs, the logs of the corpus (real servers' output:
// FastCGI stderr with PHP stack traces, php-fpm slowlog records of several
// lines) and a log whose format is never detected.
func streamLogs(t *testing.T) map[string]string {
	logs := splitLogs()
	logs["no record starts"] = strings.Repeat("PHP   1. {main}() /var/www/a.php:0\n", 2000)
	paths, err := filepath.Glob("../testdata/corpus/*/*.log")
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus: %v, %d logs", err, len(paths))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		logs[filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)] = string(b)
	}
	return logs
}

// scanWhole parses the file at path in one piece, as Scan does on what
// source.Open gives.
func scanWhole(t *testing.T, path string, opt parser.Options) ([]parser.Entry, parser.Stats, error) {
	t.Helper()
	rc, err := source.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var es []parser.Entry
	stats, err := parser.Scan(rc, opt, func(e *parser.Entry) { es = append(es, *e) })
	return es, stats, err
}

// mergeFile merges the file at path alone, with a prepare step, and
// returns the records emit got and the input's Result.
func mergeFile(t *testing.T, path string, opt parser.Options) ([]parser.Entry, Result) {
	t.Helper()
	in := Input{Name: path, Open: func() (io.ReadCloser, error) { return source.Open(path, nil) }, Options: opt}
	var got []parser.Entry
	prepare := func(e *parser.Entry, v *parser.Entry) { *v = *e }
	res := MergeWith(t.Context(), []Input{in}, each(prepare), func(e *parser.Entry, v *parser.Entry) {
		if diff := cmp.Diff(*e, *v); diff != "" {
			t.Fatalf("prepare saw another record than emit (-emit +prepare):\n%s", diff)
		}
		got = append(got, *e)
	})
	return got, res[0]
}

// TestSplitGzipMatchesScan parses gzip files in parts of several sizes
// and wants the records (line numbers, offsets in the decompressed
// stream, carried times), as prepare and emit see them, and the counts
// that one Scan of the whole stream gives.
func TestSplitGzipMatchesScan(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for name, log := range streamLogs(t) {
		path := writeFile(t, "error.log.gz", gzipped(t, log))
		for _, size := range []int64{64, 500, 4096, 256 << 10} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				defer func(old int64) { partSize = old }(partSize)
				partSize = size
				opt := parser.Options{File: path, Location: time.UTC}
				want, wantStats, err := scanWhole(t, path, opt)
				if err != nil {
					t.Fatal(err)
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

// TestStreamCutterParts reads the parts a gzip file is cut into and wants
// them to be the stream, whole and in order, each cut at the first line
// that starts a record at least partSize bytes into the part (and after
// the line the format was detected on), and their buffers reused.
func TestStreamCutterParts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	logs := splitLogs()
	for _, name := range []string{"nginx", "fpm"} {
		for _, size := range []int64{64, 500, 4096} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				defer func(old int64) { partSize = old }(partSize)
				partSize = size
				log := logs[name]
				path := writeFile(t, "error.log.gz", gzipped(t, log))
				rc, err := source.Open(path, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				opt := parser.Options{Location: time.UTC}
				s := newSplitter(rc, opt)
				if s == nil {
					t.Fatal("a gzip file is not cut")
				}
				format, detected, _ := detect([]byte(log), opt)
				probe := probe(opt, format)

				var parts []string
				bufs := map[*byte]bool{}
				var off int64
				for {
					sp, ok := s.cutter.next()
					if !ok {
						break
					}
					if sp.start != off {
						t.Fatalf("part %d starts at %d, want %d", len(parts), sp.start, off)
					}
					b, err := io.ReadAll(sp.r)
					if err != nil {
						t.Fatal(err)
					}
					bufs[&sp.buf[:1][0]] = true
					s.cutter.release(sp)
					parts = append(parts, string(b))
					off += int64(len(b))
				}
				if got := strings.Join(parts, ""); got != log {
					t.Fatalf("the parts are not the stream: %d bytes, want %d", len(got), len(log))
				}
				if len(parts) < 2 || int64(len(parts)) > int64(len(log))/size+1 {
					t.Errorf("%d parts of a stream of %d bytes", len(parts), len(log))
				}
				// Each line that starts at or after from in a part is a
				// cut if it starts a record: the next part must begin
				// with the first.
				from := max(int(size), detected)
				for i, p := range parts[:len(parts)-1] {
					if len(p) < from {
						t.Errorf("part %d is %d bytes, want at least %d", i, len(p), from)
					}
					if !probe.StartsRecord([]byte(strings.TrimSuffix(strings.SplitN(parts[i+1], "\n", 2)[0], "\r"))) {
						t.Errorf("part %d starts with %.40q, no record start", i+1, parts[i+1])
					}
					for line := 0; line < len(p); {
						end := strings.IndexByte(p[line:], '\n') + line
						if line >= from && probe.StartsRecord([]byte(strings.TrimSuffix(p[line:end], "\r"))) {
							t.Errorf("part %d is not cut at %.40q, %d bytes in", i, p[line:end], line)
						}
						line = end + 1
					}
					from = int(size)
				}
				// Parts are read one at a time here, so two buffers serve:
				// the part read and the next one's start. (A buffer grown
				// for a long line is dropped, so nginx may take more.)
				if name == "fpm" && len(bufs) > 2 {
					t.Errorf("%d buffers for %d parts read one at a time", len(bufs), len(parts))
				}
			})
		}
	}
}

// TestSplitNotCut wants gzip on stdin read as it comes, not a part ahead
// (a pipe may be slow to fill one).
func TestSplitNotCut(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	log := splitLogs()["nginx"]
	rc, err := source.Open(source.Stdin, bytes.NewReader(gzipped(t, log)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if newSplitter(rc, parser.Options{}) != nil {
		t.Error("gzip on stdin is cut")
	}
}

// TestSplitGzipDamaged wants the records of a damaged gzip file up to the
// damage, its counts and the error naming it, as one Scan of the stream
// gives them, however the stream is cut.
func TestSplitGzipDamaged(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	log := splitLogs()["nginx"]
	packed := gzipped(t, log)
	flip := func(at int) []byte {
		b := bytes.Clone(packed)
		b[at] ^= 0xff
		return b
	}
	for name, data := range map[string][]byte{
		"truncated in the head":   packed[:len(packed)/20],
		"truncated at a third":    packed[:len(packed)/3],
		"truncated at two thirds": packed[:len(packed)*2/3],
		"corrupt in the middle":   flip(len(packed) / 2),
		"bad checksum":            flip(len(packed) - 5),
	} {
		path := writeFile(t, "error.log.gz", data)
		for _, size := range []int64{64, 500, 4096} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				defer func(old int64) { partSize = old }(partSize)
				partSize = size
				opt := parser.Options{File: path, Location: time.UTC}
				want, wantStats, wantErr := scanWhole(t, path, opt)
				if wantErr == nil || !strings.Contains(wantErr.Error(), path) {
					t.Fatalf("Scan: %v, want an error naming %s", wantErr, path)
				}
				if len(want) == 0 {
					t.Fatal("Scan read no record before the damage")
				}
				got, res := mergeFile(t, path, opt)
				if res.Err == nil || res.Err.Error() != wantErr.Error() {
					t.Errorf("Err %v, want %v", res.Err, wantErr)
				}
				sameScan(t, want, got, wantStats, res.Stats)
			})
		}
	}
}

// TestSplitGzipCancel cancels the merge of a gzip file being cut and
// wants it to return, with no record after the cancellation;
// synctest.Test fails if a goroutine is left blocked.
func TestSplitGzipCancel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer func(old int64) { partSize = old }(partSize)
	partSize = 500
	path := writeFile(t, "error.log.gz", gzipped(t, splitLogs()["nginx"]))
	for _, at := range []int{1, 10, 300} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				in := Input{Name: path, Open: func() (io.ReadCloser, error) { return source.Open(path, nil) }, Options: parser.Options{Location: time.UTC}}
				n, late := 0, 0
				res := MergeWith(ctx, []Input{in}, each(func(*parser.Entry, *int) {}), func(*parser.Entry, *int) {
					if ctx.Err() != nil {
						late++
					}
					if n++; n == at {
						cancel()
					}
				})
				if n != at || late != 0 {
					t.Errorf("%d records emitted, %d after cancel; want %d", n, late, at)
				}
				if !errors.Is(res[0].Err, context.Canceled) {
					t.Errorf("Err %v, want %v", res[0].Err, context.Canceled)
				}
			})
		})
	}
}

// sameScan fails unless the records and stats of a merge are those of
// one Scan of the stream.
func sameScan[R any](t *testing.T, want, got R, wantStats, stats parser.Stats) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}
