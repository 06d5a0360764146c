package source

import (
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
		sectioned bool
	}{
		{plain, true},
		{packed, false},
		{Stdin, false},
	} {
		t.Run(filepath.Base(tc.name), func(t *testing.T) {
			var c Counter
			rc, err := OpenCounting(tc.name, strings.NewReader(text), &c)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			s, ok := rc.(Sectioned)
			if ok != tc.sectioned {
				t.Fatalf("Sectioned %v, want %v", ok, tc.sectioned)
			}
			if !ok {
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
