package parser

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The nginx parser finds the context fields, the action and the errno
// with searches tuned for speed. These tests hold them to the plain
// statements of what they find.

// plainNginxContext: the last "client: " after ", " or ", udp " whose
// address and server name hold no space, quote or newline.
func plainNginxContext(s string) int {
	end := len(s)
	for {
		i := strings.LastIndex(s[:end], "client: ")
		if i < 0 {
			return -1
		}
		start := -1
		switch {
		case strings.HasSuffix(s[:i], ", udp "):
			start = i - 6
		case strings.HasSuffix(s[:i], ", "):
			start = i - 2
		}
		v, server, _ := strings.Cut(s[i+8:], ", server: ")
		if j := strings.Index(server, ", "); j >= 0 {
			server = server[:j]
		}
		if start >= 0 && v != "" && !strings.ContainsAny(v, " \"\n") && !strings.ContainsAny(server, " \"\n") {
			return start
		}
		end = i
	}
}

// plainAction: the text after the last " while ", if it is an action:
// letters and spaces, at most maxAction of them.
func plainAction(msg string) (action, core string) {
	i := strings.LastIndex(msg, " while ")
	if i < 0 {
		return "", msg
	}
	a := msg[i+7:]
	if a == "" || len(a) > maxAction || strings.TrimLeft(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ") != "" {
		return "", msg
	}
	return a, msg[:i]
}

// plainVHostEnd: where server: ends, the first of the keys that follow it.
func plainVHostEnd(s string) int {
	end := len(s)
	for _, pre := range append(nginxKeyPrefixes[:], ", upstream: ") {
		if i := strings.Index(s, pre); i >= 0 && i < end {
			end = i
		}
	}
	return end
}

// plainNginxFields: the context fields of s, the text after a header,
// from the context plainNginxContext finds: the client address up to
// ", server: ", the server name up to the next key, then the quoted keys
// in nginx's order, each value up to the quote that a later key, the
// byte counters or the end follows.
func plainNginxFields(s string) Entry {
	var e Entry
	start := plainNginxContext(s)
	if start < 0 {
		return e
	}
	s = s[start:]
	s = strings.TrimPrefix(s, ", udp client: ")
	s = strings.TrimPrefix(s, ", client: ")
	var server string
	var ok bool
	e.Client, server, ok = strings.Cut(s, ", server: ")
	if !ok {
		return e
	}
	end := plainVHostEnd(server)
	e.VHost, s = server[:end], server[end:]
	fields := []*string{&e.Request, &e.Subrequest, &e.Upstream, &e.Host, &e.Referrer}
	for k, pre := range nginxKeyPrefixes {
		v, ok := strings.CutPrefix(s, pre)
		if !ok {
			continue
		}
		*fields[k], s = v, ""
		for i := 0; i < len(v); i++ {
			if v[i] != '"' {
				continue
			}
			after := v[i+1:]
			later := after == "" || strings.HasPrefix(after, ", bytes from/to")
			for _, p := range nginxKeyPrefixes[k+1:] {
				later = later || strings.HasPrefix(after, p)
			}
			if later {
				*fields[k], s = v[:i], after
				break
			}
		}
	}
	return e
}

// pieces are what the searches look for, and what trips them up.
var pieces = []string{", referer: ", ", resolver: ", "a", ", client: ", ", udp client: ", "client: ", ", server: ", ", ", " while ", "while ", " (", "(", ")",
	`, request: "`, `, host: "`, `, upstream: `, `, upstream: "`, `, referrer: "`, `, subrequest: "`, `"`, ", bytes from/to",
	" ", "\n", "10.0.0.1", "shop.test", "reading upstream", "x", "111: ", "udp ",
	// Bytes next to the letters and the space, for the action's run.
	"@", "[", "`", "{", "!", "\x00", "\x7f", "\xc1", "\xe0\x80", "Z", "reading upstreamReadingUpstreamreading"}

