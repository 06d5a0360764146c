package rules

import (
	"hash/maphash"
	"math/bits"
	"regexp/syntax"

	"github.com/logtriage/logtriage/parser"
)

// serverRules indexes the rules of one server for Match: one pass over a
// message finds every anchor in it, which names the candidate rules, and
// a candidate's prefilter rejects most of the messages its pattern would.
type serverRules struct {
	rules   []*Rule
	filters []prefilter   // by rule position
	simple  []*simpleProg // by rule position; nil: the regexp decides
	anchors *anchorSet    // the distinct anchors of the rules
	// masks holds, for each distinct anchor, the bit set of the positions
	// of the rules that have it: words uint64s each.
	masks []uint64
	words int
	// For the cache of messages with their digits masked (see
	// digitSlot): the rules that may tell digits apart, in order, and
	// for each rule position whether it is one and its anchor with the
	// digits masked (nil when the anchor holds none).
	digitRules   []int32
	tellsDigits  []bool
	maskedAnchor [][]byte
}

func newServerRules(rules []*Rule) serverRules {
	sr := serverRules{rules: rules, words: (len(rules) + 63) / 64}
	ids := map[string]int{}
	var lits []string
	for i, r := range rules {
		re := simplified(r.Pattern.String())
		sr.filters = append(sr.filters, newPrefilter(re, r.Anchor))
		sr.simple = append(sr.simple, compileSimple(re))
		masked, anchorDigits := maskDigits(nil, r.Anchor)
		if !anchorDigits {
			masked = nil
		}
		sr.maskedAnchor = append(sr.maskedAnchor, masked)
		tells := re == nil || tellsDigits(re) || anchorDigits
		sr.tellsDigits = append(sr.tellsDigits, tells)
		if tells {
			sr.digitRules = append(sr.digitRules, int32(i))
		}
		id, ok := ids[r.Anchor]
		if !ok {
			id = len(lits)
			ids[r.Anchor] = id
			lits = append(lits, r.Anchor)
			sr.masks = append(sr.masks, make([]uint64, sr.words)...)
		}
		sr.masks[id*sr.words+i/64] |= 1 << (i % 64)
	}
	sr.anchors = newAnchorSet(lits)
	return sr
}

// simplified is pattern parsed as regexp.Compile parses it, and
// simplified, for the prefilter and the simple matcher to read; nil when
// it does not parse.
func simplified(pattern string) *syntax.Regexp {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return re.Simplify()
}

// find returns the position of the first rule that matches e, with the
// submatch offsets of its pattern, or -1. The offsets may be in sc's
// buffers, valid until its next use.
func (sr *serverRules) find(e *parser.Entry, sc *scratch) (int, []int) {
	var small [4]uint64
	return sr.findIn(e, sc, sr.candidates(small[:]))
}

// candidates returns a zeroed bit set of the rule positions, in small
// when it is large enough.
func (sr *serverRules) candidates(small []uint64) []uint64 {
	if sr.words <= len(small) {
		return small[:sr.words]
	}
	return make([]uint64, sr.words)
}

// findIn is find, leaving in cand (zeroed, sr.words long) the rules
// whose anchors e's message holds.
func (sr *serverRules) findIn(e *parser.Entry, sc *scratch, cand []uint64) (int, []int) {
	found := false
	sr.anchors.scan(e.Message, func(id int32) {
		found = true
		m := sr.masks[int(id)*sr.words : int(id+1)*sr.words]
		for w := range cand {
			cand[w] |= m[w]
		}
	})
	if !found {
		return -1, nil
	}
	for w, word := range cand {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if idx, ok := sr.test(i, e, sc); ok {
				return i, idx
			}
		}
	}
	return -1, nil
}

// test reports whether rule i matches e, whose message holds its anchor,
// with the submatch offsets of its pattern: its levels, errno and
// prefilter, then its pattern, on the simple matcher when it can.
func (sr *serverRules) test(i int, e *parser.Entry, sc *scratch) ([]int, bool) {
	r := sr.rules[i]
	if !r.admits(e) || !sr.filters[i].allows(e.Message) {
		return nil, false
	}
	if p := sr.simple[i]; p != nil {
		var idx []int
		var done bool
		idx, sc.stack, done = p.match(e.Message, sc.slots[:cap(sc.slots)], sc.stack)
		if done {
			return idx, idx != nil
		}
	}
	idx := r.Pattern.FindStringSubmatchIndex(e.Message)
	return idx, idx != nil
}

// result turns what find returned into MatchInto's results.
func (sr *serverRules) result(e *parser.Entry, pos int, idx []int, m *Match) bool {
	if pos < 0 {
		return false
	}
	sr.rules[pos].result(e, idx, m)
	return true
}

// The match cache remembers what find said about recent messages: a log
// repeats its messages (one outage writes the same upstream error
// thousands of times), and comparing a message with a remembered one is
// far cheaper than matching it again. The outcome depends on the server,
// level, errno and message only, so those are the key. Messages longer
// than maxCached are matched afresh.
const (
	cacheSlots = 1024 // a power of two
	maxCached  = 2048
)

// matchCache is a direct-mapped table of outcomes; one per goroutine at
// a time (Set keeps them in a sync.Pool).
type matchCache struct {
	seed    maphash.Seed
	slots   [cacheSlots]cacheSlot
	scratch scratch
	digits  *[digitSlots]digitSlot // by digit mask (see findMasked), made on first use
	key     []byte                 // scratch space for a digit mask
}

// scratch is the working memory of the simple matcher, reused from one
// message to the next.
type scratch struct {
	slots []int
	stack []simpleFrame
}

type cacheSlot struct {
	msg    []byte // the message, in a buffer the slot reuses
	server parser.Server
	level  parser.Level
	errno  int
	full   bool
	// m is the match, without its text and subject (nil Rule: no rule
	// matches); its offsets hold for any record with the same message.
	m Match
}

func newMatchCache(maxSlots int) *matchCache {
	return &matchCache{seed: maphash.MakeSeed(), scratch: scratch{slots: make([]int, maxSlots)}}
}

// slot returns the slot where e's outcome is or would be kept.
func (c *matchCache) slot(e *parser.Entry) *cacheSlot {
	return &c.slots[maphash.String(c.seed, e.Message)&(cacheSlots-1)]
}

// holds reports whether the slot keeps e's outcome.
func (sl *cacheSlot) holds(e *parser.Entry) bool {
	return sl.full && sl.server == e.Server && sl.level == e.Level && sl.errno == e.Errno && string(sl.msg) == e.Message
}

// set keeps the outcome of find, the rule that matches (nil: none) and
// the submatch offsets, reusing the slot's message buffer.
func (sl *cacheSlot) set(e *parser.Entry, r *Rule, idx []int) {
	sl.full, sl.server, sl.level, sl.errno = true, e.Server, e.Level, e.Errno
	sl.msg = append(sl.msg[:0], e.Message...)
	sl.m = Match{}
	if r != nil {
		setMatch(&sl.m, r, "", idx)
	}
}
