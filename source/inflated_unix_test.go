//go:build unix

package source

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A gzip stream read from a named pipe is decompressed, but it is not an
// Inflated, and nothing is read ahead: a line the writer flushed can be
// read while the writer waits.
func TestOpenFIFONotInflated(t *testing.T) {
	name := filepath.Join(t.TempDir(), "error.log.gz")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	goOn := make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte("line one\n"))
		zw.Flush()
		<-goOn // the reader has had the first line
		zw.Write([]byte("line two\n"))
		err = zw.Close()
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
	br := bufio.NewReader(rc)
	first := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		first <- l
	}()
	select {
	case l := <-first:
		if l != "line one\n" {
			t.Errorf("first line %q", l)
		}
	case <-time.After(10 * time.Second):
		close(goOn)
		t.Fatal("the flushed line was held back while the writer waited")
	}
	close(goOn)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "line two\n" {
		t.Errorf("read %q, %v; want the second line", rest, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}
