package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
)

// outcome is what a match says, in a form cmp can compare.
type outcome struct {
	ID      string
	Values  []string
	Subject string
}

func outcomeOf(m Match, ok bool) outcome {
	if !ok {
		return outcome{}
	}
	return outcome{ID: m.Rule.ID, Values: m.Values(), Subject: m.Subject}
}

// sameAsPlain checks that Match, and a Matcher's MatchInto, give what
// matchPlain gives for e: twice, since the second answer comes from the
// cache of recent messages.
func sameAsPlain(t *testing.T, s *Set, e *parser.Entry) {
	t.Helper()
	want := outcomeOf(s.matchPlain(e))
	mt := testMatcher(s)
	mt.Lock()
	defer mt.Unlock()
	for _, pass := range []string{"fresh", "cached"} {
		if diff := cmp.Diff(want, outcomeOf(s.Match(e))); diff != "" {
			t.Errorf("%s:%d (%s, %s, errno %d, %s): Match differs from the plain path (-want +got):\n%s\nmessage %q",
				e.File, e.Line, e.Server, e.Level, e.Errno, pass, diff, e.Message)
		}
		var m Match
		ok := mt.MatchInto(e, &m)
		if diff := cmp.Diff(want, outcomeOf(m, ok)); diff != "" {
			t.Errorf("%s:%d (%s, %s, errno %d, %s): a Matcher differs from the plain path (-want +got):\n%s\nmessage %q",
				e.File, e.Line, e.Server, e.Level, e.Errno, pass, diff, e.Message)
		}
	}
}

// testMatchers holds one Matcher per Set, kept across the records of a
// test so that its cache holds the outcomes of other messages, as a
// worker's does.
var testMatchers sync.Map // *Set -> *lockedMatcher

type lockedMatcher struct {
	sync.Mutex
	*Matcher
}

func testMatcher(s *Set) *lockedMatcher {
	if mt, ok := testMatchers.Load(s); ok {
		return mt.(*lockedMatcher)
	}
	mt, _ := testMatchers.LoadOrStore(s, &lockedMatcher{Matcher: s.NewMatcher()})
	return mt.(*lockedMatcher)
}

// variants returns e and copies of it at other levels and errnos, which
// rules filter on before the message: a cache keyed on the message alone
// would confuse them.
func variants(e *parser.Entry) []parser.Entry {
	out := []parser.Entry{*e}
	for _, lv := range []parser.Level{parser.LevelCrit, parser.LevelEmerg, parser.LevelWarn} {
		if lv != e.Level {
			v := *e
			v.Level = lv
			out = append(out, v)
		}
	}
	for _, errno := range []int{0, 2, 11, 111} {
		if errno != e.Errno {
			v := *e
			v.Errno = errno
			out = append(out, v)
		}
	}
	// Messages with other digits in them: each one has the digit mask of
	// e's, so the cache by digit mask answers for it from e's outcome.
	for _, change := range []func(i int, d byte) byte{
		func(_ int, d byte) byte { return '0' + (d-'0'+1)%10 },
		func(_ int, d byte) byte { return '9' },
		func(i int, d byte) byte {
			if i == 0 {
				return '0' + (d-'0'+5)%10
			}
			return d
		},
	} {
		msg, i := []byte(e.Message), 0
		for j, c := range msg {
			if '0' <= c && c <= '9' {
				msg[j] = change(i, c)
				i++
			}
		}
		if i > 0 && string(msg) != e.Message {
			v := *e
			v.Message = string(msg)
			out = append(out, v)
		}
	}
	return out
}

// TestMatchExamplesDifferential: every example line of every built-in
// rule, and its level and errno variants.
func TestMatchExamplesDifferential(t *testing.T) {
	s := builtinSet(t)
	for _, r := range s.Rules() {
		for _, ex := range r.Examples {
			for _, f := range []parser.Format{parser.FormatAuto, parser.FormatNginx, parser.FormatApache24, parser.FormatFPM} {
				for _, e := range parseExample(ex, f) {
					for _, v := range variants(&e) {
						sameAsPlain(t, s, &v)
					}
				}
			}
		}
	}
}

