//go:build unix

package source

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A gzip stream read from a named pipe is decompressed, but it is not an
// Inflated: the writer may be slow, and reading ahead would hold back
// records until it had written more.
func TestOpenFIFONotInflated(t *testing.T) {
	const text = "line one\nline two\n"
	name := filepath.Join(t.TempDir(), "error.log.gz")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		_, err = f.Write(gz(t, text))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		wrote <- err
	}()
	rc, err := Open(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(Inflated); ok {
		t.Error("a named pipe is Inflated")
	}
	all, err := io.ReadAll(rc)
	if err != nil || string(all) != text {
		t.Errorf("read %q, %v; want %q", all, err, text)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}
