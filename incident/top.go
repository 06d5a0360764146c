package incident

import (
	"slices"
	"sort"
	"strings"
)

// topN counts values with a bounded table: once it holds max values, new
// ones are counted under "other", so a flood of distinct request lines
// costs no more memory than a few. It keeps copies of the values, not the
// records' text they are part of.
type topN struct {
	max    int
	index  map[string]int // value -> its place in counts: one lookup counts a known value
	counts []Count
	other  int64
	last   int // the place of the value counted last, tried before the map; -1: none
}

func newTopN(max int) *topN { return &topN{max: max, index: map[string]int{}, last: -1} }

func (t *topN) add(v string) { t.addN(v, 1) }

func (t *topN) addN(v string, n int64) {
	if t.last >= 0 && t.counts[t.last].Value == v {
		t.counts[t.last].Count += n // the same as the last: common in a run
		return
	}
	if i, ok := t.index[v]; ok {
		t.counts[i].Count += n
		t.last = i
		return
	}
	if len(t.counts) < t.max {
		v = strings.Clone(v)
		t.index[v] = len(t.counts)
		t.last = len(t.counts)
		t.counts = append(t.counts, Count{v, n})
		return
	}
	t.other += n
}

func (t *topN) merge(o *topN) {
	for _, c := range o.counts {
		t.addN(c.Value, c.Count)
	}
	t.other += o.other
}

// top returns the n most frequent values, ties by value.
func (t *topN) top(n int) []Count {
	out := slices.Clone(t.counts)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