// TestMatchCorpusDifferential: every record of every log in the corpus.
func TestMatchCorpusDifferential(t *testing.T) {
	s := builtinSet(t)
	corpusLogs(t, func(t *testing.T, rel string, f *os.File) {
		n := 0
		_, err := parser.Scan(f, parser.Options{File: rel, Location: time.UTC}, func(e *parser.Entry) {
			n++
			for _, v := range variants(e) {
				sameAsPlain(t, s, &v)
			}
		})
		if err != nil || n == 0 {
			t.Fatalf("%d records, %v", n, err)
		}
	})
}

// trickySet holds rules whose patterns stretch the prefilters: case
// folding, multi-line anchors, alternations, U+FFFD, rules that share an
// anchor and rules filtered by level and errno. Their order matters:
// earlier, broader rules shadow later ones.
func trickySet(t testing.TB) *Set {
	t.Helper()
	defs := []struct {
		id, anchor, pattern string
		levels              []parser.Level
		errno               []int
	}{
		{"t.fold", "onnect", `(?i)^CONNECT\(\) (?P<rest>.*)`, nil, nil},
		{"t.multiline", "PHP", `(?m)^PHP (?P<kind>\w+) error`, nil, nil},
		{"t.crit_only", "failed (", `^(?P<call>\w+)\(\) failed \((?P<code>\d+)`, []parser.Level{parser.LevelCrit}, nil},
		{"t.errno", "failed (", `failed \((?P<code>11|111): `, nil, []int{11, 111}},
		{"t.alt", "timed out", `^(?:upstream|client) timed out(?: \((?P<code>\d+): [^)]*\))?`, nil, nil},
		{"t.branch_anchors", "b", `^ab|^b`, nil, nil},
		{"t.fffd", "x", "^\\x{FFFD}x|^a\\x{FFFD}", nil, nil},
		{"t.class", "ed", `^[a-c]ed`, nil, nil},
		{"t.optional_all", "", `^(?:x)?`, []parser.Level{parser.LevelEmerg}, nil},
		{"t.unicode", "é", `^caf(?P<e>é+) `, nil, nil},
		{"t.quest_prefix", "ab", `^a?b?ab`, nil, nil},
		// Anchors the prefixes do not vouch for: still required.
		{"t.anchor_after_prefix", "refused", `^connect\(\) `, nil, nil},
		{"t.anchor_in_one_prefix", "open", `^(?:open|stat)\(\) "`, nil, nil},
		// Rules that tell digits apart, before rules that do not and would
		// match the same messages: the cache by digit mask must try them
		// again on every message.
		{"t.code_nonzero", "code ", `^exited with code (?P<code>[1-9]\d*)`, nil, nil},
		{"t.digit_anchor", "(13: ", `\(13: (?P<text>[^)]*)\)`, nil, nil},
		{"t.http10", "HTTP/", `HTTP/1\.0 (?P<what>\w+)`, nil, nil},
		{"t.code_any", "exited with code", `code (?P<code>\d+)`, nil, nil},
		{"t.errno_any", "failed (", `failed \((?P<code>\d+): (?P<text>[^)]*)\)`, nil, nil},
		{"t.http_any", "HTTP/", `HTTP/(?P<v>\d\.\d) (?P<what>\w+)`, nil, nil},
		{"t.generic", " ", ` (?P<word>\S+)$`, nil, nil},
	}
	var rs []*Rule
	for _, d := range defs {
		re := regexp.MustCompile(d.pattern)
		rs = append(rs, &Rule{ID: d.id, Servers: []parser.Server{parser.Nginx}, Levels: d.levels, Errno: d.errno,
			Anchor: d.anchor, Pattern: re, names: re.SubexpNames()})
	}
	return NewSet(rs)
}

