package mailer

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSubject is the longest Subject, in runes, that a composed message carries; a
// longer one is cut on a rune boundary and ends with "…".
const MaxSubject = 150

// maxHost bounds the host name inside the subject so that a hostile or
// silly name cannot push the counts and the title out of it.
const maxHost = 64

// Subject builds the subject line of a digest mail from plain values:
//
//	[logtriage] web1: 3 incidents, 1 critical — php-fpm pool www out of children
//
// worstCount is how many incidents have the worst severity present,
// worstSeverity its name. host and worstTitle come from the machine and
// from log content, so they are made header-safe (see WriteTo); empty
// parts are left out.
func Subject(host string, incidents, worstCount int, worstSeverity, worstTitle string) string {
	var b strings.Builder
	b.WriteString("[logtriage] ")
	if h := truncate(cleanHeader(host), maxHost); h != "" {
		b.WriteString(h)
		b.WriteString(": ")
	}
	switch incidents {
	case 0:
		b.WriteString("no incidents")
	case 1:
		b.WriteString("1 incident")
	default:
		fmt.Fprintf(&b, "%d incidents", incidents)
	}
	if sev := cleanHeader(worstSeverity); incidents > 0 && sev != "" && worstCount > 0 {
		fmt.Fprintf(&b, ", %d %s", worstCount, sev)
	}
	if t := cleanHeader(worstTitle); incidents > 0 && t != "" {
		b.WriteString(" — ")
		b.WriteString(t)
	}
	return truncate(b.String(), MaxSubject)
}

// cleanHeader makes s safe for an unstructured header such as Subject: it
// drops terminal escape sequences and every control character (C0, DEL,
// C1) and Unicode format character (bidi overrides and isolates,
// zero-width characters, BOM), turns line breaks and other white space
// into single spaces, replaces invalid UTF-8 with U+FFFD and trims.
// Non-ASCII text stays; composing has it RFC 2047 encoded.
func cleanHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending, written before the next visible rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b || r == 0x9b || r == 0x9d { // ESC, CSI, OSC
			i += escapeLen(s[i:])
			continue
		}
		i += size
		switch {
		case unicode.IsSpace(r):
			space = true
		case r < 0x20, r >= 0x7f && r < 0xa0, unicode.Is(unicode.Cf, r):
			// dropped
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i-size : i])
			}
		}
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s: a CSI
// sequence (ESC [ or U+009B, parameters, one final byte), an OSC string
// (ESC ] or U+009D, up to BEL or ESC \), or ESC and the byte after it.
func escapeLen(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	kind := r
	if r == 0x1b && len(s) > n {
		switch s[n] {
		case '[':
			kind, n = 0x9b, n+1
		case ']':
			kind, n = 0x9d, n+1
		default:
			if s[n] >= 0x20 && s[n] < 0x7f {
				n++
			}
			return n
		}
	}
	switch kind {
	case 0x9b:
		for n < len(s) && s[n] >= 0x20 && s[n] < 0x40 { // parameter and intermediate bytes
			n++
		}
		if n < len(s) && s[n] >= 0x40 && s[n] < 0x7f { // final byte
			n++
		}
	case 0x9d:
		for n < len(s) {
			if s[n] == 0x07 {
				return n + 1
			}
			if s[n] == 0x1b && n+1 < len(s) && s[n+1] == '\\' {
				return n + 2
			}
			if s[n] < 0x20 { // a broken OSC ends at the first other control
				return n
			}
			n++
		}
	}
	return n
}

// truncate cuts s to at most max runes on a rune boundary, ending a cut
// string with "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		n++
	}
	return s
}

// encodeWords RFC 2047-encodes all of s (UTF-8, B encoding) in encoded
// words of at most 75 characters, cut on rune boundaries. compose uses it
// for a subject holding "=?": written as is, that text would be decoded
// by the reader's mail client, and could bring back the bidi and control
// characters cleanHeader removed; encoded, it shows literally.
func encodeWords(s string) string {
	const maxBytes = 45 // 60 base64 characters + "=?UTF-8?B?" + "?=" ≤ 75
	var words []string
	for s != "" {
		n := 0
		for _, r := range s {
			if n+utf8.RuneLen(r) > maxBytes {
				break
			}
			n += utf8.RuneLen(r)
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}
