package rules

import (
	"sort"
	"strings"
	"unsafe"

	"github.com/logtriage/logtriage/parser"
)

// Coverage counts how much of the input the rules explain: records parsed,
// matched per rule, and the records no rule matched, with samples, so
// that an unknown kind of failure is never invisible.
type Coverage struct {
	Files  int
	Parser parser.Stats
	// Matched counts by rule id; read it through ByRule or MatchedTotal,
	// which add the run of one rule Count is in the middle of.
	Matched   map[string]int64
	Unmatched int64
	// UnmatchedSevere counts unmatched records at level error or above
	// (nginx/Apache) or WARNING and above (php-fpm): the ones that may be
	// a failure the library does not know yet.
	UnmatchedSevere int64
	// Samples of unmatched severe records, first seen first.
	UnmatchedSamples []string
	maxSamples       int
	// Records come in runs of one rule: a run is counted here, and put
	// in pending when another rule comes. pending is a small table
	// indexed by a hash of the rule's address (a map costs a hash of
	// eight bytes and a probe per run, and runs are short); a rule that
	// finds another rule's count in its slot moves that count to
	// Matched. Everything goes into Matched when Matched is read.
	run     *Rule
	runN    int64
	pending [pendingSlots]ruleRun
}

// pendingSlots is the size of Coverage's table of runs; a log seldom
// matches more than a few dozen rules.
const pendingSlots = 64

type ruleRun struct {
	r *Rule
	n int64
}

// pendingSlot returns r's slot in the table of runs.
func pendingSlot(r *Rule) int {
	return int(uint64(uintptr(unsafe.Pointer(r))) * 0x9E3779B97F4A7C15 >> 58) // top 6 bits: 64 slots
}

// NewCoverage returns an empty Coverage that keeps up to samples samples.
func NewCoverage(samples int) *Coverage {
	return &Coverage{Matched: map[string]int64{}, maxSamples: samples}
}

// Severe reports whether an unmatched record of this level deserves
// attention: error and above, and php-fpm warnings (php-fpm has no level
// between WARNING and ERROR, and writes its capacity alarms at WARNING).
func Severe(e *parser.Entry) bool {
	if e.Level >= parser.LevelError {
		return true
	}
	return e.Server == parser.FPM && e.Level == parser.LevelWarn
}

// Count adds one record and its match result.
func (c *Coverage) Count(e *parser.Entry, m *Match) {
	if e.Unparsed {
		return // counted by the parser's stats
	}
	if m != nil {
		if m.Rule != c.run {
			if c.run != nil {
				p := &c.pending[pendingSlot(c.run)]
				if p.r != c.run {
					if p.r != nil {
						c.Matched[p.r.ID] += p.n
					}
					p.r, p.n = c.run, 0
				}
				p.n += c.runN
			}
			c.run, c.runN = m.Rule, 0
		}
		c.runN++
		return
	}
	c.Unmatched++
	if Severe(e) {
		c.UnmatchedSevere++
		if len(c.UnmatchedSamples) < c.maxSamples {
			// A copy: the record's text shares its block of input.
			c.UnmatchedSamples = append(c.UnmatchedSamples, strings.Clone(e.Raw[:min(len(e.Raw), 300)]))
		}
	}
}

// AddFile adds the parser counts of one input.
func (c *Coverage) AddFile(st parser.Stats) {
	c.Files++
	c.Parser.Add(st, c.maxSamples)
}

// flush puts the current run and the pending counts in Matched.
func (c *Coverage) flush() {
	if c.run != nil {
		c.Matched[c.run.ID] += c.runN
	}
	c.run, c.runN = nil, 0
	for i, p := range c.pending {
		if p.r != nil {
			c.Matched[p.r.ID] += p.n
		}
		c.pending[i] = ruleRun{}
	}
}

// MatchedTotal is the number of records some rule matched.
func (c *Coverage) MatchedTotal() int64 {
	c.flush()
	var n int64
	for _, v := range c.Matched {
		n += v
	}
	return n
}

// RuleCount is a rule id and how often it matched.
type RuleCount struct {
	ID    string `json:"rule_id"`
	Count int64  `json:"count"`
}

// ByRule returns the match counts, most frequent first.
func (c *Coverage) ByRule() []RuleCount {
	c.flush()
	out := make([]RuleCount, 0, len(c.Matched))
	for id, n := range c.Matched {
		out = append(out, RuleCount{id, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].ID < out[j].ID
	})
	return out
}
