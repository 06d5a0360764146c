package mailer

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSubject(t *testing.T) {
	long := strings.Repeat("pool www ", 30)
	for _, tc := range []struct {
		host                  string
		incidents, worst      int
		severity, title, want string
	}{
		{"web1", 3, 1, "critical", "php-fpm pool www out of children", "[logtriage] web1: 3 incidents, 1 critical — php-fpm pool www out of children"},
		{"web1", 1, 1, "error", "upstream refused connections", "[logtriage] web1: 1 incident, 1 error — upstream refused connections"},
		{"web1", 5, 2, "warning", "", "[logtriage] web1: 5 incidents, 2 warning"},
		{"", 2, 2, "error", "socket /run/php/www.sock refused", "[logtriage] 2 incidents, 2 error — socket /run/php/www.sock refused"},
		{"web1", 2, 0, "", "t", "[logtriage] web1: 2 incidents — t"},
		{"web1", 0, 0, "", "", "[logtriage] web1: no incidents"},
		{"web1\r\nBcc: victim@example.com", 1, 1, "critical", "pool \x1b[31mwww\u202e\r\nBcc: x@example.com", "[logtriage] web1 Bcc: victim@example.com: 1 incident, 1 critical — pool www Bcc: x@example.com"},
		{strings.Repeat("h", 100), 1, 1, "error", "t", "[logtriage] " + strings.Repeat("h", maxHost-1) + "…: 1 incident, 1 error — t"},
		{"web1", 12, 3, "critical", long, truncate("[logtriage] web1: 12 incidents, 3 critical — "+strings.TrimSpace(long), MaxSubject)},
	} {
		t.Run(tc.want, func(t *testing.T) {
			got := Subject(tc.host, tc.incidents, tc.worst, tc.severity, tc.title)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Subject (-want +got):\n%s", d)
			}
			if n := utf8.RuneCountInString(got); n > MaxSubject {
				t.Errorf("Subject has %d runes, more than %d", n, MaxSubject)
			}
		})
	}
}

func TestCleanHeader(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"  lead and trail \t", "lead and trail"},
		{"a\r\nb\rc\nd\te", "a b c d e"},
		{"many   \u00a0 \u2028 \u3000spaces", "many spaces"},
		{"nul\x00 bel\x07 del\x7f", "nul bel del"},
		{"csi \x1b[1;31mred\x1b[0m", "csi red"},
		{"osc \x1b]0;window title\x07after", "osc after"},
		{"osc st \x1b]8;;http://x\x1b\\link", "osc st link"},
		{"broken osc \x1b]0;title\nrest", "broken osc rest"},
		{"esc letter \x1bcreset", "esc letter reset"},
		{"lone esc \x1b", "lone esc"},
		{"c1 csi \u009b2Jclear", "c1 csi clear"},
		{"c1 nel\u0085next \u0080\u009f", "c1 nel next"},
		{"bidi \u202eexe.txt\u202c \u2066iso\u2069 \u200fmark", "bidi exe.txt iso mark"},
		{"zw\u200bsp\u200d bom\ufeff shy\u00ad tag\U000e0041", "zwsp bom shy tag"},
		{"bad \xff utf-8 \xc3", "bad \ufffd utf-8 \ufffd"},
		{"café 日本語 ☃ 🙂", "café 日本語 ☃ 🙂"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if d := cmp.Diff(tc.want, cleanHeader(tc.in)); d != "" {
				t.Errorf("cleanHeader(%q) (-want +got):\n%s", tc.in, d)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runes", 10, "eleven ru…"},
		{"ééééééééééé", 10, "ééééééééé…"},
		{"cut at a space here", 10, "cut at a…"},
		{"日本語日本語日本語日本語", 5, "日本語日…"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := truncate(tc.in, tc.max)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("truncate(%q, %d) (-want +got):\n%s", tc.in, tc.max, d)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q: invalid UTF-8", tc.in, tc.max, got)
			}
		})
	}
}

func TestEncodeWords(t *testing.T) {
	dec := &mime.WordDecoder{}
	for _, s := range []string{
		"=?",
		"=?UTF-8?q?=E2=80=AE?= plain",
		strings.Repeat("日本語 =? ", 20),
		strings.Repeat("x", 44) + "é" + strings.Repeat("🙂", 30),
	} {
		t.Run(s, func(t *testing.T) {
			enc := encodeWords(s)
			for _, w := range strings.Fields(enc) {
				if len(w) > 75 || !strings.HasPrefix(w, "=?UTF-8?B?") || !strings.HasSuffix(w, "?=") {
					t.Errorf("encoded word %q", w)
				}
			}
			got, err := dec.DecodeHeader(enc)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(s, got); d != "" {
				t.Errorf("decoded (-want +got):\n%s", d)
			}
		})
	}
}
