package incident

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// topN counts what a map counts for the values it has room for, in runs
// and interleaved, puts the rest under other, and merges the same way.
func TestTopNCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const max = 8
	top := newTopN(max)
	want := map[string]int64{}
	var order []string // values in the order first seen
	var other, total int64
	for range 5000 {
		v := fmt.Sprintf("v%d", r.IntN(12))
		n := int64(1 + r.IntN(3))
		for range r.IntN(4) + 1 { // runs of one value
			top.addN(v, n)
			total += n
			if _, ok := want[v]; !ok && len(order) < max {
				order = append(order, v)
				want[v] = 0
			}
			if _, ok := want[v]; ok {
				want[v] += n
			} else {
				other += n
			}
		}
	}
	got := map[string]int64{}
	for _, c := range top.counts {
		got[c.Value] = c.Count
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if top.other != other || other+sum(got) != total {
		t.Errorf("other = %d, want %d", top.other, other)
	}
	merged := newTopN(max)
	merged.add("v0")
	merged.merge(top)
	if merged.counts[0].Value != "v0" || merged.counts[0].Count != want["v0"]+1 {
		t.Errorf("merged v0: %+v, want %d", merged.counts[0], want["v0"]+1)
	}
}

func sum(m map[string]int64) int64 {
	var s int64
	for _, n := range m {
		s += n
	}
	return s
}
