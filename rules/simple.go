package rules

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// simpleProg matches a pattern of the shape most rules have, without the
// regexp package's general machinery: anchored at the start of the text;
// literals, captures, optional groups and alternations; greedy runs of
// one character class that can never need to give a byte back, because
// nothing that may follow the run can start with a byte of its class
// (`"(?P<path>[^"]*)" failed`, `\S+ failed`, `\d+\.\d+`); and lazy runs
// (`.*?PHP Fatal error`), which go from one place where what follows
// them could start to the next. Branches and lazy runs are backtracked in
// the order the regexp package tries them, so the result (whether it
// matches, and every submatch) is the one FindStringSubmatchIndex gives;
// the tests compare the two. Any other pattern is left to the regexp,
// and so is a text that would cost the matcher more than a budget of
// steps proportional to its length.
type simpleProg struct {
	insts []sInst
	slots int // 2 * (number of capture groups + 1)
}

type sOp uint8

const (
	sLit   sOp = iota // the literal bytes lit
	sRun              // min to max (-1: any number) characters of class, greedily
	sLazy             // min to max characters of class, as few as will do
	sSave             // slot arg = position
	sSplit            // go on at the next instruction; on failure, at arg
	sJmp              // go on at arg
	sEnd              // the end of the text
	sMatch
)

type sInst struct {
	op       sOp
	lit      string
	class    *byteClass
	min, max int
	arg      int
}

// byteClass is a character class seen byte by byte: an ASCII set, and
// whether every non-ASCII character (and every byte of invalid UTF-8,
// which the regexp package reads as U+FFFD) is in the class too. A class
// that holds some non-ASCII characters but not all is not simple.
type byteClass struct {
	bits [4]uint64 // bytes 0x80 and up are set when the class holds all non-ASCII
}

func (c *byteClass) has(b byte) bool { return c.bits[b>>6]&(1<<(b&63)) != 0 }
func (c *byteClass) set(b byte)      { c.bits[b>>6] |= 1 << (b & 63) }
func (c *byteClass) full() bool {
	return c.bits == [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
}

// maxSimplePaths bounds the number of ways through a simple program,
// and so the work a match can do: each way is tried at most once.
const maxSimplePaths = 256

// compileSimple returns the simple program of a pattern, parsed and
// simplified, or nil when the pattern is not simple (or re is nil).
func compileSimple(re *syntax.Regexp) *simpleProg {
	if re == nil {
		return nil
	}
	c := &simpleCompiler{extend: -1}
	if !c.begin(re) {
		return nil
	}
	c.emit(sInst{op: sSave, arg: 0})
	if !c.compile(re) {
		return nil
	}
	c.emit(sInst{op: sSave, arg: 1})
	c.emit(sInst{op: sMatch})
	p := &simpleProg{insts: c.insts, slots: 2 * (re.MaxCap() + 1)}
	if !p.deterministic() || p.paths() > maxSimplePaths {
		return nil
	}
	return p
}

type simpleCompiler struct {
	insts []sInst
	begun bool // the leading \A or ^ has been seen
	// extend is the index of a literal the next literal may be appended
	// to: the last instruction, when no branch lands after it. -1: none.
	extend int
}

func (c *simpleCompiler) emit(in sInst) int {
	c.insts = append(c.insts, in)
	c.extend = -1
	return len(c.insts) - 1
}

// here returns the index of the next instruction, as the target of a
// branch: nothing is appended to the instruction before it.
func (c *simpleCompiler) here() int {
	c.extend = -1
	return len(c.insts)
}

// begin reports whether re must match at the start of the text: its
// first element, however deeply nested in concatenations and captures,
// is a begin-text assertion. compile then accepts exactly that one.
func (c *simpleCompiler) begin(re *syntax.Regexp) bool {
	for {
		switch re.Op {
		case syntax.OpBeginText:
			return true
		case syntax.OpConcat:
			if len(re.Sub) == 0 {
				return false
			}
			re = re.Sub[0]
		case syntax.OpCapture:
			re = re.Sub[0]
		default:
			return false
		}
	}
}

func (c *simpleCompiler) compile(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpBeginText:
		// Only the first element of the pattern (see begin).
		if c.begun || len(c.insts) != 1 {
			return false
		}
		c.begun = true
		return true
	case syntax.OpEndText:
		c.emit(sInst{op: sEnd})
		return true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return false
		}
		var b []byte
		for _, r := range re.Rune {
			if !literalRune(r) {
				return false
			}
			b = utf8.AppendRune(b, r)
		}
		if c.extend >= 0 {
			c.insts[c.extend].lit += string(b)
		} else {
			c.extend = c.emit(sInst{op: sLit, lit: string(b)})
		}
		return true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		cl := classOf(re)
		if cl == nil {
			return false
		}
		c.emit(sInst{op: sRun, class: cl, min: 1, max: 1})
		return true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		lazy := re.Flags&syntax.NonGreedy != 0
		min, max := 0, -1
		switch re.Op {
		case syntax.OpPlus:
			min = 1
		case syntax.OpQuest:
			max = 1
		}
		if cl := classOf(re.Sub[0]); cl != nil {
			op := sRun
			if lazy {
				op = sLazy
			}
			c.emit(sInst{op: op, class: cl, min: min, max: max})
			return true
		}
		if re.Op != syntax.OpQuest {
			return false
		}
		if lazy {
			// sub??: skip sub, else try it.
			split := c.emit(sInst{op: sSplit})
			skip := c.emit(sInst{op: sJmp})
			c.insts[split].arg = c.here()
			if !c.compile(re.Sub[0]) {
				return false
			}
			c.insts[skip].arg = c.here()
			return true
		}
		// sub?: try sub, else skip it.
		split := c.emit(sInst{op: sSplit})
		if !c.compile(re.Sub[0]) {
			return false
		}
		c.insts[split].arg = c.here()
		return true
	case syntax.OpCapture:
		c.emit(sInst{op: sSave, arg: 2 * re.Cap})
		if !c.compile(re.Sub[0]) {
			return false
		}
		c.emit(sInst{op: sSave, arg: 2*re.Cap + 1})
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !c.compile(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		var jumps []int
		for i, sub := range re.Sub {
			split := -1
			if i < len(re.Sub)-1 {
				split = c.emit(sInst{op: sSplit})
			}
			if !c.compile(sub) {
				return false
			}
			if split >= 0 {
				jumps = append(jumps, c.emit(sInst{op: sJmp}))
				c.insts[split].arg = c.here()
			}
		}
		end := c.here()
		for _, j := range jumps {
			c.insts[j].arg = end
		}
		return true
	}
	return false
}