func randomText(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func checkSearches(t *testing.T, s string) {
	t.Helper()
	var e Entry
	got, resolver := nginxContext(&e, s)
	if got != plainNginxContext(s) {
		t.Errorf("nginxContext(%q) = %d, want %d", s, got, plainNginxContext(s))
	}
	// Without a context, the parser looks for a resolver's.
	if want := strings.LastIndex(s, resolverKey); got < 0 && resolver != want {
		t.Errorf("nginxContext(%q) resolver at %d, want %d", s, resolver, want)
	}
	if diff := cmp.Diff(plainNginxFields(s), e); diff != "" {
		t.Errorf("context fields of %q (-want +got):\n%s", s, diff)
	}
	for _, sep := range []string{", referer: ", ", resolver: ", "aa", ", "} {
		if got, want := lastIndex(s, sep), strings.LastIndex(s, sep); got != want {
			t.Errorf("lastIndex(%q, %q) = %d, want %d", s, sep, got, want)
		}
	}
	if got, want := lastSpaceParen(s), strings.LastIndex(s, " ("); got != want {
		t.Errorf("lastSpaceParen(%q) = %d, want %d", s, got, want)
	}
	wantAction, wantCore := plainAction(s)
	if gotAction, gotCore := nginxAction(s); gotAction != wantAction || gotCore != wantCore {
		t.Errorf("nginxAction(%q) = %q, %q, want %q, %q", s, gotAction, gotCore, wantAction, wantCore)
	}
	// The recent actions answer as nginxAction does, whatever they hold:
	// the suffixes and prefixes of s go through one cache twice, so that
	// the actions of some are compared with the ends of the others.
	var r recentActions
	for range 2 {
		for k := range min(len(s), 90) + 1 {
			for _, m := range []string{s[len(s)-k:], s[:k], s[:len(s)-k]} {
				wantAction, wantCore := plainAction(m)
				if gotAction, gotCore := r.split(m); gotAction != wantAction || gotCore != wantCore {
					t.Fatalf("recentActions.split(%q) = %q, %q, want %q, %q (holding %q)", m, gotAction, gotCore, wantAction, wantCore, r)
				}
			}
		}
	}
}

func TestNginxSearches(t *testing.T) {
	for _, s := range []string{
		"",
		`connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: shop.test, request: "GET / HTTP/1.1"`,
		`x, client: a b, client: 10.0.0.1, server: s`,
		`x, client: 10.0.0.1, server: s, request: "GET /?q=, client: 1.2.3.4, server: t HTTP/1.1"`,
		`recv() failed, udp client: 10.0.0.1, server: 0.0.0.0:53, upstream: 10.0.0.2:53, bytes from/to client:1/0`,
		"a while b while reading upstream",
		"x while " + strings.Repeat("a", 64),
		"x while while", "x while while while y", "a while b while reading upstream while",
		"p while reading upstream", "p while reading upstreamx while reading upstream",
		"x while " + strings.Repeat("a", 65),
		"x while " + strings.Repeat("a", 63),
		"x while " + strings.Repeat("ab ", 21) + "a",
		"x while " + strings.Repeat("ab ", 21) + "ab",
		"x while a(" + strings.Repeat("b", 56),
		"x while " + strings.Repeat("b", 56) + "(a",
		"(x) while reading upstream",
		"\xe1 while reading upstream",
		"while x",
		strings.Repeat("y", 100) + " while reading upstream",
		"f (2: a) (3: b)",
		"(" + strings.Repeat("x", 15),
		strings.Repeat("x", 7) + "(" + strings.Repeat("x", 8),
		"(\xa8" + strings.Repeat("x", 14),
		"f ((",
		// lastSpaceParen's tail: " (" only before it, "(" in it with no
		// space before, and " (" across its start.
		strings.Repeat("x", 100) + " (" + strings.Repeat("y", 70),
		"a (b" + strings.Repeat("(", 70),
		"z (" + strings.Repeat("y", 63),
		"w while while while w",
		" while ",
		"while ",
	} {
		checkSearches(t, s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		checkSearches(t, randomText(rng))
	}
}

func FuzzNginxSearches(f *testing.F) {
	for _, p := range pieces {
		f.Add(p + p)
	}
	f.Fuzz(checkSearches)
}

func TestNginxKeyAt(t *testing.T) {
	for k, pre := range nginxKeyPrefixes {
		for _, s := range []string{pre, pre + "x", pre[:len(pre)-1], "," + pre[2:], pre[1:]} {
			want := -1
			if strings.HasPrefix(s, pre) {
				want = k
			}
			if got := nginxKeyAt(s); got != want {
				t.Errorf("nginxKeyAt(%q) = %d, want %d", s, got, want)
			}
		}
	}
}

func TestNginxLevel(t *testing.T) {
	for l := LevelDebug; l <= LevelEmerg; l++ {
		name := l.String()
		for _, s := range []string{name + "] ", name + "] x", name + "]", name + "]x", name + " ] ", name[:len(name)-1] + "] ", "x" + name + "] "} {
			wantL, wantN := LevelNone, 0
			if strings.HasPrefix(s, name+"] ") {
				wantL, wantN = l, len(name)+2
			}
			if gotL, gotN := nginxLevel(s); gotL != wantL || gotN != wantN {
				t.Errorf("nginxLevel(%q) = %v, %d, want %v, %d", s, gotL, gotN, wantL, wantN)
			}
			if gotL, gotN := nginxLevel([]byte(s)); gotL != wantL || gotN != wantN {
				t.Errorf("nginxLevel([]byte(%q)) = %v, %d, want %v, %d", s, gotL, gotN, wantL, wantN)
			}
		}
	}
}

func TestAtoi(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int64
		used int
	}{
		{"", 0, 0},
		{"x1", 0, 0},
		{"0", 0, 1},
		{"1132#1132", 1132, 4},
		{"3636292 open()", 3636292, 7},
		{"123456789012345678", 123456789012345678, 18},
		{"1234567890123456789", 123456789012345678, 18}, // at most 18 digits
		{"9/", 9, 1}, {"9:", 9, 1}, // the bytes either side of the digits
	} {
		if n, used := atoi(tt.s); n != tt.n || used != tt.used {
			t.Errorf("atoi(%q) = %d, %d, want %d, %d", tt.s, n, used, tt.n, tt.used)
		}
	}
}
