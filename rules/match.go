package rules

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logtriage/logtriage/parser"
)

// Set is a loaded, ordered rule library. It is safe for concurrent use;
// its rules must not change once the set is built.
type Set struct {
	all      []*Rule
	byServer [4]lazyIndex
	byID     map[string]*Rule
	caches   sync.Pool // of *matchCache
}

// lazyIndex is the index of one server's rules, built the first time a
// record of that server is matched: a run over nginx and php-fpm logs
// never builds Apache's, and the records first read are parsed while
// their server's index is built.
type lazyIndex struct {
	once  sync.Once
	rules []*Rule
	sr    serverRules
}

// index returns the built index.
func (x *lazyIndex) index() *serverRules {
	x.once.Do(func() { x.sr = newServerRules(x.rules) })
	return &x.sr
}

// NewSet makes a set of rules, which are tried in the order given. The
// rules of each server are indexed when a record of that server is first
// matched; their patterns are read as regexp.Compile reads them (the
// index derives literal prefilters from their text). A rule without a
// pattern (a disabled one) is never tried.
func NewSet(rules []*Rule) *Set {
	s := &Set{all: rules, byID: make(map[string]*Rule, len(rules))}
	for _, r := range rules {
		s.byID[r.ID] = r
		for _, srv := range r.Servers {
			if int(srv) < len(s.byServer) && r.Pattern != nil {
				s.byServer[srv].rules = append(s.byServer[srv].rules, r)
			}
		}
	}
	maxSlots := 0
	for _, r := range rules {
		if r.Pattern != nil {
			maxSlots = max(maxSlots, 2*(r.Pattern.NumSubexp()+1))
		}
	}
	s.caches.New = func() any { return newMatchCache(maxSlots) }
	return s
}

// Rules returns the rules in matching order.
func (s *Set) Rules() []*Rule { return s.all }

// Rule returns the rule with the given id, or nil.
func (s *Set) Rule(id string) *Rule { return s.byID[id] }

// Match finds the first rule that matches e. Unparsed entries match
// nothing: their message is a raw line of unknown shape.
//
// The result is that of trying every rule of the entry's server in order
// (levels, errno, anchor, pattern), which is what the tests compare it
// with. It is found faster: the outcome for a recent message is
// remembered (logs repeat their messages), and so is the outcome for a
// recent message that differed only in its digits, where that says what
// the outcome for this one is (see digitSlot); one pass over a new message
// finds the rules whose anchors it contains, and a pattern only runs when
// the literals it requires are there; most patterns run on a matcher made
// for their simple shape (see simpleProg) rather than on the regexp. A
// message no rule matches costs no allocation.
func (s *Set) Match(e *parser.Entry) (Match, bool) {
	var m Match
	ok := s.MatchInto(e, &m)
	return m, ok
}

// MatchInto is Match writing the match into *m, which it leaves alone
// when no rule matches: a caller that keeps matches in place saves
// copying them.
func (s *Set) MatchInto(e *parser.Entry, m *Match) bool {
	c := s.caches.Get().(*matchCache)
	defer s.caches.Put(c)
	return s.matchWith(e, c, m)
}

// A Matcher is the Set's MatchInto with a cache of its own, for one
// goroutine at a time: a worker that matches many records saves the
// Set's pool round trip for each.
type Matcher struct {
	set *Set
	c   *matchCache
}

// NewMatcher returns a Matcher of s.
func (s *Set) NewMatcher() *Matcher {
	return &Matcher{set: s, c: s.caches.New().(*matchCache)}
}

// MatchInto is the Set's MatchInto.
func (mt *Matcher) MatchInto(e *parser.Entry, m *Match) bool {
	return mt.set.matchWith(e, mt.c, m)
}

// matchWith is MatchInto with the cache c.
func (s *Set) matchWith(e *parser.Entry, c *matchCache, m *Match) bool {
	if e.Unparsed || int(e.Server) >= len(s.byServer) {
		return false
	}
	x := &s.byServer[e.Server]
	if len(x.rules) == 0 {
		return false
	}
	return x.index().match(e, c, m)
}

