package rules

import (
	"strings"

	"github.com/logtriage/logtriage/parser"
)

// matchPlain is Match done the straightforward way: every rule of the
// server in order, levels, errno, anchor, then the pattern. It is the
// reference Match is tested against.
func (s *Set) matchPlain(e *parser.Entry) (Match, bool) {
	if e.Unparsed || int(e.Server) >= len(s.byServer) {
		return Match{}, false
	}
	for _, r := range s.byServer[e.Server].rules {
		if m, ok := r.match(e); ok {
			return m, true
		}
	}
	return Match{}, false
}

func (r *Rule) match(e *parser.Entry) (Match, bool) {
	if !r.admits(e) || !strings.Contains(e.Message, r.Anchor) {
		return Match{}, false
	}
	idx := r.Pattern.FindStringSubmatchIndex(e.Message)
	if idx == nil {
		return Match{}, false
	}
	var m Match
	r.result(e, idx, &m)
	return m, true
}
