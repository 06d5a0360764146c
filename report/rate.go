package report

import (
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// MaxBuckets bounds a Rate: a day of minutes.
const MaxBuckets = 1440

// Rate counts problem records (see Problem) over time for the timeline
// of the HTML report. Records with a zero time (unparsed lines) are
// ignored.
//
// Memory is bounded whatever the input: there are at most MaxBuckets
// buckets. Buckets start one second wide, so that a short outage still
// shows its shape; when the span no longer fits, the width steps up
// through 5 s, 15 s, 30 s and one minute, then doubles (2 min, 4 min, …)
// and neighbouring buckets are merged, so a day fits at one-minute
// resolution and a month at 32 minutes. Buckets are aligned to multiples
// of their width since the Unix epoch, so merging is exact. Records may
// come in any order. The zero Rate is empty and ready to use; a Rate is
// not safe for concurrent use.
type Rate struct {
	start  int64 // Unix seconds at which counts[0] begins; a multiple of width
	width  int64 // seconds per bucket; 0 until the first record
	counts []int64
	loc    *time.Location // the zone of the first record, for Start
}

// Problem reports whether a record counts in a Rate: matched (m not nil)
// by a rule of severity warning or above, or matched by none with a
// parser level of error or worse (crit, alert and emerg too).
func Problem(e *parser.Entry, m *rules.Match) bool {
	if m != nil {
		return m.Rule.Severity >= rules.SeverityWarning
	}
	return e.Level >= parser.LevelError
}

// Add counts one record at t. A zero t is ignored.
func (r *Rate) Add(t time.Time) {
	if t.IsZero() {
		return
	}
	s := t.Unix()
	if r.width > 0 && s >= r.start {
		// The common case: records come mostly in time order.
		if i := (s - r.start) / r.width; i < int64(len(r.counts)) {
			r.counts[i]++
			return
		}
	}
	r.grow(t, s)
}

// grow makes room for second s and counts it: the first record, a record
// past the last bucket or before the first.
func (r *Rate) grow(t time.Time, s int64) {
	if r.width == 0 {
		r.width, r.start, r.loc = 1, s, t.Location()
		r.counts = make([]int64, 1, 64)
		r.counts[0] = 1
		return
	}
	lo := min(r.start, floorTo(s, r.width))
	hi := max(r.end(), floorTo(s, r.width)+r.width)
	w := r.width
	for (hi-lo)/w > MaxBuckets {
		w = nextWidth(w)
		lo, hi = floorTo(lo, w), ceilTo(hi, w)
	}
	if w == r.width && lo == r.start {
		// Only new buckets at the end.
		for int64(len(r.counts)) < (hi-lo)/w {
			r.counts = append(r.counts, 0)
		}
	} else {
		r.rebucket(lo, hi, w)
	}
	r.counts[(s-r.start)/r.width]++
}

// rebucket moves the counts into buckets of width w (a multiple of the
// current width) covering [lo, hi).
func (r *Rate) rebucket(lo, hi, w int64) {
	counts := make([]int64, (hi-lo)/w, max(64, min(MaxBuckets, 2*(hi-lo)/w)))
	for i, n := range r.counts {
		if n != 0 {
			counts[(r.start+int64(i)*r.width-lo)/w] += n
		}
	}
	r.start, r.width, r.counts = lo, w, counts
}

// end is the Unix second just past the last bucket.
func (r *Rate) end() int64 { return r.start + int64(len(r.counts))*r.width }

// Start returns when the first bucket begins, in the zone of the first
// record; zero when nothing was counted.
func (r *Rate) Start() time.Time {
	if r == nil || r.width == 0 {
		return time.Time{}
	}
	return time.Unix(r.start, 0).In(r.loc)
}

// End returns when the last bucket ends; zero when nothing was counted.
func (r *Rate) End() time.Time {
	if r == nil || r.width == 0 {
		return time.Time{}
	}
	return time.Unix(r.end(), 0).In(r.loc)
}

// Width returns the time each bucket covers; zero when nothing was
// counted.
func (r *Rate) Width() time.Duration {
	if r == nil {
		return 0
	}
	return time.Duration(r.width) * time.Second
}

// Counts returns a copy of the buckets' counts, oldest first; bucket i
// covers [Start()+i*Width(), Start()+(i+1)*Width()).
func (r *Rate) Counts() []int64 {
	if r == nil {
		return nil
	}
	return append([]int64(nil), r.counts...)
}

// Total returns how many records were counted.
func (r *Rate) Total() int64 {
	if r == nil {
		return 0
	}
	var n int64
	for _, c := range r.counts {
		n += c
	}
	return n
}

// coarsened returns a copy of r whose buckets are at least least wide:
// the first width of the ladder at or above both least and r's width.
func (r *Rate) coarsened(least time.Duration) *Rate {
	c := &Rate{start: r.start, width: r.width, loc: r.loc, counts: r.Counts()}
	if r.width == 0 {
		return c
	}
	w := r.width
	for time.Duration(w)*time.Second < least {
		w = nextWidth(w)
	}
	if w != r.width {
		c.rebucket(floorTo(r.start, w), ceilTo(r.end(), w), w)
	}
	return c
}

// nextWidth is the bucket width after w, in seconds: 1, 5, 15, 30, 60,
// then doubling. Each is a multiple of the one before, so merging
// aligned buckets is exact.
func nextWidth(w int64) int64 {
	switch {
	case w < 5:
		return 5
	case w < 15:
		return 15
	case w < 30:
		return 30
	case w < 60:
		return 60
	}
	return 2 * w
}

// floorTo rounds s down to a multiple of w, also for times before 1970.
func floorTo(s, w int64) int64 {
	q := s / w
	if s%w != 0 && s < 0 {
		q--
	}
	return q * w
}

func ceilTo(s, w int64) int64 {
	f := floorTo(s, w)
	if f == s {
		return s
	}
	return f + w
}