// match is MatchInto with the cache and scratch space of c.
func (sr *serverRules) match(e *parser.Entry, c *matchCache, m *Match) bool {
	if len(e.Message) > maxCached {
		pos, idx := sr.find(e, &c.scratch)
		return sr.result(e, pos, idx, m)
	}
	sl := c.slot(e)
	if !sl.holds(e) {
		var r *Rule
		pos, idx := sr.findMasked(e, c)
		if pos >= 0 {
			r = sr.rules[pos]
		}
		sl.set(e, r, idx)
	}
	if sl.m.Rule == nil {
		return false
	}
	// The slot's match, its offsets into the message remembered, for
	// this record's message and fields.
	*m = sl.m // its more, if any, is never written again: shared
	m.text = e.Message
	m.Subject = m.Rule.subject(e, m)
	return true
}

// admits checks the rule's levels and errno.
func (r *Rule) admits(e *parser.Entry) bool {
	if len(r.Levels) > 0 && !slices.Contains(r.Levels, e.Level) {
		return false
	}
	return len(r.Errno) == 0 || slices.Contains(r.Errno, e.Errno)
}

// result builds the Match of e into *m from the submatch offsets of r's
// pattern.
func (r *Rule) result(e *parser.Entry, idx []int, m *Match) {
	setMatch(m, r, e.Message, idx)
	m.Subject = r.subject(e, m)
}

// CheckExample parses an example line and proves that the set matches it
// with rule r, yielding the captures and subject the example states. The
// error says what went wrong, in terms a rule author can act on.
func (s *Set) CheckExample(r *Rule, ex Example) error {
	entries := parseExample(ex, parser.FormatAuto)
	if len(entries) == 1 && entries[0].Unparsed {
		// A line servers write without a prefix (Apache startup messages,
		// php-fpm child output) is only recognised in a file known to be
		// of its server's format.
		for _, f := range []parser.Format{parser.FormatApache24, parser.FormatFPM, parser.FormatNginx} {
			if r.HasServer(f.Server()) {
				if again := parseExample(ex, f); len(again) == 1 && !again[0].Unparsed {
					entries = again
					break
				}
			}
		}
	}
	if len(entries) != 1 {
		return fmt.Errorf("the line parses into %d records, want 1", len(entries))
	}
	e := &entries[0]
	if e.Unparsed {
		return fmt.Errorf("no log format recognises the line")
	}
	if !r.HasServer(e.Server) {
		return fmt.Errorf("the line is a %s record; the rule is for %v", e.Server, r.Servers)
	}
	m, ok := s.Match(e)
	if !ok {
		return fmt.Errorf("no rule matches; %s", r.explain(e))
	}
	if m.Rule != r {
		return fmt.Errorf("matched first by %s (%s)", m.Rule.ID, m.Rule.Source)
	}
	var problems []string
	names := make([]string, 0, len(ex.Captures))
	for n := range ex.Captures {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if got := m.Capture(n); got != ex.Captures[n] {
			problems = append(problems, fmt.Sprintf("capture %s = %q, want %q", n, got, ex.Captures[n]))
		}
	}
	if ex.AssertsSubject() && m.Subject != ex.Subject {
		problems = append(problems, fmt.Sprintf("subject = %q, want %q", m.Subject, ex.Subject))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func parseExample(ex Example, f parser.Format) []parser.Entry {
	var entries []parser.Entry
	parser.Scan(strings.NewReader(ex.Line), parser.Options{File: ex.Source, Location: time.UTC, Format: f},
		func(e *parser.Entry) { entries = append(entries, *e) })
	return entries
}

// explain says which of the rule's conditions an entry fails.
func (r *Rule) explain(e *parser.Entry) string {
	switch {
	case len(r.Levels) > 0 && !slices.Contains(r.Levels, e.Level):
		return fmt.Sprintf("level %s is not in the rule's levels %v", e.Level, r.Levels)
	case len(r.Errno) > 0 && !slices.Contains(r.Errno, e.Errno):
		return fmt.Sprintf("errno %d is not in the rule's errno %v", e.Errno, r.Errno)
	case !strings.Contains(e.Message, r.Anchor):
		return fmt.Sprintf("anchor %q is not in the message %q", r.Anchor, e.Message)
	default:
		return fmt.Sprintf("the pattern does not match the message %q", e.Message)
	}
}

// Check runs every example of every rule in the set and returns one error
// per failing example, each naming the example's file and line.
func (s *Set) Check() []error {
	var errs []error
	for _, r := range s.all {
		for _, ex := range r.Examples {
			if err := s.CheckExample(r, ex); err != nil {
				errs = append(errs, fmt.Errorf("%s: rule %s: %w", ex.Source, r.ID, err))
			}
		}
	}
	return errs
}
