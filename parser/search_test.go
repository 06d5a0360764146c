package parser

import (
	"math/rand/v2"
	"strings"
	"testing"
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

// plainAction: the text after the last " while ", if it is an action.
func plainAction(msg string) (action, core string) {
	if i := strings.LastIndex(msg, " while "); i >= 0 && isAction(msg[i+7:]) {
		return msg[i+7:], msg[:i]
	}
	return "", msg
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

func vhostEnd(s string) int {
	e := &Entry{}
	nginxFields(e, ", client: c, server: "+s)
	return len(e.VHost)
}

// pieces are what the searches look for, and what trips them up.
var pieces = []string{", referer: ", ", resolver: ", "a", ", client: ", ", udp client: ", "client: ", ", server: ", ", ", " while ", "while ", " (", "(", ")",
	`, request: "`, `, host: "`, `, upstream: `, `, upstream: "`, `, referrer: "`, `, subrequest: "`, `"`,
	" ", "\n", "10.0.0.1", "shop.test", "reading upstream", "x", "111: ", "udp "}

func randomText(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func checkSearches(t *testing.T, s string) {
	t.Helper()
	if got, want := nginxContext(s), plainNginxContext(s); got != want {
		t.Errorf("nginxContext(%q) = %d, want %d", s, got, want)
	}
	for _, sep := range []string{", referer: ", ", resolver: ", "aa", ", "} {
		if got, want := lastIndex(s, sep), strings.LastIndex(s, sep); got != want {
			t.Errorf("lastIndex(%q, %q) = %d, want %d", s, sep, got, want)
		}
	}
	if got, want := lastWhile(s), strings.LastIndex(s, " while "); got != want {
		t.Errorf("lastWhile(%q) = %d, want %d", s, got, want)
	}
	if got, want := lastSpaceParen(s), strings.LastIndex(s, " ("); got != want {
		t.Errorf("lastSpaceParen(%q) = %d, want %d", s, got, want)
	}
	wantAction, wantCore := plainAction(s)
	if gotAction, gotCore := nginxAction(s); gotAction != wantAction || gotCore != wantCore {
		t.Errorf("nginxAction(%q) = %q, %q, want %q, %q", s, gotAction, gotCore, wantAction, wantCore)
	}
	if got, want := vhostEnd(s), plainVHostEnd(s); got != want {
		t.Errorf("server: in %q ends at %d, want %d", s, got, want)
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
		"x while " + strings.Repeat("a", 65),
		strings.Repeat("y", 100) + " while reading upstream",
		"f (2: a) (3: b)",
		"f ((",
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
