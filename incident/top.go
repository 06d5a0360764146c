package incident

import (
	"cmp"
	"slices"
	"strings"
)

// topN counts values with a bounded table: once it holds max values, new
// ones are counted under "other", so a flood of distinct request lines
// costs no more memory than a few. It keeps copies of the values, not the
// records' text they are part of.
//
// Values come with their hash (hashString; for vhosts and requests,
// computed with the rest of a Prepared record, on any core; the rare
// script of a slow request is hashed by the engine): a value is looked
// up by its hash in a small open-addressing table, and its text is
// compared only when the hashes agree. So a full table turns away a value
// it has no room for, the common case (most request lines are seen
// once), without hashing or comparing text on the engine's goroutine.
//
// Each slot of the table holds part of its value's hash beside the
// value's place, so that a value the table lacks is turned away by
// reading the slots alone, not the entries they point at: the engine
// counts the records of many incidents in turn, and one cache line read
// instead of several is what a record costs here.
type topN struct {
	entries []topEntry // in the order first seen
	// slots is a linear-probing table, at most half full, made with the
	// first value: 0 is an empty slot, else slotTag of the value's hash
	// with its place in entries plus one in the low byte.
	slots    []uint32
	other    int64
	lastHash uint64 // the hash of entries[last], tried first
	last     int32  // the place of the value counted last; -1: none
	max      int32  // at most maxTop
}

// maxTop bounds topN.max: a place plus one fits the low byte of a slot.
const maxTop = 255

type topEntry struct {
	value string
	count int64
	hash  uint64 // hashString(value)
}

func newTopN(max int) topN { return topN{max: int32(min(max, maxTop)), last: -1} }

// slotTag is what a slot keeps of a hash: bits the table's place does
// not come from, with the low byte clear for the value's place.
func slotTag(h uint64) uint32 { return uint32(h>>32) &^ 0xff }

// add counts v, whose hash is h, and returns the table's copy of v, or
// "" when v is counted under other.
func (t *topN) add(v string, h uint64) string { return t.addN(v, h, 1) }

func (t *topN) addN(v string, h uint64, n int64) string {
	if t.last >= 0 && t.lastHash == h {
		if e := &t.entries[t.last]; e.value == v {
			e.count += n // the same as the last: common in a run
			return e.value
		}
	}
	if t.slots == nil {
		size := 16
		for size < 2*int(t.max) {
			size *= 2
		}
		t.slots = make([]uint32, size)
	}
	mask := uint64(len(t.slots) - 1)
	tag := slotTag(h)
	i := h & mask
	for ; t.slots[i] != 0; i = (i + 1) & mask {
		s := t.slots[i]
		if s&^0xff != tag {
			continue
		}
		j := int32(s&0xff) - 1
		if e := &t.entries[j]; e.hash == h && e.value == v {
			e.count += n
			t.last, t.lastHash = j, h
			return e.value
		}
	}
	if len(t.entries) < int(t.max) {
		v = strings.Clone(v)
		j := int32(len(t.entries))
		t.last, t.lastHash = j, h
		t.slots[i] = tag | uint32(j+1)
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
	// Values are distinct: any sort gives this order.
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
