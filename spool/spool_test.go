package spool

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// worstFirst is the report's order.
func worstFirst(a, b *incident.Incident) int {
	if a.Severity != b.Severity {
		return cmp.Compare(b.Severity, a.Severity)
	}
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

var cet = time.FixedZone("CET", 3600)

// full returns an incident with every field set.
func full() *incident.Incident {
	t0 := time.Date(2026, 11, 21, 19, 57, 15, 123456789, cet)
	return &incident.Incident{
		ID: "20261121T195715-3f2a", Title: "php-fpm pool www out of children", Group: "backend",
		Subject: "unix:/run/php/php8.2-fpm.sock", SubjectKind: "socket", Severity: rules.SeverityCritical,
		Start: t0, End: t0.Add(49 * time.Second), Count: 1234,
		CountsByRule:  map[string]int64{"nginx.upstream.connect.eagain": 1200, "fpm.pool.max_children_reached": 34},
		PeakPerMinute: 900,
		RootCause:     incident.RootCause{RuleID: "fpm.pool.max_children_reached", Title: "out of children", Cause: "pm.max_children", Count: 34},
		Remediation:   []string{"raise pm.max_children", ""},
		Diagnostics:   []string{"ss -xl"},
		HTTPStatus:    []int{502, -1},
		VHosts:        []incident.Count{{Value: "shop.example.com", Count: 3}},
		Requests:      []incident.Count{{Value: "GET / HTTP/1.1", Count: 2}, {Value: "", Count: 0}},
		Scripts:       []incident.Count{{Value: "/var/www/index.php", Count: 1}},
		Pools:         []string{"www"},
		Clients:       42,
		Sources:       []string{"/var/log/nginx/error.log", "/var/log/php8.2-fpm.log"},
		Samples: []incident.Sample{
			{Time: t0, File: "/var/log/nginx/error.log", Line: 7, RuleID: "nginx.upstream.connect.eagain", Text: "line\nwith \x1b[31m控制 and \x00"},
			{Time: t0.Add(time.Second).UTC(), File: "f", Line: -1, RuleID: "r", Text: ""},
		},
		DeployBlip: true,
		Open:       true,
	}
}

func TestRecordRoundTrip(t *testing.T) {
	in := full()
	// A field added to Incident and left out of the record fails here
	// until the test sets it, and then in the comparison below.
	v := reflect.ValueOf(*in)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("full() leaves Incident.%s zero: set it, and write it in the record", v.Type().Field(i).Name)
		}
	}
	empty := &incident.Incident{CountsByRule: map[string]int64{}, Remediation: []string{}, Samples: []incident.Sample{}}
	for _, want := range []*incident.Incident{in, empty, {}} {
		s := New("", 1, worstFirst)
		rec := s.appendRecord([]byte("junk"), want)
		if !strings.HasPrefix(string(rec), "junk") {
			t.Fatalf("appendRecord overwrote what b held")
		}
		k := len("junk")
		got, err := s.decode(rec[k:])
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		// The same zone, named as before: Diff compares times with Equal,
		// which a time in another zone passes. (It does tell nil from
		// empty.)
		if want.Start.Format(time.RFC1123) != got.Start.Format(time.RFC1123) {
			t.Errorf("start prints %s, want %s", got.Start.Format(time.RFC1123), want.Start.Format(time.RFC1123))
		}
	}
}

// random makes n incidents with few distinct severities and starts, so
// that many tie up to the id.
func random(n int, seed uint64) []*incident.Incident {
	r := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ins := make([]*incident.Incident, n)
	for i := range ins {
		in := full()
		in.ID = fmt.Sprintf("id-%03d", r.IntN(n))
		in.Severity = rules.Severity(r.IntN(3) + int(rules.SeverityWarning))
		in.Start = base.Add(time.Duration(r.IntN(5)) * time.Hour)
		in.Count = int64(i) // tells apart incidents that compare equal
		in.Samples = in.Samples[:r.IntN(3)]
		ins[i] = in
	}
	return ins
}

