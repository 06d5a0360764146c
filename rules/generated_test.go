package rules_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/bench"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// generated parses a small generated day of nginx and php-fpm logs.
func generated(t testing.TB) []parser.Entry {
	t.Helper()
	var nginx, fpm, slow bytes.Buffer
	if _, err := bench.Generate(bench.Config{Lines: 20000, Seed: 3}, &nginx, &fpm, &slow); err != nil {
		t.Fatal(err)
	}
	var out []parser.Entry
	for _, in := range []struct {
		name string
		data []byte
	}{{"error.log", nginx.Bytes()}, {"php-fpm.log", fpm.Bytes()}, {"php-fpm-slow.log", slow.Bytes()}} {
		_, err := parser.Scan(bytes.NewReader(in.data), parser.Options{File: in.name, Location: time.UTC},
			func(e *parser.Entry) { out = append(out, *e) })
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestMatchGeneratedDifferential: the fast path and the plain one agree
// on every record of the generated benchmark logs.
func TestMatchGeneratedDifferential(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	entries := generated(t)
	matched := 0
	for i := range entries {
		e := &entries[i]
		want := rules.OutcomeOf(set.MatchPlain(e))
		if want.ID != "" {
			matched++
		}
		if diff := cmp.Diff(want, rules.OutcomeOf(set.Match(e))); diff != "" {
			t.Errorf("%s:%d: Match differs from the plain path (-want +got):\n%s", e.File, e.Line, diff)
		}
		if diff := cmp.Diff(want, rules.OutcomeOf(set.MatchUncached(e))); diff != "" {
			t.Errorf("%s:%d: uncached Match differs from the plain path (-want +got):\n%s", e.File, e.Line, diff)
		}
	}
	if matched < len(entries)/2 {
		t.Errorf("%d of %d records matched; the generated logs should be mostly known", matched, len(entries))
	}
}

// BenchmarkMatch compares the three ways to match, on generated nginx
// records some rule matches and records none does.
func BenchmarkMatch(b *testing.B) {
	set, err := rules.Load(false)
	if err != nil {
		b.Fatal(err)
	}
	var hits, misses []parser.Entry
	for _, e := range generated(b) {
		if e.Server != parser.Nginx {
			continue
		}
		if _, ok := set.MatchPlain(&e); ok {
			hits = append(hits, e)
		} else {
			misses = append(misses, e)
		}
	}
	for _, path := range []struct {
		name  string
		match func(*parser.Entry) (rules.Match, bool)
	}{{"plain", set.MatchPlain}, {"uncached", set.MatchUncached}, {"cached", set.Match}} {
		for _, in := range []struct {
			name    string
			entries []parser.Entry
		}{{"hit", hits}, {"miss", misses}} {
			b.Run(path.name+"/"+in.name, func(b *testing.B) {
				b.ReportAllocs()
				op := func() {
					for i := range in.entries {
						path.match(&in.entries[i])
					}
				}
				for b.Loop() {
					op()
				}
				b.StopTimer()
				n := float64(len(in.entries))
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
				b.ReportMetric(testing.AllocsPerRun(1, op)/n, "allocs/record")
			})
		}
	}
}
