package report

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// base is a minute boundary on the day of the test outage.
var base = time.Date(2026, 11, 21, 19, 57, 0, 0, time.UTC)

func secs(ss ...int) []time.Time {
	ts := make([]time.Time, len(ss))
	for i, s := range ss {
		ts[i] = base.Add(time.Duration(s) * time.Second)
	}
	return ts
}

func TestRate(t *testing.T) {
	tests := []struct {
		name   string
		times  []time.Time
		start  time.Time
		width  time.Duration
		counts []int64
	}{
		{"empty", nil, time.Time{}, 0, nil},
		{"zero time ignored", []time.Time{{}, {}}, time.Time{}, 0, nil},
		{"one record", secs(15), base.Add(15 * time.Second), time.Second, []int64{1}},
		{"fraction of a second", []time.Time{base.Add(1500 * time.Millisecond)}, base.Add(time.Second), time.Second, []int64{1}},
		{"in order", secs(0, 0, 2, 3, 3, 3), base, time.Second, []int64{2, 0, 1, 3}},
		{"earlier record prepends", secs(10, 11, 8), base.Add(8 * time.Second), time.Second, []int64{1, 0, 1, 1}},
		{"zero time among others", []time.Time{base, {}, base}, base, time.Second, []int64{2}},
		// 1440 s fit in one-second buckets; the 1441st second does not.
		{"exactly full", secs(0, 1439), base, time.Second, append(append([]int64{1}, make([]int64, 1438)...), 1)},
		{"one past full", secs(0, 1, 4, 5, 1440), base, 5 * time.Second,
			append(append([]int64{3, 1}, make([]int64, 286)...), 1)},
		{"past full backwards", secs(1440, 5, 0), base, 5 * time.Second,
			append(append([]int64{1, 1}, make([]int64, 286)...), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Rate
			for _, ts := range tt.times {
				r.Add(ts)
			}
			if !r.Start().Equal(tt.start) {
				t.Errorf("Start() = %v, want %v", r.Start(), tt.start)
			}
			if r.Width() != tt.width {
				t.Errorf("Width() = %v, want %v", r.Width(), tt.width)
			}
			if diff := cmp.Diff(tt.counts, r.Counts()); diff != "" {
				t.Errorf("Counts() mismatch (-want +got):\n%s", diff)
			}
			var n int64
			for _, ts := range tt.times {
				if !ts.IsZero() {
					n++
				}
			}
			if r.Total() != n {
				t.Errorf("Total() = %d, want %d", r.Total(), n)
			}
		})
	}
}

// TestRateSpans feeds spans from a second to centuries, in time order and
// shuffled, and checks the bound, the width the ladder reaches, and every
// bucket against a count made from the final start and width.
func TestRateSpans(t *testing.T) {
	tests := []struct {
		name  string
		span  time.Duration
		width time.Duration
	}{
		{"a second", time.Second, time.Second},
		{"ten minutes", 10 * time.Minute, time.Second},
		{"an hour", time.Hour, 5 * time.Second},
		{"a day", 24 * time.Hour, time.Minute},
		{"a week", 7 * 24 * time.Hour, 8 * time.Minute},
		{"a month", 30 * 24 * time.Hour, 32 * time.Minute},
		{"a year", 365 * 24 * time.Hour, 512 * time.Minute},
	}
	for _, tt := range tests {
		for _, shuffled := range []bool{false, true} {
			name := tt.name
			if shuffled {
				name += "/shuffled"
			}
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, uint64(tt.span)))
				// Records at the first and the last second of the span,
				// and 5000 in between.
				times := []time.Time{base, base.Add(tt.span - time.Second)}
				for range 5000 {
					times = append(times, base.Add(time.Duration(rng.Int64N(int64(tt.span)))))
				}
				if shuffled {
					rng.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
				}
				var r Rate
				for i, ts := range times {
					r.Add(ts)
					if len(r.counts) > MaxBuckets || cap(r.counts) > 2*MaxBuckets {
						t.Fatalf("after %d records: %d buckets, capacity %d", i+1, len(r.counts), cap(r.counts))
					}
				}
				if r.Width() != tt.width {
					t.Errorf("Width() = %v, want %v", r.Width(), tt.width)
				}
				checkBuckets(t, &r, times)
			})
		}
	}
}

