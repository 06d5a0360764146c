package incident

import "sort"

// topN counts values with a bounded table: once it holds max values, new
// ones are counted under "other", so a flood of distinct request lines
// costs no more memory than a few.
type topN struct {
	max    int
	counts map[string]int64
	other  int64
}

func newTopN(max int) *topN { return &topN{max: max, counts: map[string]int64{}} }

func (t *topN) add(v string) { t.addN(v, 1) }

func (t *topN) addN(v string, n int64) {
	if _, ok := t.counts[v]; ok || len(t.counts) < t.max {
		t.counts[v] += n
		return
	}
	t.other += n
}

func (t *topN) merge(o *topN) {
	for v, n := range o.counts {
		t.addN(v, n)
	}
	t.other += o.other
}

// top returns the n most frequent values, ties by value.
func (t *topN) top(n int) []Count {
	out := make([]Count, 0, len(t.counts))
	for v, c := range t.counts {
		out = append(out, Count{v, c})
	}
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
