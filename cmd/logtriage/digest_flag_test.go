package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/logtriage/logtriage/source"
)

// flagged keeps what the timeline parses on every core: a plain file
// stays a source.Sectioned, its failed reads at offsets flagged too, and
// a gzip file a source.Inflated; a pipe is neither.
func TestFlaggedKeepsSectionedAndInflated(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "error.log")
	os.WriteFile(plain, []byte("line\n"), 0o644)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte("line\n"))
	zw.Close()
	zipped := filepath.Join(dir, "error.log.1.gz")
	os.WriteFile(zipped, zb.Bytes(), 0o644)

	rc, err := source.Open(plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := &atomic.Bool{}
	f := flagged(rc, bad)
	sec, ok := f.(source.Sectioned)
	if !ok {
		t.Fatalf("plain file: %T is not a source.Sectioned", f)
	}
	if sec.Size() != 5 {
		t.Errorf("Size %d, want 5", sec.Size())
	}
	b := make([]byte, 10)
	if n, err := sec.ReadAt(b, 0); n != 5 || err != io.EOF || bad.Load() {
		t.Errorf("ReadAt: %d, %v, bad %v; want 5, EOF, not bad", n, err, bad.Load())
	}
	f.Close()
	if _, err := sec.ReadAt(b, 0); err == nil || !bad.Load() {
		t.Errorf("ReadAt of a closed file: %v, bad %v; want an error, bad", err, bad.Load())
	}

	rc, err = source.Open(zipped, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if f := flagged(rc, bad); !isInflated(f) {
		t.Errorf("gzip file: %T is not a source.Inflated", f)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	pw.Write([]byte("line\n")) // source.Open reads the first bytes
	pw.Close()
	rc, err = source.Open(source.Stdin, pr)
	if err != nil {
		t.Fatal(err)
	}
	f = flagged(rc, bad)
	if _, ok := f.(source.Sectioned); ok || isInflated(f) {
		t.Errorf("pipe: %T is sectioned or inflated", f)
	}
}

func isInflated(r io.Reader) bool {
	_, ok := r.(source.Inflated)
	return ok
}
