package bench

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

type generated struct {
	nginx, fpm, slow []byte
	stats            Stats
}

func generate(t testing.TB, lines int, seed uint64) generated {
	t.Helper()
	var g generated
	var n, f, s bytes.Buffer
	st, err := Generate(Config{Lines: lines, Seed: seed}, &n, &f, &s)
	if err != nil {
		t.Fatal(err)
	}
	g.nginx, g.fpm, g.slow, g.stats = n.Bytes(), f.Bytes(), s.Bytes(), st
	return g
}

func scan(t testing.TB, data []byte, name string) ([]parser.Entry, parser.Stats) {
	t.Helper()
	var out []parser.Entry
	st, err := parser.Scan(bytes.NewReader(data), parser.Options{File: name, Location: time.UTC},
		func(e *parser.Entry) { out = append(out, *e) })
	if err != nil {
		t.Fatal(err)
	}
	return out, st
}

func TestGenerateDeterministic(t *testing.T) {
	a := generate(t, 20000, 7)
	b := generate(t, 20000, 7)
	for _, f := range []struct {
		name string
		a, b []byte
	}{{"error.log", a.nginx, b.nginx}, {"php-fpm.log", a.fpm, b.fpm}, {"php-fpm-slow.log", a.slow, b.slow}} {
		if !bytes.Equal(f.a, f.b) {
			t.Errorf("%s: two runs with seed 7 differ (%d and %d bytes)", f.name, len(f.a), len(f.b))
		}
	}
	if c := generate(t, 20000, 8); bytes.Equal(a.nginx, c.nginx) {
		t.Error("error.log: seeds 7 and 8 give the same bytes")
	}
}

// TestGenerateParses proves the generated logs are what the parser and
// the rule library know: every line parses, the nginx log has exactly
// the lines asked for in time order, every kind of record was written,
// and the only records no rule matches are the ones meant to be unknown.
func TestGenerateParses(t *testing.T) {
	const lines = 30000
	g := generate(t, lines, 1)
	if n := bytes.Count(g.nginx, []byte("\n")); n != lines || g.stats.NginxLines != lines {
		t.Errorf("error.log has %d lines (Stats says %d), want %d", n, g.stats.NginxLines, lines)
	}
	if int64(len(g.nginx)) != g.stats.NginxBytes {
		t.Errorf("Stats.NginxBytes = %d, wrote %d", g.stats.NginxBytes, len(g.nginx))
	}
	for k, n := range g.stats.Records {
		if n == 0 {
			t.Errorf("no %s record in %d lines", KindNames[k], lines)
		}
	}
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		data   []byte
		format parser.Format
		lines  int64
	}{
		{"error.log", g.nginx, parser.FormatNginx, g.stats.NginxLines},
		{"php-fpm.log", g.fpm, parser.FormatFPM, g.stats.FPMLines},
		{"php-fpm-slow.log", g.slow, parser.FormatFPMSlow, g.stats.SlowLines},
	} {
		t.Run(f.name, func(t *testing.T) {
			entries, st := scan(t, f.data, f.name)
			if st.Unparsed != 0 || st.Cut != 0 {
				t.Errorf("%d unparsed records, %d cut lines; samples: %q", st.Unparsed, st.Cut, st.UnparsedSamples)
			}
			if st.Lines != f.lines {
				t.Errorf("parser read %d lines, generator wrote %d", st.Lines, f.lines)
			}
			var last time.Time
			unknown := 0
			for i := range entries {
				e := &entries[i]
				if e.Format != f.format {
					t.Fatalf("line %d: format %v, want %v", e.Line, e.Format, f.format)
				}
				if e.Time.Before(last) {
					t.Fatalf("line %d: time %v goes back from %v", e.Line, e.Time, last)
				}
				last = e.Time
				if _, ok := set.Match(e); !ok {
					if f.format != parser.FormatNginx || !isUnknown(e.Message) {
						t.Errorf("line %d: no rule matches %q", e.Line, e.Raw)
					}
					unknown++
				}
			}
			if f.format == parser.FormatNginx && int64(unknown) > g.stats.Records[kUnknown] {
				t.Errorf("%d unmatched records, %d written as unknown", unknown, g.stats.Records[kUnknown])
			}
		})
	}
}

