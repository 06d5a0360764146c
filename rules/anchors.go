package rules

// anchorSet finds which of a fixed set of literals occur in a text, in one
// pass over the text however many literals there are: an Aho-Corasick
// automaton compiled into a DFA. A rule library has hundreds of anchors
// and most records contain one or two of them, so one pass that names the
// anchors present beats asking strings.Contains once per rule.
//
// The DFA works on byte classes (every byte that occurs in some literal
// has its own class, all other bytes share class 0) so that the table
// stays small enough for the processor's cache: a few hundred kilobytes
// for the built-in library, the rows near the root, where the scan
// spends its time, first. States are numbered so that those
// at which some literal ends come last: the scan loop tests one integer
// per byte.
type anchorSet struct {
	class  [256]uint32
	stride int      // classes per state
	delta  []uint32 // (state*stride + class) -> next state * stride
	// States at or past outFrom (in delta's units, state*stride) end at
	// least one literal; out[(s-outFrom)/stride] lists them.
	outFrom uint32
	out     [][]int32
	empty   []int32 // literals that are "": present in every text
}

// newAnchorSet compiles the literals; the ids scan reports are their
// indexes in lits.
func newAnchorSet(lits []string) *anchorSet {
	a := &anchorSet{}
	// Byte classes.
	var used [256]bool
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			used[l[i]] = true
		}
	}
	a.stride = 1
	for b := range used {
		if used[b] {
			a.class[b] = uint32(a.stride)
			a.stride++
		}
	}

	// The trie, in class space; state 0 is the root. trans holds a row
	// of stride transitions per state, 0 (the root, never a child) for
	// none yet.
	type node struct {
		out  []int32
		fail int32
	}
	size := 1 // states: at most one per byte of the literals, and the root
	for _, l := range lits {
		size += len(l)
	}
	nodes := make([]node, 1, size)
	trans := make([]int32, a.stride, size*a.stride)
	for id, l := range lits {
		if l == "" {
			a.empty = append(a.empty, int32(id))
			continue
		}
		s := int32(0)
		for i := 0; i < len(l); i++ {
			at := int(s)*a.stride + int(a.class[l[i]])
			t := trans[at]
			if t == 0 {
				t = int32(len(nodes))
				nodes = append(nodes, node{})
				trans = append(trans, make([]int32, a.stride)...)
				trans[at] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}

	// Failure links and full transitions, breadth first: a state's
	// missing transitions are those of its failure state, which is
	// shallower and so already complete.
	n := len(nodes)
	queue := make([]int32, 0, n)
	bfs := []int32{0} // the states, shallowest first
	for c := int32(0); c < int32(a.stride); c++ {
		if t := trans[c]; t != 0 {
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		bfs = append(bfs, s)
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		row, frow := trans[int(s)*a.stride:int(s+1)*a.stride], trans[int(f)*a.stride:int(f+1)*a.stride]
		for c, t := range row {
			if t == 0 {
				row[c] = frow[c]
				continue
			}
			nodes[t].fail = frow[c]
			queue = append(queue, t)
		}
	}

	// Renumber: states without output first (the root stays 0), then
	// those with output; shallowest first in each, since the scan spends
	// most of its time near the root and those rows then share cache
	// lines.
	order := make([]int32, 0, n)
	for _, s := range bfs {
		if len(nodes[s].out) == 0 {
			order = append(order, s)
		}
	}
	a.outFrom = uint32(len(order) * a.stride)
	for _, s := range bfs {
		if len(nodes[s].out) > 0 {
			order = append(order, s)
			a.out = append(a.out, nodes[s].out)
		}
	}
	renum := make([]uint32, n)
	for i, s := range order {
		renum[s] = uint32(i * a.stride)
	}
	a.delta = make([]uint32, n*a.stride)
	for i, s := range order {
		for c := 0; c < a.stride; c++ {
			a.delta[i*a.stride+c] = renum[trans[int(s)*a.stride+c]]
		}
	}
	return a
}

// scan calls hit for every literal that occurs in text, once per
// occurrence (a literal found twice is reported twice).
func (a *anchorSet) scan(text string, hit func(id int32)) {
	for _, id := range a.empty {
		hit(id)
	}
	s := uint32(0)
	for i := 0; i < len(text); {
		i, s = a.run(text, i, s)
		if s >= a.outFrom {
			for _, id := range a.out[(s-a.outFrom)/uint32(a.stride)] {
				hit(id)
			}
		}
	}
}

// run goes from state s over text[i:] to the first state at which some
// literal ends, and returns the index after the byte that led there and
// the state; at the end of text, len(text) and the state there.
//
// It is a function of its own, not inlined, so that the state stays in a
// register: in the loop of a larger function the compiler may keep it on
// the stack, and each byte then waits for a store and a load as well as
// for the table.
//
//go:noinline
func (a *anchorSet) run(text string, i int, s uint32) (int, uint32) {
	delta, class, outFrom := a.delta, &a.class, a.outFrom
	for ; i < len(text); i++ {
		s = delta[s+class[text[i]]]
		if s >= outFrom {
			return i + 1, s
		}
	}
	return i, s
}
