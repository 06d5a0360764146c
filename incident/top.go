package incident

import (
	"sort"
	"strings"
)

// topN counts values with a bounded table: once it holds max values, new
// ones are counted under "other", so a flood of distinct request lines
// costs no more memory than a few. It keeps copies of the values, not the
// records' text they are part of.
//
// Values come with their hash (hashString; for vhosts and requests,
// computed with the rest of a Prepared record, on any core; the rare
// script of a slow request is hashed by the engine): a value is looked up by its hash in a
// small open-addressing table, and its text is compared only when the
// hashes agree. So a full table turns away a value it has no room for,
// the common case (most request lines are seen once), without hashing
// or comparing text on the engine's goroutine.
type topN struct {
	max     int
	entries []topEntry // in the order first seen
	// slots is a linear-probing table of places in entries, plus one (0
	// is an empty slot), at most half full; made with the first value.
	slots []int32
	other int64
	last  int // the place of the value counted last, tried first; -1: none
}

type topEntry struct {
	value string
	count int64
	hash  uint64 // hashString(value)
}

func newTopN(max int) topN { return topN{max: max, last: -1} }

// add counts v, whose hash is h, and returns the table's copy of v, or
// "" when v is counted under other.
func (t *topN) add(v string, h uint64) string { return t.addN(v, h, 1) }

func (t *topN) addN(v string, h uint64, n int64) string {
	if t.last >= 0 {
		if e := &t.entries[t.last]; e.hash == h && e.value == v {
			e.count += n // the same as the last: common in a run
			return e.value
		}
	}
	if t.slots == nil {
		size := 16
		for size < 2*t.max {
			size *= 2
		}
		t.slots = make([]int32, size)
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for ; t.slots[i] != 0; i = (i + 1) & mask {
		j := int(t.slots[i] - 1)
		if e := &t.entries[j]; e.hash == h && e.value == v {
			e.count += n
			t.last = j
			return e.value
		}
	}
	if len(t.entries) < t.max {
		v = strings.Clone(v)
		t.last = len(t.entries)
		t.slots[i] = int32(len(t.entries) + 1)
		t.entries = append(t.entries, topEntry{v, n, h})
		return v
	}
	t.other += n
	return ""
}

func (t *topN) merge(o *topN) {
	for _, e := range o.entries {
		t.addN(e.value, e.hash, e.count)
	}
	t.other += o.other
}

// top returns the n most frequent values, ties by value.
func (t *topN) top(n int) []Count {
	out := make([]Count, len(t.entries))
	for i, e := range t.entries {
		out[i] = Count{e.value, e.count}
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
