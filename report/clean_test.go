package report

import (
	"strings"
	"testing"
)

func TestCleanMakesControlSequencesInert(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"red \x1b[31mALERT\x1b[0m", `red \x1b[31mALERT\x1b[0m`},
		{"title \x1b]0;pwned\x07", `title \x1b]0;pwned\x07`},
		{"fake\nrecord", `fake\nrecord`},
		{"cr\roverwrite", `cr\roverwrite`},
		{"nul\x00byte", `nul\x00byte`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"bad utf8 \xff\xfe", `bad utf8 \xff\xfe`},
		{"utf8 ok: café ✓", "utf8 ok: café ✓"},
		{"tab\there", `tab\there`},
	}
	for _, tt := range tests {
		got := Clean(tt.in)
		if got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] == 0x7f {
				t.Errorf("Clean(%q) still holds control byte %#x", tt.in, got[i])
			}
		}
	}
}

func TestCleanLinesKeepsLines(t *testing.T) {
	got := CleanLines("one\x1b[2J\ntwo")
	if len(got) != 2 || got[0] != `one\x1b[2J` || got[1] != "two" {
		t.Errorf("CleanLines = %q", got)
	}
	if strings.Contains(strings.Join(got, ""), "\x1b") {
		t.Error("escape survived")
	}
}
