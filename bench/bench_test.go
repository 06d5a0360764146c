package bench

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
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
	// match, as the incident engine receives them.
	timeline timeline
}

// timeline is records in time order with their matches.
type timeline struct {
	records  []matched
	prepared []incident.Prepared // of records[i]
	bytes    int64               // of the records' text, newlines included
}

type matched struct {
	e parser.Entry
	m *rules.Match // nil: no rule matched
}

// newTimeline sorts entries by time (stably: records of one time keep
// their order), matches and prepares them.
func newTimeline(set *rules.Set, entries []parser.Entry) *timeline {
	slices.SortStableFunc(entries, func(a, b parser.Entry) int { return a.Time.Compare(b.Time) })
	t := &timeline{records: make([]matched, len(entries)), prepared: make([]incident.Prepared, len(entries))}
	for i := range entries {
		x := &t.records[i]
		x.e = entries[i]
		if m, ok := set.Match(&x.e); ok {
			x.m = &m
		}
		incident.Prepare(&x.e, x.m, &t.prepared[i])
		t.bytes += int64(len(x.e.Raw)) + 1
	}
	return t
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
	f.timeline = *newTimeline(set, all)
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

// BenchmarkEngine feeds the records of the three logs, matched, in time
// order to a new engine and flushes it: grouping, root causes and the
// templates of unknown records. "day" is the fixture's day of 100 000
// nginx lines, where the engine's time goes mostly to incidents opening
// and closing; "busy" is hours 9 to 12 of the day of 1 M lines the
// end-to-end benchmark reads (two outages among the background), where
// it goes to the records an open incident takes.
//
// Add is the whole of the engine's work, as watch asks for it;
// AddPrepared gets each record's incident.Prepare computed beforehand,
// as analyze computes it in its worker pool, on every core: what is left
// is the engine's share of the one goroutine that takes the records in
// time order.
func BenchmarkEngine(b *testing.B) {
	for _, tl := range []struct {
		name string
		load func(*testing.B) *timeline
	}{
		{"day", func(b *testing.B) *timeline { return &loadFixture(b).timeline }},
		{"busy", loadBusy},
	} {
		for _, add := range []struct {
			name string
			add  func(*incident.Engine, *timeline, int)
		}{
			{"Add", func(eng *incident.Engine, t *timeline, i int) { eng.Add(&t.records[i].e, t.records[i].m) }},
			{"AddPrepared", func(eng *incident.Engine, t *timeline, i int) {
				eng.AddPrepared(&t.records[i].e, t.records[i].m, &t.prepared[i])
			}},
		} {
			b.Run(tl.name+"/"+add.name, func(b *testing.B) {
				t := tl.load(b)
				b.SetBytes(t.bytes)
				b.ReportAllocs()
				incidents := 0
				op := func() {
					eng := incident.New(incident.Config{Final: func(*incident.Incident) { incidents++ }})
					for i := range t.records {
						add.add(eng, t, i)
					}
					eng.Flush()
				}
				for b.Loop() {
					op()
				}
				perLine(b, int64(len(t.records)), op)
			})
		}
	}
}

var (
	busyOnce sync.Once
	busy     *timeline
	busyErr  error
)

// loadBusy returns the records of hours 9 to 12 of the generated day of
// 1 M nginx lines, matched, in time order. The day is generated and
// parsed as a stream, so only the records of the window are kept.
func loadBusy(b *testing.B) *timeline {
	busyOnce.Do(func() {
		busy, busyErr = newBusy(DefaultDay.Add(9*time.Hour), DefaultDay.Add(12*time.Hour))
	})
	if busyErr != nil {
		b.Fatal(busyErr)
	}
	return busy
}

func newBusy(from, to time.Time) (*timeline, error) {
	set, err := rules.Load(false)
	if err != nil {
		return nil, err
	}
	var entries []parser.Entry
	keep := func(e *parser.Entry) {
		if !e.Time.Before(from) && e.Time.Before(to) {
			entries = append(entries, *e)
		}
	}
	pr, pw := io.Pipe()
	var fpm, slow bytes.Buffer
	generated := make(chan error, 1)
	go func() {
		_, err := Generate(Config{Lines: 1_000_000, Seed: 1}, pw, &fpm, &slow)
		pw.CloseWithError(err)
		generated <- err
	}()
	_, err = parser.Scan(pr, parser.Options{File: "error.log", Location: time.UTC}, keep)
	pr.CloseWithError(errors.New("stopped reading")) // lets Generate end after a failed Scan
	genErr := <-generated
	if err := cmp.Or(err, genErr); err != nil {
		return nil, fmt.Errorf("error.log: %w", err)
	}
	for _, in := range []struct {
		name string
		data []byte
	}{{"php-fpm.log", fpm.Bytes()}, {"php-fpm-slow.log", slow.Bytes()}} {
		if _, err := parser.Scan(bytes.NewReader(in.data), parser.Options{File: in.name, Location: time.UTC}, keep); err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
	}
	return newTimeline(set, entries), nil
}