func isUnknown(msg string) bool {
	for _, u := range unknownLines {
		if msg == u.msg {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Benchmarks. The fixture is a generated day of 100 000 nginx lines
// (about 28 MB) with its php-fpm logs, parsed once.

type fixture struct {
	set    *rules.Set
	nginx  []byte
	lines  int64
	hits   []parser.Entry // nginx records some rule matches
	misses []parser.Entry // nginx records no rule matches
	// timeline is every record of the three logs in time order, with its
	// match (nil when none), as the incident engine receives them.
	timeline []matched
	tlBytes  int64
}

type matched struct {
	e parser.Entry
	m *rules.Match
}

var (
	fixtureOnce sync.Once
	fix         *fixture
	fixErr      error
)

func loadFixture(b *testing.B) *fixture {
	fixtureOnce.Do(func() {
		fix, fixErr = newFixture(b)
	})
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return fix
}

func newFixture(b *testing.B) (*fixture, error) {
	set, err := rules.Load(false)
	if err != nil {
		return nil, err
	}
	g := generate(b, 100_000, 1)
	f := &fixture{set: set, nginx: g.nginx, lines: g.stats.NginxLines}
	var all []parser.Entry
	for _, in := range []struct {
		name string
		data []byte
	}{{"error.log", g.nginx}, {"php-fpm.log", g.fpm}, {"php-fpm-slow.log", g.slow}} {
		entries, st := scan(b, in.data, in.name)
		if st.Unparsed > 0 {
			return nil, fmt.Errorf("%s: %d unparsed records", in.name, st.Unparsed)
		}
		if in.name == "error.log" {
			for _, e := range entries {
				if _, ok := set.Match(&e); ok {
					f.hits = append(f.hits, e)
				} else {
					f.misses = append(f.misses, e)
				}
			}
		}
		all = append(all, entries...)
	}
	slices.SortStableFunc(all, func(a, b parser.Entry) int { return a.Time.Compare(b.Time) })
	for _, e := range all {
		x := matched{e: e}
		if m, ok := set.Match(&e); ok {
			x.m = &m
		}
		f.timeline = append(f.timeline, x)
		f.tlBytes += int64(len(e.Raw)) + 1
	}
	if len(f.hits) == 0 || len(f.misses) == 0 {
		return nil, fmt.Errorf("%d matching and %d unmatched records; want some of both", len(f.hits), len(f.misses))
	}
	return f, nil
}

func rawBytes(entries []parser.Entry) int64 {
	var n int64
	for i := range entries {
		n += int64(len(entries[i].Raw)) + 1
	}
	return n
}

// perLine reports ns/line and allocs/line for a benchmark whose every
// op handles lines lines, measuring allocations on one extra run.
func perLine(b *testing.B, lines int64, op func()) {
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
	b.ReportMetric(testing.AllocsPerRun(1, op)/float64(lines), "allocs/line")
}

// BenchmarkMatchHit matches nginx records that a rule knows: the anchor
// is found and the pattern runs, usually after other rules' anchors or
// patterns failed.
func BenchmarkMatchHit(b *testing.B) {
	f := loadFixture(b)
	benchMatch(b, f.set, f.hits)
}

// BenchmarkMatchMiss matches nginx records no rule knows: every rule of
// the server is tried and fails.
func BenchmarkMatchMiss(b *testing.B) {
	f := loadFixture(b)
	benchMatch(b, f.set, f.misses)
}

func benchMatch(b *testing.B, set *rules.Set, entries []parser.Entry) {
	b.SetBytes(rawBytes(entries))
	b.ReportAllocs()
	sink := 0
	op := func() {
		for i := range entries {
			if m, ok := set.Match(&entries[i]); ok {
				sink += len(m.Subject)
			}
		}
	}
	for b.Loop() {
		op()
	}
	perLine(b, int64(len(entries)), op)
	_ = sink
}

// BenchmarkScan parses the generated nginx log: the parser's share of
// the per-line work.
func BenchmarkScan(b *testing.B) {
	sink := 0
	benchScan(b, func(f *fixture) func(*parser.Entry) {
		return func(e *parser.Entry) { sink += len(e.Message) }
	})
	_ = sink
}

// benchScan parses the generated nginx log, calling the emit made for
// the fixture on every record.
func benchScan(b *testing.B, emitter func(f *fixture) func(*parser.Entry)) {
	f := loadFixture(b)
	b.SetBytes(int64(len(f.nginx)))
	b.ReportAllocs()
	emit := emitter(f)
	op := func() {
		if _, err := parser.Scan(bytes.NewReader(f.nginx), parser.Options{Location: time.UTC}, emit); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		op()
	}
	perLine(b, f.lines, op)
}

// BenchmarkScanMatch parses the generated nginx log and matches every
// record: the per-line work of analyze without the incident engine.
func BenchmarkScanMatch(b *testing.B) {
	sink := 0
	benchScan(b, func(f *fixture) func(*parser.Entry) {
		return func(e *parser.Entry) {
			if m, ok := f.set.Match(e); ok {
				sink += len(m.Subject)
			}
		}
	})
	_ = sink
}

// BenchmarkIncident feeds the three logs' records, matched, in time order
// to a new engine and flushes it: grouping, root causes and the
// templates of unknown records.
func BenchmarkIncident(b *testing.B) {
	f := loadFixture(b)
	b.SetBytes(f.tlBytes)
	b.ReportAllocs()
	incidents := 0
	op := func() {
		eng := incident.New(incident.Config{Final: func(*incident.Incident) { incidents++ }})
		for i := range f.timeline {
			eng.Add(&f.timeline[i].e, f.timeline[i].m)
		}
		eng.Flush()
	}
	for b.Loop() {
		op()
	}
	perLine(b, int64(len(f.timeline)), op)
}