// checkBuckets recounts times into r's final buckets.
func checkBuckets(t *testing.T, r *Rate, times []time.Time) {
	t.Helper()
	want := make([]int64, len(r.Counts()))
	for _, ts := range times {
		i := int(ts.Truncate(time.Second).Sub(r.Start()) / r.Width())
		if i < 0 || i >= len(want) {
			t.Fatalf("%v is outside %v + %d × %v", ts, r.Start(), len(want), r.Width())
		}
		want[i]++
	}
	if diff := cmp.Diff(want, r.Counts()); diff != "" {
		t.Errorf("buckets mismatch (-want +got):\n%s", diff)
	}
	if r.Start().Unix()%int64(r.Width()/time.Second) != 0 {
		t.Errorf("Start() %v is not aligned to %v", r.Start(), r.Width())
	}
}

func TestRateHostileTimes(t *testing.T) {
	// Years a hostile or broken log can carry; far apart, before 1970.
	times := []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		base,
	}
	var r Rate
	for _, ts := range times {
		r.Add(ts)
	}
	if n := len(r.Counts()); n > MaxBuckets {
		t.Fatalf("%d buckets", n)
	}
	if r.Total() != int64(len(times)) {
		t.Errorf("Total() = %d, want %d", r.Total(), len(times))
	}
	if r.Start().After(times[1]) || r.End().Before(times[0]) {
		t.Errorf("buckets %v – %v do not cover the records", r.Start(), r.End())
	}

	var early Rate
	early.Add(time.Unix(-1, 0))
	early.Add(time.Unix(-3000, 0))
	if got, want := early.Start().Unix(), int64(-3000); got != want {
		t.Errorf("before 1970: Start() = %d, want %d", got, want)
	}
	checkBuckets(t, &early, []time.Time{time.Unix(-1, 0), time.Unix(-3000, 0)})
}

func TestRateKeepsFirstZone(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	var r Rate
	r.Add(base.In(cet))
	r.Add(base.Add(time.Minute))
	if got := r.Start().Location(); got != cet {
		t.Errorf("Start() in %v, want CET", got)
	}
	if got := r.Start().Format("15:04"); got != "20:57" {
		t.Errorf("Start() = %s, want 20:57 CET", got)
	}
}

func TestRateCoarsened(t *testing.T) {
	var r Rate
	for _, ts := range secs(0, 1, 4, 5, 59, 60, 61, 119) {
		r.Add(ts)
	}
	tests := []struct {
		least  time.Duration
		width  time.Duration
		counts []int64
	}{
		{0, time.Second, r.Counts()},
		{2 * time.Second, 5 * time.Second, []int64{3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		{40 * time.Second, time.Minute, []int64{5, 3}},
		{time.Hour, 64 * time.Minute, []int64{8}},
	}
	for _, tt := range tests {
		t.Run(tt.least.String(), func(t *testing.T) {
			c := r.coarsened(tt.least)
			if c.Width() != tt.width {
				t.Errorf("Width() = %v, want %v", c.Width(), tt.width)
			}
			if diff := cmp.Diff(tt.counts, c.Counts()); diff != "" {
				t.Errorf("Counts() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if r.Width() != time.Second || len(r.Counts()) != 120 {
		t.Errorf("coarsened changed the original: %v × %d", r.Width(), len(r.Counts()))
	}
}

func TestRateNil(t *testing.T) {
	var r *Rate
	if !r.Start().IsZero() || !r.End().IsZero() || r.Width() != 0 || r.Counts() != nil || r.Total() != 0 {
		t.Error("a nil Rate is not empty")
	}
}

func BenchmarkRateAdd(b *testing.B) {
	var r Rate
	t := base
	for i := 0; b.Loop(); i++ {
		r.Add(t.Add(time.Duration(i%86400) * time.Second))
	}
}

// Problem: matched at warning or above, or unmatched at error or worse.
func TestProblem(t *testing.T) {
	rule := func(s rules.Severity) *rules.Match { return &rules.Match{Rule: &rules.Rule{Severity: s}} }
	for _, tt := range []struct {
		level parser.Level
		m     *rules.Match
		want  bool
	}{
		{parser.LevelInfo, rule(rules.SeverityWarning), true},
		{parser.LevelCrit, rule(rules.SeverityNotice), false},
		{parser.LevelError, nil, true},
		{parser.LevelCrit, nil, true},
		{parser.LevelWarn, nil, false},
	} {
		if got := Problem(&parser.Entry{Level: tt.level}, tt.m); got != tt.want {
			t.Errorf("Problem(level %v, %v) = %v, want %v", tt.level, tt.m != nil, got, tt.want)
		}
	}
}