// classOf returns the byte class of a one-character expression, or nil
// when it is not one or its class is not byte-simple.
func classOf(re *syntax.Regexp) *byteClass {
	var ranges []rune
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		ranges = []rune{re.Rune[0], re.Rune[0]}
	case syntax.OpCharClass:
		ranges = re.Rune
	case syntax.OpAnyChar:
		ranges = []rune{0, utf8.MaxRune}
	case syntax.OpAnyCharNotNL:
		ranges = []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}
	default:
		return nil
	}
	cl := &byteClass{}
	var nonASCII rune // how many runes above 0x7f the class holds, up to the max
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			cl.set(byte(r))
		}
		if hi >= utf8.RuneSelf {
			nonASCII += hi - max(lo, utf8.RuneSelf) + 1
		}
	}
	switch nonASCII {
	case 0:
	case utf8.MaxRune - utf8.RuneSelf + 1:
		for b := utf8.RuneSelf; b < 256; b++ {
			cl.set(byte(b))
		}
	default:
		return nil
	}
	return cl
}

// first adds to f every byte a match could consume first from pc on.
func (p *simpleProg) first(pc int, f *byteClass, seen []bool) {
	for pc < len(p.insts) && !seen[pc] {
		seen[pc] = true
		in := &p.insts[pc]
		switch in.op {
		case sLit:
			f.set(in.lit[0])
			return
		case sRun, sLazy:
			for w := range f.bits {
				f.bits[w] |= in.class.bits[w]
			}
			if in.min > 0 {
				return
			}
			pc++
		case sSave:
			pc++
		case sSplit:
			p.first(in.arg, f, seen)
			pc++
		case sJmp:
			pc = in.arg
		default: // sEnd, sMatch: nothing can be consumed after them
			return
		}
	}
}

// deterministic reports whether no run can need to give a byte back:
// nothing that may follow a run starts with a byte of its class. A run
// stopped short would leave a byte of its class next, which nothing that
// follows could consume; and what follows without consuming anything
// succeeds at the run's end as well, which is tried first.
func (p *simpleProg) deterministic() bool {
	for pc, in := range p.insts {
		if in.op != sRun || in.min == in.max {
			continue // a run of fixed length has nothing to give back
		}
		var f byteClass
		p.first(pc+1, &f, make([]bool, len(p.insts)))
		for w := range f.bits {
			if f.bits[w]&in.class.bits[w] != 0 {
				return false
			}
		}
	}
	return true
}

// paths counts the ways from the first instruction to a match, up to
// maxSimplePaths+1.
func (p *simpleProg) paths() int {
	n := make([]int, len(p.insts)+1) // n[pc]: ways from pc
	for pc := len(p.insts) - 1; pc >= 0; pc-- {
		in := &p.insts[pc]
		switch in.op {
		case sMatch:
			n[pc] = 1
		case sJmp:
			if in.arg <= pc {
				return maxSimplePaths + 1
			}
			n[pc] = n[in.arg]
		case sSplit:
			if in.arg <= pc {
				return maxSimplePaths + 1
			}
			n[pc] = min(n[pc+1]+n[in.arg], maxSimplePaths+1)
		default:
			n[pc] = n[pc+1]
		}
	}
	return n[0]
}