func collect(t *testing.T, s *Spool) []*incident.Incident {
	t.Helper()
	var out []*incident.Incident
	next := 0
	for i, in := range s.All() {
		if i != next {
			t.Fatalf("All numbered %d after %d", i, next-1)
		}
		next++
		out = append(out, in)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOrderAcrossRuns(t *testing.T) {
	for _, tc := range []struct{ n, memory int }{
		{0, 4}, {1, 4}, {3, 4}, {4, 4}, {5, 4}, {100, 7}, {1000, 1}, {1000, 64}, {1000, 5000},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.n, tc.memory), func(t *testing.T) {
			ins := random(tc.n, uint64(tc.n*31+tc.memory))
			s := New(t.TempDir(), tc.memory, worstFirst)
			defer s.Close()
			for _, in := range ins {
				s.Add(in)
				// One batch filling, one being written.
				if held := len(s.mem) + len(s.writing); held >= 2*tc.memory {
					t.Fatalf("%d incidents in memory, the bound is %d", held, 2*tc.memory)
				}
			}
			if s.Warning() != nil {
				t.Fatal(s.Warning())
			}
			if s.Len() != tc.n {
				t.Fatalf("Len %d, want %d", s.Len(), tc.n)
			}
			if want := tc.n / tc.memory * tc.memory; s.Spilled() != want {
				t.Fatalf("%d spilled, want %d", s.Spilled(), want)
			}
			// The stable order of everything added is what comes out,
			// as often as it is asked for.
			want := slices.Clone(ins)
			slices.SortStableFunc(want, worstFirst)
			if len(want) == 0 {
				want = nil
			}
			for range 2 {
				if diff := gocmp.Diff(want, collect(t, s)); diff != "" {
					t.Fatalf("order (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestStopEarly(t *testing.T) {
	s := New(t.TempDir(), 3, worstFirst)
	defer s.Close()
	for _, in := range random(20, 9) {
		s.Add(in)
	}
	n := 0
	for range s.All() {
		n++
		if n == 5 {
			break
		}
	}
	if n != 5 || s.Err() != nil {
		t.Fatalf("stopped after %d, err %v", n, s.Err())
	}
	if got := len(collect(t, s)); got != 20 {
		t.Fatalf("read %d after an early stop, want 20", got)
	}
}

// A spool whose file cannot be made keeps everything in memory and says
// so; nothing is lost.
func TestFallBackToMemory(t *testing.T) {
	for seed := range uint64(10) {
		s := New(filepath.Join(t.TempDir(), "missing"), 2, worstFirst)
		ins := random(9, seed)
		for _, in := range ins {
			s.Add(in)
		}
		if s.Warning() == nil || !strings.Contains(s.Warning().Error(), "missing") {
			t.Fatalf("warning %v, want one naming the directory", s.Warning())
		}
		// In the order added among equals, as if nothing had failed.
		want := slices.Clone(ins)
		slices.SortStableFunc(want, worstFirst)
		if diff := gocmp.Diff(want, collect(t, s)); diff != "" {
			t.Fatalf("seed %d (-want +got):\n%s", seed, diff)
		}
	}
}

// A run that cannot be read back ends All early with an error instead
// of a report that silently lacks incidents.
func TestReadError(t *testing.T) {
	s := New(t.TempDir(), 4, worstFirst)
	defer s.Close()
	for _, in := range random(10, 5) {
		s.Add(in)
	}
	s.wait()
	if err := s.f.Truncate(s.size / 2); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range s.All() {
		n++
	}
	if s.Err() == nil || !strings.HasPrefix(s.Err().Error(), "spool: ") || n >= 10 {
		t.Fatalf("read %d of 10 with err %v, want an early stop with a spool error", n, s.Err())
	}
	s.Close()
	for range s.All() {
	}
	if s.Err() == nil {
		t.Fatal("All after Close: no error")
	}
}

// The temporary file is gone from its directory as soon as it is made.
func TestNothingLeftBehind(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, 1, worstFirst)
	for _, in := range random(5, 7) {
		s.Add(in)
	}
	if s.Spilled() == 0 {
		t.Fatal("nothing spilled")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left in %s: %v", dir, ents)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecode(f *testing.F) {
	seed := New("", 1, worstFirst)
	f.Add(seed.appendRecord(nil, full()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New("", 1, worstFirst)
		s.locs = seed.locs
		in, err := s.decode(b)
		if (in == nil) == (err == nil) {
			t.Fatalf("decode gave %v and %v", in, err)
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	s := New("", 1, worstFirst)
	in := full()
	var buf []byte
	for b.Loop() {
		buf = s.appendRecord(buf[:0], in)
		if _, err := s.decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/record")
}
