package rules

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// simpleIndex runs p on text the way find does, and says whether it
// decided.
func simpleIndex(p *simpleProg, text string) ([]int, bool) {
	idx, _, done := p.match(text, make([]int, p.slots), nil)
	return idx, done
}

// sameAsRegexp fails unless p, compiled from pattern, gives what the
// regexp package gives on text. mayGiveUp: p may leave text to the
// regexp instead.
func sameAsRegexp(t *testing.T, pattern string, p *simpleProg, text string, mayGiveUp bool) {
	t.Helper()
	want := regexp.MustCompile(pattern).FindStringSubmatchIndex(text)
	got, done := simpleIndex(p, text)
	if !done {
		if !mayGiveUp {
			t.Errorf("%q gave up on %q", pattern, text)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%q on %q (-regexp +simple):\n%s", pattern, text, diff)
	}
}

// simpleCases are patterns the simple matcher takes, with texts that
// exercise their branches.
var simpleCases = []struct {
	pattern string
	texts   []string
}{
	{`^connect\(\) to (?P<peer>unix:\S+) failed \(111: [^)]*\) while connecting to upstream`, []string{
		"connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream",
		"connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream",
		"connect() to unix: failed (111: x) while connecting to upstream",
		"connect() to 10.0.0.1:9000 failed (111: Connection refused) while connecting to upstream",
		"connect() to unix:/s failed (111: Connection refused) while connecting",
	}},
	{`^(?:kevent\(\) reported that )?connect\(\) (?:to (?P<peer>\S+) )?failed \((?P<code>\d+): [^)]*\) while connecting to upstream`, []string{
		"connect() failed (111: Connection refused) while connecting to upstream",
		"connect() to 127.0.0.1:8080 failed (113: No route to host) while connecting to upstream",
		"kevent() reported that connect() failed (61: Connection refused) while connecting to upstream",
		"kevent() reported that connect() to [::1]:80 failed (61: x) while connecting to upstream, client: 1.2.3.4",
		"connect() to  failed (1: x) while connecting to upstream",
		"connect() to a b failed (1: x) while connecting to upstream",
	}},
	// Alternatives sharing a prefix: open must give way to opendir.
	{`^(?P<syscall>open|stat|lstat|opendir|realpath)\(\) "(?P<path>[^"]*)" failed \((?:2|20|36): [^)]*\)`, []string{
		`open() "/var/www/x.png" failed (2: No such file or directory)`,
		`opendir() "/var/www/" failed (20: Not a directory)`,
		`open() "" failed (36: File name too long)`,
		`open() "/a" failed (3: x)`,
		`stat() "/a" failed (202: x)`,
		`realpath() "/é/\xff" failed (2: x)`,
	}},
	{`^limiting requests, excess: (?P<excess>\d+\.\d+) by zone "(?P<zone>[^"]+)"`, []string{
		`limiting requests, excess: 11.383 by zone "perip"`,
		`limiting requests, excess: 11. by zone "perip"`,
		`limiting requests, excess: .5 by zone "perip"`,
		`limiting requests, excess: 1.5 by zone ""`,
	}},
	{`^client timed out \(110: [^)]*\)(?: while (?P<phase>[a-z ]+))?`, []string{
		"client timed out (110: Connection timed out) while sending to client",
		"client timed out (110: Connection timed out)",
		"client timed out (110: Connection timed out) while ",
		"client timed out (110: Connection timed out) while SSL",
	}},
	{`^upstream sent invalid header(?::? "(?P<header>[^"]*?)(?:\\x(?P<byte>[0-9a-fA-F]{2})\.\.\.)?")?(?: while |$)`, []string{
		`upstream sent invalid header: "X-Foo\x0A..." while reading response header from upstream`,
		`upstream sent invalid header: "X-Foo" while reading response header from upstream`,
		`upstream sent invalid header "" while`,
		`upstream sent invalid header`,
		`upstream sent invalid header: "a\x0G..."`,
		`upstream sent invalid header: "a\x0A...\x0B..."`,
	}},
	// Lazy runs: as few characters as will do, the first place the rest
	// matches, a literal or not after them.
	{`(?s)^FastCGI sent in stderr: ".*?PHP Warning:  (?:[^\n]*? in (?P<php_file>/\S+) on line \d+)?`, []string{
		`FastCGI sent in stderr: "PHP message: PHP Warning:  Undefined variable $x in /var/www/a.php on line 73" while reading`,
		"FastCGI sent in stderr: \"PHP message: PHP Warning:  a\nb in /x.php on line 1\"",
		"FastCGI sent in stderr: \"PHP message: PHP Warning:  a in b in /x.php on line 1 in /y.php on line 2\"",
		"FastCGI sent in stderr: \"x\nPHP Warning:  PHP Warning:  é in /é on line 9",
		"FastCGI sent in stderr: \"no warning here",
		"FastCGI sent in stderr: \"PHP Warning:  in /a on line x",
	}},
	{`^(.*?)x`, []string{"x", "ax", "aax", "a\nx", "éx", "\xffx", "a", ""}},
	{`^(.*?)(x|xy)z`, []string{"xyz", "axyz", "xz", "axaxyz", "xy"}},
	{`^a+?(b??)(a*?)$`, []string{"a", "ab", "aab", "aaba", "b"}},
	{`^([^,]*?),(.??)(.*?)$`, []string{"a,b", ",", "é,é", "a,,", "abc"}},
	{`^(?:.*?a)?.*?b`, []string{"aab", "bab", "b", "ccc"}},
	{`^(?P<process>[a-z ]+ process) (?P<proc_pid>\d+) exited on signal (?P<signal>\d+)(?P<core> \(core dumped\))?`, nil}, // [a-z ]+ then " process": not simple
	{`^an upstream response is buffered to a temporary file (?P<path>\S+)`, []string{
		"an upstream response is buffered to a temporary file /var/lib/nginx/fastcgi/1/00/0000000001 while reading upstream",
		"an upstream response is buffered to a temporary file ",
	}},
	{`^(?P<count>\d+) worker_connections are not enough$`, []string{
		"1024 worker_connections are not enough",
		"1024 worker_connections are not enough, reusing connections",
		" worker_connections are not enough",
	}},
	// Nested optional groups and alternation inside a capture, tried in order.
	{`^a(?P<x>b|bc)?(?:c(?P<y>d)?)?e?$`, []string{"a", "ab", "abc", "abcd", "abcde", "acd", "ace", "abce", "abx", "abcc"}},
	{`^x(?:(a)|(a)b)c`, []string{"xac", "xabc", "xab", "xc"}},
	{`^(?:)(a?)b`, []string{"ab", "b", "aab"}},
	// One character of a class with non-ASCII runes: a whole character.
	{`^.(.)x`, []string{"abx", "ébx", "aéx", "\xffax", "a\xe2\x82x", "a\nx", "\nax"}},
	{`^(?s).(.)x`, []string{"a\nx", "\n\nx"}},
	{`^[^"]?"`, []string{`"`, `é"`, `ab"`, "\xff\"", ``}},
	{`^\S*$`, []string{"", "abc", "ab c", "é\xff", "a\tb"}},
	{`^\d`, []string{"1", "a", ""}},
}

func TestSimpleMatchesRegexp(t *testing.T) {
	for _, c := range simpleCases {
		p := compileSimple(simplified(c.pattern))
		if c.texts == nil {
			if p != nil {
				t.Errorf("%q compiled as simple", c.pattern)
			}
			continue
		}
		if p == nil {
			t.Errorf("%q is not simple", c.pattern)
			continue
		}
		for _, text := range c.texts {
			sameAsRegexp(t, c.pattern, p, text, false)
		}
	}
}

// TestSimpleRefuses lists patterns the simple matcher must leave to the
// regexp: unanchored, a run that could have to give back, non-greedy,
// case folding, classes with only some non-ASCII characters, repeats of
// groups, assertions it does not know.
func TestSimpleRefuses(t *testing.T) {
	for _, pattern := range []string{
		`connect\(\) failed`,
		`a|^b`,
		`(^a)`,
		`^\S+\S`,
		`^[^"]*[^x]`,
		`^\d+(?:\.\d+)?\d`,
		`^a*(?:b|a)`,
		`^x(?:a*)?a`,
		`(?i)^abc`,
		`^[à-é]+`,
		`^\x{FFFD}`,
		`^(?:ab)*?`,
		`^(?:ab)*`,
		`^(?:ab)+`,
		`^a\bb`,
		`(?m)^a$`,
		`^a^b`,
		`^[^\x{100}]x`,
		`^(?:a?){20}`,
	} {
		if compileSimple(simplified(pattern)) != nil {
			t.Errorf("%q compiled as simple", pattern)
		}
	}
}

// A text that would take more steps than its budget is left to the
// regexp, however long: the matcher's time stays proportional to the
// text's length.
func TestSimpleGivesUp(t *testing.T) {
	pattern := `^(?s)(?:.*?a)?(?:.*?a)?(?:.*?a)?.*?b.*?c$`
	p := compileSimple(simplified(pattern))
	if p == nil {
		t.Fatalf("%q is not simple", pattern)
	}
	text := strings.Repeat("ab", 400)
	if _, done := simpleIndex(p, text); done {
		t.Errorf("decided %d bytes of a text that backtracks on every byte", len(text))
	}
	if _, done := simpleIndex(p, "aabc"); !done {
		t.Error("gave up on a short text")
	}
}

// TestSimpleBuiltin: every built-in pattern the simple matcher takes
// gives what the regexp gives on each example line's message, and the
// patterns of the most frequent nginx records are among them.
func TestSimpleBuiltin(t *testing.T) {
	s := builtinSet(t)
	simple := 0
	for _, r := range s.Rules() {
		if r.Pattern == nil {
			continue
		}
		p := compileSimple(simplified(r.Pattern.String()))
		if p == nil {
			continue
		}
		simple++
		for _, ex := range r.Examples {
			for _, e := range parseExample(ex, 0) {
				sameAsRegexp(t, r.Pattern.String(), p, e.Message, false)
			}
		}
	}
	t.Logf("%d of %d built-in patterns are simple", simple, len(s.Rules()))
	for _, id := range []string{
		"nginx.upstream.connect.unix_eagain",
		"nginx.upstream.timeout.read_header",
		"nginx.static.open_failed.not_found",
		"nginx.limit_req.rejected",
	} {
		r := s.Rule(id)
		if r == nil {
			t.Errorf("no rule %s", id)
			continue
		}
		if compileSimple(simplified(r.Pattern.String())) == nil {
			t.Errorf("%s: %q is not simple", id, r.Pattern)
		}
	}
}

// FuzzSimple compiles arbitrary patterns; whenever the simple matcher
// takes one, it must agree with the regexp on the text.
func FuzzSimple(f *testing.F) {
	for _, c := range simpleCases {
		for _, text := range c.texts {
			f.Add(c.pattern, text)
		}
	}
	f.Add(`^a(b|bc)?c?d`, "abcd")
	f.Add(`^(?:x|xy)?y?z`, "xyz")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		if _, err := regexp.Compile(pattern); err != nil {
			return
		}
		if p := compileSimple(simplified(pattern)); p != nil {
			sameAsRegexp(t, pattern, p, text, true)
		}
	})
}
