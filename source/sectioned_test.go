package source

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenSectioned(t *testing.T) {
	dir := t.TempDir()
	const text = "line one\nline two\n"
	plain := filepath.Join(dir, "error.log")
	packed := filepath.Join(dir, "error.log.1")
	if err := os.WriteFile(plain, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packed, gz(t, text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		stdin     string
		sectioned bool
		inflated  bool
	}{
		{name: plain, sectioned: true},
		{name: packed, inflated: true},
		{name: Stdin, stdin: text},
		{name: Stdin, stdin: string(gz(t, text))},
	} {
		t.Run(fmt.Sprintf("%s %q", filepath.Base(tc.name), tc.stdin[:min(len(tc.stdin), 4)]), func(t *testing.T) {
			var c Counter
			rc, err := OpenCounting(tc.name, strings.NewReader(tc.stdin), &c)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if _, ok := rc.(Inflated); ok != tc.inflated {
				t.Errorf("Inflated %v, want %v", ok, tc.inflated)
			}
			s, ok := rc.(Sectioned)
			if ok != tc.sectioned {
				t.Fatalf("Sectioned %v, want %v", ok, tc.sectioned)
			}
			if !ok {
				// Read in order, it is the text all the same.
				all, err := io.ReadAll(rc)
				if err != nil || string(all) != text {
					t.Errorf("Read gave %q, %v; want %q", all, err, text)
				}
				return
			}
			if s.Size() != int64(len(text)) {
				t.Errorf("Size %d, want %d", s.Size(), len(text))
			}
			before := c.Load()
			got, err := io.ReadAll(io.NewSectionReader(s, 9, 8))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "line two" {
				t.Errorf("ReadAt gave %q, want %q", got, "line two")
			}
			if n := c.Load() - before; n != 8 {
				t.Errorf("counted %d bytes read at an offset, want 8", n)
			}
			// Reading in order still starts at the beginning.
			all, err := io.ReadAll(s)
			if err != nil {
				t.Fatal(err)
			}
			if string(all) != text {
				t.Errorf("Read gave %q, want %q", all, text)
			}
		})
	}
}