// messages are arbitrary nginx messages for the tricky rules and the
// fuzz seeds.
var messages = []string{
	"connect() failed (111: Connection refused) while connecting to upstream",
	"CoNnEcT() to x",
	"recv() failed (104: Connection reset by peer)",
	"FastCGI sent in stderr: \"x\nPHP Fatal error:  boom\" while reading",
	"upstream timed out (110: Connection timed out) while reading",
	"client timed out",
	"ab", "b", "bab", "\xffx", "a\xff", "\ufffdx", "bed", "zed", "café ", "cafe ", "abab", "bab ab", "",
	"a client request body is buffered to a temporary file /var/lib/nginx/body/0000000001",
	"open() \"/srv/www/favicon.ico\" failed (2: No such file or directory)",
	"limiting requests, excess: 1.000 by zone \"one\"",
	"connect() to x failed", "stat() \"x\"", "open() \"x\"", "stat() \"open\"",
	"exited with code 0 after 1.5 s", "exited with code 10 after 2 s", "open() \"/a/3\" failed (13: Permission denied)",
	"upstream sent no valid HTTP/1.0 header", "upstream sent no valid HTTP/2.0 header", "sent HTTP/1.0 header (13: x) code 13",
}

func TestMatchTrickyDifferential(t *testing.T) {
	s := trickySet(t)
	for _, msg := range messages {
		e := parser.Entry{File: "tricky", Server: parser.Nginx, Level: parser.LevelError, Errno: 111, Message: msg}
		for _, v := range variants(&e) {
			sameAsPlain(t, s, &v)
		}
	}
}

// TestMatchCacheCollisions matches more distinct messages than the cache
// has slots, in an order that revisits them, so that slots are replaced
// and reused while answers stay right.
func TestMatchCacheCollisions(t *testing.T) {
	s := builtinSet(t)
	for round := range 3 {
		for i := range cacheSlots * 2 {
			msgs := []string{
				fmt.Sprintf("connect() to unix:/run/php/p%d.sock failed (111: Connection refused) while connecting to upstream", i),
				fmt.Sprintf("open() \"/srv/%d\" failed (2: No such file or directory)", i),
				fmt.Sprintf("unknown message %d", i),
			}
			for j, msg := range msgs {
				e := parser.Entry{File: "collide", Line: round, Server: parser.Nginx, Level: parser.LevelError, Errno: []int{111, 2, 0}[j], Message: msg}
				sameAsPlain(t, s, &e)
			}
		}
	}
}

// Long messages bypass the cache and must still match.
func TestMatchLongMessage(t *testing.T) {
	s := builtinSet(t)
	msg := "FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Exception: " + strings.Repeat("x", 2*maxCached) + " in /srv/app/index.php:12\""
	e := parser.Entry{File: "long", Server: parser.Nginx, Level: parser.LevelError, Message: msg}
	sameAsPlain(t, s, &e)
	if m, ok := s.Match(&e); !ok || m.Rule.ID != "nginx.fastcgi.stderr.php_uncaught_exception" {
		t.Errorf("long message matched %v, want nginx.fastcgi.stderr.php_uncaught_exception", outcomeOf(m, ok).ID)
	}
}

// A message no rule matches costs no allocation, fresh or cached.
func TestMatchMissAllocs(t *testing.T) {
	s := builtinSet(t)
	e := parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: "frobnicator exploded at 0x1f after 3 tries, connect() said nothing"}
	// One cache throughout: under the race detector the pool drops some
	// of what is put back, and a new cache is an allocation.
	c := s.caches.Get().(*matchCache)
	sr := s.byServer[parser.Nginx].index()
	var m Match
	sr.match(&e, c, &m) // warms the slot's buffers
	if n := testing.AllocsPerRun(100, func() { sr.match(&e, c, &m) }); n != 0 {
		t.Errorf("Match of a message no rule knows: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { sr.find(&e, &c.scratch) }); n != 0 {
		t.Errorf("find of a message no rule knows: %v allocations, want 0", n)
	}
}

