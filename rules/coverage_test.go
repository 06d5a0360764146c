package rules

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
)

// TestCoverageCountsRuns: records of one rule come in runs, which are
// counted aside; whatever the interleaving, ByRule and MatchedTotal say
// what a count per record would, also when read between two records.
func TestCoverageCountsRuns(t *testing.T) {
	a, b, c := &Rule{ID: "a"}, &Rule{ID: "b"}, &Rule{ID: "c"}
	e := &parser.Entry{Level: parser.LevelError}
	cov := NewCoverage(2)
	want := map[string]int64{}
	for i, r := range []*Rule{a, a, a, b, a, nil, c, c, nil, b, b, a} {
		if r == nil {
			cov.Count(e, nil)
		} else {
			cov.Count(e, &Match{Rule: r})
			want[r.ID]++
		}
		if i == 7 { // mid-run
			if got := cov.ByRule(); got[0] != (RuleCount{"a", 4}) || len(got) != 3 {
				t.Fatalf("mid-run ByRule = %v", got)
			}
		}
	}
	checkByRule(t, cov, want)
	if n := cov.MatchedTotal(); n != 10 {
		t.Errorf("MatchedTotal = %d, want 10", n)
	}
	if cov.Unmatched != 2 || cov.UnmatchedSevere != 2 {
		t.Errorf("unmatched %d, severe %d, want 2 and 2", cov.Unmatched, cov.UnmatchedSevere)
	}
}

// BenchmarkCoverageCount counts records of rules that take turns, as
// they do in a log of several kinds of trouble.
func BenchmarkCoverageCount(b *testing.B) {
	var rs []*Rule
	for i := range 24 {
		rs = append(rs, &Rule{ID: fmt.Sprintf("nginx.rule.number_%d", i)})
	}
	e := &parser.Entry{Level: parser.LevelError}
	ms := make([]Match, 1000)
	for i := range ms {
		ms[i] = Match{Rule: rs[(i*7+i/3)%len(rs)]}
	}
	cov := NewCoverage(5)
	for b.Loop() {
		for i := range ms {
			cov.Count(e, &ms[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ms)), "ns/record")
}

// TestCoverageManyRules: with more rules than the table of runs has
// slots, rules share slots and push each other's counts out; the counts
// stay exact.
func TestCoverageManyRules(t *testing.T) {
	var rs []*Rule
	for i := range 3 * pendingSlots {
		rs = append(rs, &Rule{ID: fmt.Sprint("r", i)})
	}
	e := &parser.Entry{Level: parser.LevelError}
	cov := NewCoverage(0)
	want := map[string]int64{}
	x := uint32(1)
	for i := range 20000 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		r := rs[int(x)%len(rs)]
		for range 1 + i%3 {
			cov.Count(e, &Match{Rule: r})
			want[r.ID]++
		}
		if i == 10000 {
			if n := cov.MatchedTotal(); n < 10000 {
				t.Fatalf("MatchedTotal mid-way = %d", n)
			}
		}
	}
	checkByRule(t, cov, want)
	slots := map[int]bool{}
	for _, r := range rs {
		slots[pendingSlot(r)] = true
	}
	if len(slots) < pendingSlots/2 {
		t.Errorf("%d rules use %d slots of %d", len(rs), len(slots), pendingSlots)
	}
}

// checkByRule compares what cov counted per rule with want.
func checkByRule(t *testing.T, cov *Coverage, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	for _, rc := range cov.ByRule() {
		got[rc.ID] = rc.Count
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ByRule (-want +got):\n%s", diff)
	}
}
