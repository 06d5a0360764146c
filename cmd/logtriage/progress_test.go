package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/logtriage/logtriage/source"
)

func TestProgressDraw(t *testing.T) {
	var counter source.Counter
	r, err := source.OpenCounting("-", strings.NewReader(strings.Repeat("x", 3<<20)), &counter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, r, 1<<20); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := newProgress(&out, &counter, 4<<20)
	p.draw()
	got := out.String()
	// 64 KiB of read-ahead may have been counted beyond the 1 MiB copied.
	if !strings.HasPrefix(got, "\r[=======") || !strings.Contains(got, "] 1/4 MB (2") {
		t.Errorf("progress line %q", got)
	}
	p.start()
	p.stop()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Errorf("stop does not clear the line: %q", out.String())
	}
}
