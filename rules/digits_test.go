package rules

import (
	"math/rand/v2"
	"regexp/syntax"
	"testing"

	"github.com/logtriage/logtriage/parser"
)

// maskPlain is maskDigits a byte at a time.
func maskPlain(s string) (string, bool) {
	b, found := []byte(s), false
	for i, c := range b {
		if '0' <= c && c <= '9' {
			b[i], found = '0', true
		}
	}
	return string(b), found
}

// TestMaskDigits puts every byte value at every place of a word and of
// the tail after the words, among other bytes of every kind, and
// compares with a byte at a time.
func TestMaskDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs []string
	const base = "ab/:9\x80\xff.0 xyz~ZA@[`" // two words and a tail of three
	for c := range 256 {
		for at := range len(base) {
			b := []byte(base)
			b[at] = byte(c)
			inputs = append(inputs, string(b))
		}
	}
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		inputs = append(inputs, string(b))
	}
	inputs = append(inputs, "", "7", "no digits here at all", "0123456789")
	for _, in := range inputs {
		want, wantAny := maskPlain(in)
		got, found := maskDigits([]byte("prefix"), in)
		if string(got) != "prefix"+want || found != wantAny {
			t.Errorf("maskDigits(%q) = %q, %v; want %q, %v", in, got, found, "prefix"+want, wantAny)
		}
	}
}

func TestTellsDigits(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		want    bool
	}{
		{`\d+`, false},
		{`[0-9a-f]+`, false},
		{`[^)]*`, false},
		{`.*?`, false},
		{`\w+\b`, false},
		{`\D`, false},
		{`[^\d]`, false},
		{`[[:alnum:]]`, false},
		{`(?i)connect\(\) failed`, false},
		{`(?P<n>[\d.]+) seconds`, false},
		{`[1-9]\d*`, true},
		{`[^0-5]`, true},
		{`\(111: `, true},
		{`HTTP/1\.0`, true},
		{`(?:2|20|36): `, true},
		{`signal 9\b`, true},
		{`x[a-z5]`, true},
	} {
		re, err := syntax.Parse(tt.pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := tellsDigits(re.Simplify()); got != tt.want {
			t.Errorf("tellsDigits(%s) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

// TestDigitCacheRetries fills the cache by digit mask from one message
// and asks it about others of the same mask, with the tricky rules: a
// later rule that treats digits alike is remembered, and an earlier one
// that tells them apart is tried again on each message.
func TestDigitCacheRetries(t *testing.T) {
	s := trickySet(t)
	sr := s.byServer[parser.Nginx].index()
	pos := func(id string) int {
		for i, r := range sr.rules {
			if r.ID == id {
				return i
			}
		}
		t.Fatalf("no rule %s", id)
		return -1
	}
	for _, tt := range []struct{ first, then, wantFirst, wantThen string }{
		{"exited with code 0 after 1 s", "exited with code 7 after 1 s", "t.code_any", "t.code_nonzero"},
		{"exited with code 7 after 1 s", "exited with code 0 after 1 s", "t.code_nonzero", "t.code_any"},
		{"read() \"/a\" failed (12: x)", "read() \"/a\" failed (13: x)", "t.errno_any", "t.digit_anchor"},
		{"sent HTTP/2.0 header", "sent HTTP/1.0 header", "t.http_any", "t.http10"},
		{"sent HTTP/1.0 header", "sent HTTP/2.0 header", "t.http10", "t.http_any"},
	} {
		c := s.caches.New().(*matchCache) // its own, as the cases share masks
		for _, step := range []struct{ msg, want string }{{tt.first, tt.wantFirst}, {tt.then, tt.wantThen}} {
			e := parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: step.msg}
			got, _ := sr.findMasked(&e, c)
			if got != pos(step.want) {
				t.Errorf("after %q, %q: rule %d, want %s (%d)", tt.first, step.msg, got, step.want, pos(step.want))
			}
		}
		// The second message was answered from the first one's slot.
		key, _ := maskDigits(nil, tt.first)
		found := false
		for _, sl := range c.digits {
			found = found || sl.full && string(sl.key) == string(key) && sl.pos == pos(tt.wantFirst)
		}
		if !found {
			t.Errorf("no slot for %q keeps %s", key, tt.wantFirst)
		}
	}
}
