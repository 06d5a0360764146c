package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
