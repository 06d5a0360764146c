package incident

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// instants order as the times they come from, and share a minute exactly
// when the times truncate to the same minute: across the epoch, before
// year 1970 and in zones with odd offsets.
func TestInstantOrdersAsTime(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("+0530", 5*3600+1800), time.FixedZone("-0001", -60-7)}
	base := []time.Time{
		time.Unix(0, 0), time.Unix(-1, 999_999_999), time.Unix(59, 999_999_999), time.Unix(60, 0), time.Unix(-60, 0), time.Unix(-61, 0),
		t0, t0.Add(time.Nanosecond), t0.Add(-time.Nanosecond), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	times := append([]time.Time(nil), base...)
	for range 2000 {
		// Near one another, so that seconds and minutes often agree.
		at := base[r.IntN(len(base))].Add(time.Duration(r.Int64N(int64(3*time.Minute))) - 90*time.Second)
		times = append(times, at.In(zones[r.IntN(len(zones))]))
	}
	for i, a := range times {
		for _, b := range times[max(0, i-50) : i+1] {
			ia, ib := instantOf(a), instantOf(b)
			if got, want := ia.before(ib), a.Before(b); got != want {
				t.Fatalf("instantOf(%v).before(instantOf(%v)) = %v, time says %v", a, b, got, want)
			}
			if got, want := ib.before(ia), b.Before(a); got != want {
				t.Fatalf("instantOf(%v).before(instantOf(%v)) = %v, time says %v", b, a, got, want)
			}
			if got, want := ia.minute() == ib.minute(), a.Truncate(time.Minute).Equal(b.Truncate(time.Minute)); got != want {
				t.Fatalf("%v and %v: same minute %v, Truncate says %v", a, b, got, want)
			}
		}
	}
}

// Adding a duration to an instant is adding it to the time.
func TestInstantAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	durations := []time.Duration{0, time.Nanosecond, -time.Nanosecond, time.Second, -time.Second, DefaultGap, -DefaultGap, -DefaultRecur,
		999_999_999, -999_999_999, 1_000_000_001, -1_000_000_001, 100 * 365 * 24 * time.Hour}
	times := []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 1), time.Unix(1, 999_999_999), t0, t0.Add(-time.Nanosecond)}
	for range 200 {
		durations = append(durations, time.Duration(r.Int64N(int64(48*time.Hour)))-24*time.Hour)
		times = append(times, t0.Add(time.Duration(r.Int64N(int64(1000*time.Hour)))-500*time.Hour))
	}
	for _, at := range times {
		for _, d := range durations {
			if got, want := instantOf(at).add(d), instantOf(at.Add(d)); got != want {
				t.Fatalf("instantOf(%v).add(%v) = %+v, want %+v", at, d, got, want)
			}
		}
	}
}

// The quiet queue pops incidents in the order container/heap would,
// ties included: which of two incidents ending at the same time closes
// first decides the order of the output.
func TestEndQueueOrdersAsContainerHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	states := make([]*state, 500)
	for i := range states {
		states[i] = &state{seq: int64(i)}
	}
	var got endQueue
	want := &refQueue{}
	var gotOrder, wantOrder []int64
	for _, st := range states {
		// Few distinct ends: many ties.
		end := instant{sec: r.Int64N(20), nsec: int32(r.IntN(2))}
		got.push(queued{end, st})
		heap.Push(want, queued{end, st})
		for r.IntN(3) == 0 && len(got) > 0 {
			gotOrder = append(gotOrder, got.pop().seq)
			wantOrder = append(wantOrder, heap.Pop(want).(queued).st.seq)
		}
	}
	for len(got) > 0 {
		gotOrder = append(gotOrder, got.pop().seq)
		wantOrder = append(wantOrder, heap.Pop(want).(queued).st.seq)
	}
	if diff := cmp.Diff(wantOrder, gotOrder); diff != "" {
		t.Errorf("order of pops (-container/heap +endQueue):\n%s", diff)
	}
}

// refQueue is the quiet queue as container/heap orders it.
type refQueue []queued

func (q refQueue) Len() int           { return len(q) }
func (q refQueue) Less(i, j int) bool { return q[i].end.before(q[j].end) }
func (q refQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *refQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *refQueue) Pop() any {
	x := (*q)[len(*q)-1]
	*q = (*q)[:len(*q)-1]
	return x
}

// incidentID is the start and 24 bits of the FNV-1a hash of the key, as
// fmt and hash/fnv make them.
func TestIncidentID(t *testing.T) {
	tests := []Incident{
		{Group: "backend", Subject: "10.0.0.5:8080", Start: t0},
		{Group: "backend", Subject: "unix:/run/php/php8.2-fpm.sock", Start: t0.Add(1500 * time.Millisecond)},
		{Group: "nginx.static.open_failed.not_found", Subject: "shop.example.com", Start: t0.In(time.FixedZone("+0200", 7200))},
		{Group: "", Subject: "", Start: time.Time{}},
		{Group: "g", Subject: "sujet \u00e9\x00\xff", Start: time.Date(12345, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, in := range tests {
		t.Run(fmt.Sprintf("%s/%s", in.Group, in.Subject), func(t *testing.T) {
			h := fnv.New32a()
			h.Write([]byte(in.Group + "\x00" + in.Subject))
			want := fmt.Sprintf("%s-%06x", in.Start.UTC().Format("20060102T150405"), h.Sum32()&0xffffff)
			if got := incidentID(&in); got != want {
				t.Errorf("incidentID = %q, want %q", got, want)
			}
		})
	}
}