// FuzzMatchDifferential matches arbitrary messages at several levels and
// errnos with both paths, on the built-in rules and the tricky ones.
func FuzzMatchDifferential(f *testing.F) {
	builtin, tricky := builtinSet(f), trickySet(f)
	for _, msg := range messages {
		f.Add(msg, uint8(parser.Nginx), uint8(parser.LevelError), 111)
	}
	for _, r := range builtin.Rules() {
		for _, ex := range r.Examples[:1] {
			for _, e := range parseExample(ex, parser.FormatAuto) {
				f.Add(e.Message, uint8(e.Server), uint8(e.Level), e.Errno)
			}
		}
	}
	f.Fuzz(func(t *testing.T, msg string, server, level uint8, errno int) {
		e := parser.Entry{File: "fuzz", Server: parser.Server(server % 5), Level: parser.Level(level % 10), Errno: errno, Message: msg}
		for _, s := range []*Set{builtin, tricky} {
			for _, v := range variants(&e) {
				sameAsPlain(t, s, &v)
			}
		}
	})
}

// Match is safe for concurrent use: goroutines matching the same records
// at once (each with its own cache from the pool) get the plain answers.
func TestMatchConcurrent(t *testing.T) {
	s := builtinSet(t)
	files, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", "*", "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus files: %d, %v", len(files), err)
	}
	var entries []parser.Entry
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		parser.Scan(f, parser.Options{File: name, Location: time.UTC}, func(e *parser.Entry) { entries = append(entries, *e) })
		f.Close()
	}
	want := make([]outcome, len(entries))
	for i := range entries {
		want[i] = outcomeOf(s.matchPlain(&entries[i]))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 3 {
				for k := range entries {
					i := (k*(g+1) + round) % len(entries)
					if diff := cmp.Diff(want[i], outcomeOf(s.Match(&entries[i]))); diff != "" {
						t.Errorf("%s:%d: concurrent Match differs from the plain path (-want +got):\n%s", entries[i].File, entries[i].Line, diff)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// A Match keeps its submatches without a slice of its own up to
// maxInline of them, and in one beyond: both read the same, a group that
// took no part included.
func TestMatchManySubmatches(t *testing.T) {
	for _, groups := range []int{0, maxInline - 2, maxInline - 1, maxInline, 3 * maxInline} {
		pat, msg := "^", ""
		for i := range groups {
			pat += fmt.Sprintf("v(?P<g%d>[a-z])-", i)
			msg += fmt.Sprintf("v%c-", 'a'+i%26)
		}
		pat += "(?P<absent>z)?end"
		msg += "end"
		re := regexp.MustCompile(pat)
		r := &Rule{ID: "t.many", Servers: []parser.Server{parser.Nginx}, Anchor: "end", Pattern: re, names: re.SubexpNames()}
		e := parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: msg}
		m, ok := NewSet([]*Rule{r}).Match(&e)
		if !ok {
			t.Fatalf("%d groups: no match", groups)
		}
		if diff := cmp.Diff(re.FindStringSubmatch(msg), m.Values()); diff != "" {
			t.Errorf("%d groups (-want +got):\n%s", groups, diff)
		}
		for i := range groups {
			if got, want := m.Capture(fmt.Sprintf("g%d", i)), string(rune('a'+i%26)); got != want {
				t.Errorf("%d groups: g%d = %q, want %q", groups, i, got, want)
			}
		}
		if m.Capture("absent") != "" || m.Value(-1) != "" || m.Value(groups+2) != "" {
			t.Errorf("%d groups: a value that is not there is not empty", groups)
		}
	}
}

// A record matched again from the cache, by a rule with a few captures,
// costs no allocation.
func TestMatchHitAllocs(t *testing.T) {
	s := builtinSet(t)
	e := parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Errno: 11,
		Message: "connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream"}
	if m, ok := s.Match(&e); !ok || m.Rule.ID != "nginx.upstream.connect.unix_eagain" {
		t.Fatalf("matched %v", outcomeOf(m, ok))
	}
	c := s.caches.Get().(*matchCache) // one cache: see TestMatchMissAllocs
	sr := s.byServer[parser.Nginx].index()
	var m Match
	sr.match(&e, c, &m)
	if n := testing.AllocsPerRun(100, func() { sr.match(&e, c, &m) }); n != 0 {
		t.Errorf("Match of a known message: %v allocations, want 0", n)
	}
}

// A match of more submatches than a Match holds inline keeps its own
// offsets: one taken from the cache stays right after the slot it came
// from has held other messages.
func TestMatchManySubmatchesKept(t *testing.T) {
	re := regexp.MustCompile(`^(a)(b)(c)(d)(e)(f)(g)(h)(i)(?P<n>\d+)$`)
	s := NewSet([]*Rule{{ID: "t.many", Servers: []parser.Server{parser.Nginx}, Anchor: "abc", Pattern: re, names: re.SubexpNames()}})
	match := func(msg string) Match {
		t.Helper()
		e := parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: msg}
		m, ok := s.Match(&e)
		if !ok {
			t.Fatalf("%q: no match", msg)
		}
		return m
	}
	match("abcdefghi7")
	kept := match("abcdefghi7") // from the cache
	for i := range 5000 {
		msg := fmt.Sprintf("abcdefghi%d", 100+i)
		if m := match(msg); m.Capture("n") != msg[9:] {
			t.Fatalf("%q: n = %q", msg, m.Capture("n"))
		}
	}
	want := []string{"abcdefghi7", "a", "b", "c", "d", "e", "f", "g", "h", "i", "7"}
	if diff := cmp.Diff(want, kept.Values()); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// A subject template, bound to its pattern's captures when loaded,
// expands as the template read name by name does, on every example of
// every built-in rule; one of a single part costs no allocation.
func TestBoundSubjectSameAsExpand(t *testing.T) {
	s := builtinSet(t)
	compared := 0
	for _, r := range s.Rules() {
		if !r.Subject.bound {
			t.Fatalf("%s: subject not bound", r.ID)
		}
		unbound := *r
		unbound.Subject.bound = false
		for _, ex := range r.Examples {
			for _, e := range parseExample(ex, parser.FormatAuto) {
				m, ok := s.Match(&e)
				if !ok || m.Rule != r {
					continue
				}
				compared++
				if got, want := r.subject(&e, &m), unbound.subject(&e, &m); got != want {
					t.Errorf("%s: subject %q, read name by name %q", ex.Source, got, want)
				}
				if len(r.Subject.parts) == 1 {
					if n := testing.AllocsPerRun(10, func() { r.subject(&e, &m) }); n != 0 {
						t.Errorf("%s: subject %q costs %v allocations, want 0", ex.Source, r.Subject, n)
					}
				}
			}
		}
	}
	if compared < 300 {
		t.Errorf("%d examples compared", compared)
	}
}

// TestIndexBuiltOnFirstUse: a server's index is built when a record of
// that server is first matched, once, also when the first records come
// on several goroutines at once; the other servers' are not built.
func TestIndexBuiltOnFirstUse(t *testing.T) {
	s := builtinSet(t)
	for srv := range s.byServer {
		if s.byServer[srv].sr.rules != nil {
			t.Fatalf("server %d: index built before any match", srv)
		}
	}
	line := `2026/11/21 09:15:16 [error] 1134#1134: *777100 connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream, client: 43.26.143.84, server: shop.example.com`
	var entries []parser.Entry
	parser.Scan(strings.NewReader(line), parser.Options{Location: time.UTC}, func(e *parser.Entry) { entries = append(entries, *e) })
	if len(entries) != 1 || entries[0].Server != parser.Nginx {
		t.Fatalf("parsed %+v", entries)
	}
	want, ok := s.matchPlain(&entries[0])
	if !ok {
		t.Fatal("the plain path matches nothing")
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			e := entries[0]
			var m Match
			if s.NewMatcher().MatchInto(&e, &m) {
				got[i] = m.Rule.ID
			}
		})
	}
	wg.Wait()
	for i, id := range got {
		if id != want.Rule.ID {
			t.Errorf("goroutine %d matched %q, want %q", i, id, want.Rule.ID)
		}
	}
	if s.byServer[parser.Nginx].sr.rules == nil {
		t.Error("nginx index not built")
	}
	for _, srv := range []parser.Server{parser.Apache, parser.FPM} {
		if s.byServer[srv].sr.rules != nil {
			t.Errorf("%v index built by an nginx record", srv)
		}
	}
}
