package parser

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func readLines(t *testing.T, r io.Reader, max int) ([]Line, error) {
	t.Helper()
	lr := NewLineReader(r, max)
	var out []Line
	for {
		l, err := lr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		l.Text = append([]byte(nil), l.Text...)
		out = append(out, l)
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []Line
	}{
		{"empty", "", 0, nil},
		{"final line without newline", "a\nb", 0, []Line{{Text: []byte("a"), Number: 1}, {Text: []byte("b"), Offset: 2, Number: 2}}},
		{"crlf", "a\r\nb\r\n", 0, []Line{{Text: []byte("a"), Number: 1}, {Text: []byte("b"), Offset: 3, Number: 2}}},
		{"blank lines", "\n\nx\n", 0, []Line{{Number: 1}, {Offset: 1, Number: 2}, {Text: []byte("x"), Offset: 2, Number: 3}}},
		{"cut", "abcdefgh\nxy\n", 4, []Line{{Text: []byte("abcd"), Number: 1, Cut: true}, {Text: []byte("xy"), Offset: 9, Number: 2}}},
		{"exactly the cap", "abcd\n", 4, []Line{{Text: []byte("abcd"), Number: 1}}},
		{"nul and invalid utf-8 kept", "a\x00b\xff\n", 0, []Line{{Text: []byte("a\x00b\xff"), Number: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLines(t, strings.NewReader(tt.in), tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

// A line far longer than bufio's buffer (which kills bufio.Scanner) is cut
// at the cap, counted, and the next line is intact.
func TestLineReaderHugeLine(t *testing.T) {
	in := strings.Repeat("x", 10<<20) + "\nnext\n"
	got, err := readLines(t, iotest.HalfReader(strings.NewReader(in)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Text) != 1<<20 || !got[0].Cut || string(got[1].Text) != "next" || got[1].Offset != 10<<20+1 {
		t.Fatalf("got %d lines, first %d bytes cut=%v", len(got), len(got[0].Text), got[0].Cut)
	}
}

// A read error after some lines: the lines come first, then the error.
func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("one\ntwo"), iotest.ErrReader(boom))
	got, err := readLines(t, r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if len(got) != 2 || string(got[1].Text) != "two" {
		t.Fatalf("lines before the error: %d", len(got))
	}
}