// simpleFrame is an entry of the backtracking stack: a branch to try
// (pc, pos; slot -1), a slot to restore on the way back (slot >= 0, its
// old value val), or a lazy run at pc that may take one character more
// than the val it has taken to pos (slot lazyFrame).
type simpleFrame struct {
	pc, pos, slot, val int
}

const lazyFrame = -2

// match returns the submatch offsets of the leftmost-first match of p at
// the start of text, as FindStringSubmatchIndex does, or nil. The offsets
// are written into slots, which must have room for p.slots; stack is
// scratch space match may grow and returns. done is false when match
// gave up, the text needing more steps than its budget: the regexp must
// decide.
func (p *simpleProg) match(text string, slots []int, stack []simpleFrame) (idx []int, _ []simpleFrame, done bool) {
	slots = slots[:p.slots]
	for i := range slots {
		slots[i] = -1
	}
	stack = stack[:0]
	budget := 32 * (len(text) + 16)
	pc, pos := 0, 0
	for {
		if budget--; budget < 0 {
			return nil, stack, false
		}
		in := &p.insts[pc]
		ok := true
		switch in.op {
		case sLit:
			if len(text)-pos >= len(in.lit) && text[pos:pos+len(in.lit)] == in.lit {
				pos += len(in.lit)
				pc++
			} else {
				ok = false
			}
		case sRun:
			pos, ok = in.runFrom(text, pos)
			pc++
		case sLazy:
			n := 0
			if in.min > 0 {
				if pos, ok = in.step(text, pos); !ok {
					break
				}
				n = 1
			}
			stack = append(stack, simpleFrame{pc: pc, pos: pos, slot: lazyFrame, val: n})
			pc++
		case sSave:
			stack = append(stack, simpleFrame{slot: in.arg, val: slots[in.arg]})
			slots[in.arg] = pos
			pc++
		case sSplit:
			stack = append(stack, simpleFrame{pc: in.arg, pos: pos, slot: -1})
			pc++
		case sJmp:
			pc = in.arg
		case sEnd:
			ok = pos == len(text)
			pc++
		case sMatch:
			return slots, stack, true
		}
		if ok {
			continue
		}
		// Back to the latest branch not tried, or lazy run that may take
		// more, undoing the saves since.
	back:
		for {
			if len(stack) == 0 {
				return nil, stack, true
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch f.slot {
			case -1:
				pc, pos = f.pc, f.pos
				break back
			case lazyFrame:
				lz := &p.insts[f.pc]
				if lz.max >= 0 && f.val >= lz.max {
					continue
				}
				next, ok := lz.more(text, f.pos, &p.insts[f.pc+1])
				if !ok {
					continue
				}
				stack = append(stack, simpleFrame{pc: f.pc, pos: next, slot: lazyFrame, val: f.val + 1})
				pc, pos = f.pc+1, next
				break back
			default:
				slots[f.slot] = f.val
			}
		}
	}
}

// step consumes one character of the run's class at pos.
func (in *sInst) step(text string, pos int) (int, bool) {
	if pos >= len(text) || !in.class.has(text[pos]) {
		return pos, false
	}
	if text[pos] < utf8.RuneSelf {
		return pos + 1, true
	}
	_, w := utf8.DecodeRuneInString(text[pos:])
	return pos + w, true
}

// more returns the next place after pos where what follows a lazy run
// could start, the run having taken at least one more character of its
// class: when a literal follows, its next occurrence, the characters
// before it all of the class (a literal starts at a character boundary:
// its first byte is never a continuation byte).
func (in *sInst) more(text string, pos int, next *sInst) (int, bool) {
	if next.op != sLit || in.max >= 0 {
		return in.step(text, pos)
	}
	if pos >= len(text) {
		return pos, false
	}
	j := strings.Index(text[pos+1:], next.lit)
	if j < 0 {
		return pos, false
	}
	end := pos + 1 + j
	if !in.class.full() {
		for i := pos; i < end; i++ {
			if !in.class.has(text[i]) {
				return pos, false
			}
		}
	}
	return end, true
}

// runFrom consumes the run from pos, as many characters as it may, and
// reports whether it got at least its minimum.
func (in *sInst) runFrom(text string, pos int) (int, bool) {
	cl := in.class
	n := 0
	if in.max < 0 {
		// Byte by byte: a class holds all of a character's bytes or none.
		// The minimum is 0 or 1 (the parser writes x{2,} as xxx*), so
		// bytes count as well as characters.
		start := pos
		for pos < len(text) && cl.has(text[pos]) {
			pos++
		}
		return pos, pos-start >= in.min
	}
	for n < in.max && pos < len(text) && cl.has(text[pos]) {
		if text[pos] < utf8.RuneSelf {
			pos++
		} else {
			_, w := utf8.DecodeRuneInString(text[pos:])
			pos += w
		}
		n++
	}
	return pos, n >= in.min
}
