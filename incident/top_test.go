package incident

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// topN counts what a map counts for the values it has room for, in runs
// and interleaved, puts the rest under other, and merges the same way;
// also when values share a hash, which the table must tell apart by
// their text.
func TestTopNCounts(t *testing.T) {
	hashes := []struct {
		name string
		hash func(string) uint64
	}{
		{"maphash", hashString},
		{"by length", func(v string) uint64 { return uint64(len(v)) }}, // v0 to v9 share one
		{"constant", func(string) uint64 { return 7 }},
		// One place in the table for all, told apart by the part of the
		// hash its slots keep.
		{"one place", func(v string) uint64 { return hashString(v) &^ (1<<32 - 1) }},
	}
	for _, hf := range hashes {
		t.Run(hf.name, func(t *testing.T) {
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
					top.addN(v, hf.hash(v), n)
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
			var gotOrder []string
			for _, e := range top.entries {
				got[e.value] = e.count
				gotOrder = append(gotOrder, e.value)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(order, gotOrder); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			if top.other != other || other+sum(got) != total {
				t.Errorf("other = %d, want %d", top.other, other)
			}
			merged := newTopN(max)
			merged.addN("v0", hf.hash("v0"), 1)
			merged.merge(&top)
			if e := merged.entries[0]; e.value != "v0" || e.count != want["v0"]+1 {
				t.Errorf("merged v0: %+v, want %d", e, want["v0"]+1)
			}
		})
	}
}

// top orders by count, then by value, and keeps n.
func TestTopNTop(t *testing.T) {
	top := newTopN(8)
	for _, v := range []string{"b", "a", "c", "a", "b", "d", "a"} {
		top.add(v, hashString(v))
	}
	want := []Count{{"a", 3}, {"b", 2}, {"c", 1}}
	if diff := cmp.Diff(want, top.top(3)); diff != "" {
		t.Errorf("top(3) (-want +got):\n%s", diff)
	}
}

func sum(m map[string]int64) int64 {
	var s int64
	for _, n := range m {
		s += n
	}
	return s
}
