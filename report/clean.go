// Package report renders what logtriage found: rule listings, test
// results, coverage and (later) incidents, as tables, plain text, JSON and
// HTML.
//
// Everything that came from a log line is hostile: it is passed through
// Clean (terminal and text output) or escaped (HTML) before it is written.
package report

import (
	"strings"
	"unicode/utf8"
)

// Clean makes untrusted text inert for a terminal: control characters
// (ESC and the rest of C0, DEL, C1), bidirectional overrides and invalid
// UTF-8 bytes are written as visible escapes (\x1b, \u202e), so a log line
// cannot move the cursor, recolour the screen, retitle the window or fake
// another record. Newlines become "\n" too; use CleanLines to keep them.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			writeHex(&b, byte(r))
		case r >= 0x80 && r < 0xa0, isBidi(r):
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// CleanLines is Clean for multi-line text: it keeps the newlines and
// cleans each line.
func CleanLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Clean(l)
	}
	return lines
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func writeHex(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

// isBidi reports the Unicode bidirectional controls that can reorder how
// a terminal shows the rest of a line.
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
