package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
)

func readAll(t *testing.T, name string, stdin io.Reader) (string, error) {
	t.Helper()
	r, err := Open(name, stdin)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("error.log", []byte("a\nb\n"))
	// gzip is recognised by its magic bytes, whatever the name.
	zipped := write("error.log.1", gz(t, "c\nd\n"))
	empty := write("empty.log", nil)

	for name, want := range map[string]string{plain: "a\nb\n", zipped: "c\nd\n", empty: ""} {
		got, err := readAll(t, name, nil)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := readAll(t, "-", strings.NewReader("stdin\n")); err != nil || got != "stdin\n" {
		t.Errorf("stdin: %q, %v", got, err)
	}
	if got, err := readAll(t, "-", bytes.NewReader(gz(t, "zipped stdin\n"))); err != nil || got != "zipped stdin\n" {
		t.Errorf("gzip on stdin: %q, %v", got, err)
	}
}

func TestOpenErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, nil); !errors.Is(err, ErrIsDir) || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "missing.log")
	if _, err := Open(missing, nil); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
	// A truncated gzip: what came before the damage is read, then an
	// error naming the file.
	data := gz(t, strings.Repeat("line of a log file that compresses\n", 2000))
	cut := filepath.Join(dir, "cut.gz")
	os.WriteFile(cut, data[:len(data)-20], 0o644)
	got, err := readAll(t, cut, nil)
	if err == nil || !strings.HasPrefix(err.Error(), cut+": ") || len(got) == 0 {
		t.Errorf("truncated gzip: read %d bytes, err %v", len(got), err)
	}
	bad := filepath.Join(dir, "bad.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 0, 0}, 0o644)
	if _, err := readAll(t, bad, nil); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad gzip header: %v", err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"error.log", "error.log.1", "access.log"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	names, errs := Expand([]string{"-", filepath.Join(dir, "error.log*"), filepath.Join(dir, "nothing*"), filepath.Join(dir, "plain")})
	want := []string{"-", filepath.Join(dir, "error.log"), filepath.Join(dir, "error.log.1"), filepath.Join(dir, "plain")}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no file matches") {
		t.Errorf("errs = %v", errs)
	}
}

// Archives are decompressed ahead of the reader, in chunks; whatever the
// sizes of the reads, the bytes come out whole and in order, and the raw
// bytes read are counted.
func TestOpenGzipReadAhead(t *testing.T) {
	dir := t.TempDir()
	var text strings.Builder
	for i := 0; text.Len() < 3*chunkSize+100; i++ {
		fmt.Fprintf(&text, "2026/11/21 10:00:%02d [error] 1#1: *%d line %d\n", i%60, i, i)
	}
	for _, size := range []int{0, 1, 2, chunkSize - 1, chunkSize, chunkSize + 1, text.Len()} {
		want := text.String()[:size]
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			name := filepath.Join(dir, fmt.Sprintf("%d.gz", size))
			data := gz(t, want)
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var c Counter
			r, err := OpenCounting(name, nil, &c)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := iotest.TestReader(r, []byte(want)); err != nil {
				t.Error(err)
			}
			if c.Load() != int64(len(data)) {
				t.Errorf("counted %d bytes, want %d", c.Load(), len(data))
			}
		})
	}
}

// Closing an archive read halfway stops its decompressing goroutine;
// synctest.Test fails if a goroutine is left blocked.
func TestOpenGzipCloseEarly(t *testing.T) {
	name := filepath.Join(t.TempDir(), "error.log.gz")
	if err := os.WriteFile(name, gz(t, strings.Repeat("a line of log\n", 50000)), 0o644); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		r, err := Open(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "a line of " {
			t.Errorf("read %q, %v", buf, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
		if n, err := r.Read(buf); n != 0 || !errors.Is(err, os.ErrClosed) {
			t.Errorf("read after close: %d, %v", n, err)
		}
	})
}

// Files too short to hold the gzip magic are plain text.
func TestOpenShort(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []string{"", "x", "\x1f", "\x1fx"} {
		name := filepath.Join(dir, fmt.Sprintf("%x.log", s))
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t, name, nil); err != nil || got != s {
			t.Errorf("%q: read %q, %v", s, got, err)
		}
		if got, err := readAll(t, "-", strings.NewReader(s)); err != nil || got != s {
			t.Errorf("%q on stdin: read %q, %v", s, got, err)
		}
	}
}
