package rules

import "github.com/logtriage/logtriage/parser"

// OutcomeOf exposes outcomeOf to the external tests.
var OutcomeOf = outcomeOf

// MatchPlain exposes the reference matcher to the external tests.
func (s *Set) MatchPlain(e *parser.Entry) (Match, bool) { return s.matchPlain(e) }

// MatchUncached is Match without the cache of recent messages.
func (s *Set) MatchUncached(e *parser.Entry) (Match, bool) {
	if e.Unparsed || int(e.Server) >= len(s.byServer) {
		return Match{}, false
	}
	sr := s.byServer[e.Server].index()
	c := s.caches.Get().(*matchCache)
	defer s.caches.Put(c)
	pos, idx := sr.find(e, &c.scratch)
	var m Match
	ok := sr.result(e, pos, idx, &m)
	return m, ok
}
