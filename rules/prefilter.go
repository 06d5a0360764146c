package rules

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// prefilter holds literal facts about what a rule's pattern can match,
// read from the pattern itself: cheap byte comparisons that reject most
// messages before the regexp runs. Both are necessary conditions only;
// the regexp still decides.
type prefilter struct {
	// prefixes: a pattern anchored at the start of the text (^ or \A)
	// only matches a message that starts with one of these. Empty: no
	// such fact.
	prefixes []string
	// need: a literal every match contains. Empty: none worth checking.
	need string
}

// Bounds on the prefix sets: a set larger than this is no faster to test
// than the regexp.
const (
	maxPrefixes   = 16
	maxPrefixLen  = 64
	minNeedLength = 4
)

// newPrefilter reads the literal facts of a pattern, parsed and
// simplified (nil: none). The anchor, which the caller checks anyway, is
// not repeated as need.
func newPrefilter(re *syntax.Regexp, anchor string) prefilter {
	if re == nil {
		return prefilter{}
	}
	prog, err := syntax.Compile(re)
	if err != nil {
		return prefilter{}
	}
	var pf prefilter
	if prog.StartCond()&syntax.EmptyBeginText != 0 {
		if set, _ := prefixSet(re); !slices.Contains(set, "") {
			pf.prefixes = set
		}
	}
	// The longest literal the anchor and the prefixes do not already
	// vouch for.
	for _, lit := range literals(re) {
		if len(lit) >= minNeedLength && len(lit) > len(pf.need) && !strings.Contains(anchor, lit) && !allContain(pf.prefixes, lit) {
			pf.need = lit
		}
	}
	return pf
}

// allows reports whether msg passes the prefilter.
func (pf *prefilter) allows(msg string) bool {
	if len(pf.prefixes) > 0 {
		ok := false
		for _, p := range pf.prefixes {
			if strings.HasPrefix(msg, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return pf.need == "" || strings.Contains(msg, pf.need)
}

func allContain(set []string, s string) bool {
	if len(set) == 0 {
		return false
	}
	for _, x := range set {
		if !strings.Contains(x, s) {
			return false
		}
	}
	return true
}

// prefixSet returns strings one of which starts every text re matches,
// and whether re matches nothing but those strings (complete), so that
// what follows re in a concatenation may extend them. {""} means no fact.
func prefixSet(re *syntax.Regexp) (set []string, complete bool) {
	none := []string{""}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Zero width: matches "" (or nothing).
		return none, true
	case syntax.OpLiteral:
		// Up to the first rune that does not stand for its own bytes.
		if re.Flags&syntax.FoldCase != 0 {
			return none, false
		}
		var b strings.Builder
		for _, r := range re.Rune {
			if !literalRune(r) {
				return []string{b.String()}, false
			}
			b.WriteRune(r)
		}
		return []string{b.String()}, true
	case syntax.OpCharClass:
		// A small class of valid runes: each rune's bytes.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= maxPrefixes || len(out)+int(hi-lo)+1 > maxPrefixes {
				return none, false
			}
			for r := lo; r <= hi; r++ {
				if !literalRune(r) {
					return none, false
				}
				out = append(out, string(r))
			}
		}
		if len(out) == 0 {
			return none, false
		}
		return out, true
	case syntax.OpCapture:
		return prefixSet(re.Sub[0])
	case syntax.OpQuest:
		set, complete := prefixSet(re.Sub[0])
		if slices.Contains(set, "") {
			return set, complete
		}
		return append(slices.Clip(set), ""), complete
	case syntax.OpPlus:
		set, _ := prefixSet(re.Sub[0])
		return set, false
	case syntax.OpRepeat:
		if re.Min == 0 {
			return none, false
		}
		set, _ := prefixSet(re.Sub[0])
		return set, false
	case syntax.OpAlternate:
		var out []string
		complete := true
		for _, sub := range re.Sub {
			set, c := prefixSet(sub)
			complete = complete && c
			for _, s := range set {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
			if len(out) > maxPrefixes {
				return none, false
			}
		}
		return out, complete
	case syntax.OpConcat:
		out := none
		for _, sub := range re.Sub {
			set, c := prefixSet(sub)
			if len(out)*len(set) > maxPrefixes {
				return out, false
			}
			next := make([]string, 0, len(out)*len(set))
			long := false
			for _, a := range out {
				for _, b := range set {
					s := a + b
					long = long || len(s) > maxPrefixLen
					if !slices.Contains(next, s) {
						next = append(next, s)
					}
				}
			}
			out = next
			if !c || long {
				return out, false
			}
		}
		return out, true
	}
	return none, false
}

// literals returns the literals every match of re contains, read from
// the top-level concatenation (captures included).
func literals(re *syntax.Regexp) []string {
	var out []string
	var run []byte
	end := func() {
		if len(run) > 0 {
			out = append(out, string(run))
		}
		run = run[:0]
	}
	var walk func(*syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpCapture:
			walk(re.Sub[0])
		case syntax.OpConcat:
			for _, sub := range re.Sub {
				walk(sub)
			}
		case syntax.OpLiteral:
			if re.Flags&syntax.FoldCase != 0 {
				end()
				return
			}
			for _, r := range re.Rune {
				if !literalRune(r) {
					end()
					continue
				}
				run = utf8.AppendRune(run, r)
			}
		case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
			syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			// Zero width: a literal run goes on across it.
		default:
			end()
		}
	}
	walk(re)
	end()
	return out
}

// literalRune reports whether a rune in a pattern matches its own UTF-8
// bytes and nothing else: U+FFFD also matches any invalid byte.
func literalRune(r rune) bool {
	return r >= 0 && r != utf8.RuneError && utf8.ValidRune(r)
}
