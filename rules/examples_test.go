package rules

import (
	"strings"
	"testing"

	"github.com/logtriage/logtriage/parser"
)

func builtinSet(t testing.TB) *Set {
	t.Helper()
	s, err := Load(false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBuiltinExamples runs every example of every built-in rule through
// the parser and the whole rule set: each must be matched by its own rule,
// not first by an earlier (broader) one, with the captures and subject the
// example states.
func TestBuiltinExamples(t *testing.T) {
	s := builtinSet(t)
	for _, r := range s.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			for _, ex := range r.Examples {
				if err := s.CheckExample(r, ex); err != nil {
					t.Errorf("%s: %v", ex.Source, err)
				}
			}
		})
	}
}

func TestBuiltinLibraryShape(t *testing.T) {
	s := builtinSet(t)
	perServer := map[parser.Server]int{}
	for _, r := range s.Rules() {
		for _, srv := range r.Servers {
			perServer[srv]++
		}
		if !strings.HasPrefix(r.ID, map[parser.Server]string{parser.Nginx: "nginx.", parser.Apache: "apache.", parser.FPM: "fpm."}[r.Servers[0]]) {
			t.Errorf("%s: rule %s: id does not start with its server's name", r.Source, r.ID)
		}
		for _, ex := range r.Examples {
			if !strings.Contains(ex.Line, r.Anchor) {
				t.Errorf("%s: rule %s: anchor %q not in example", ex.Source, r.ID, r.Anchor)
			}
		}
	}
	if n := len(s.Rules()); n < 90 {
		t.Errorf("built-in library has %d rules, want at least 90", n)
	}
	for _, srv := range []parser.Server{parser.Nginx, parser.Apache, parser.FPM} {
		if perServer[srv] < 20 {
			t.Errorf("%s has %d rules, want at least 20", srv, perServer[srv])
		}
	}
}

// Every explains entry must name rules that exist, or it silently does
// nothing.
func TestBuiltinExplainsNameRealRules(t *testing.T) {
	s := builtinSet(t)
	for _, r := range s.Rules() {
		for _, x := range r.Explains {
			probe := &Rule{Explains: []string{x}}
			found := false
			for _, other := range s.Rules() {
				if probe.ExplainsRule(other.ID) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: rule %s explains %q, which names no rule", r.Source, r.ID, x)
			}
		}
	}
}
