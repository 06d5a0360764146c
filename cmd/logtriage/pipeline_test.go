package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/bench"
	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/spool"
)

// TestCompareIncidents: worst first, then earliest, then by id, whatever
// order the engine finished them in.
func TestCompareIncidents(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 19, 57, 15, 0, time.UTC)
	mk := func(id string, sev rules.Severity, start time.Time) *incident.Incident {
		return &incident.Incident{ID: id, Severity: sev, Start: start}
	}
	ins := []*incident.Incident{
		mk("c", rules.SeverityError, t0),
		mk("b", rules.SeverityError, t0),
		mk("late", rules.SeverityCritical, t0.Add(time.Minute)),
		mk("a", rules.SeverityError, t0),
		mk("early", rules.SeverityCritical, t0),
		mk("notice", rules.SeverityNotice, t0.Add(-time.Hour)),
	}
	slices.SortFunc(ins, compareIncidents)
	var got []string
	for _, in := range ins {
		got = append(got, in.ID)
	}
	want := []string{"early", "late", "a", "b", "c", "notice"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestSpooledReportsAreTheSame: a report whose incidents went through
// the spool's file, one run per incident or a few at a time, is byte for
// byte the one made from memory, in every format. The logs of every
// corpus scenario are read together, so that there are many incidents,
// in a named zone, so that a time that came back in another zone shows.
func TestSpooledReportsAreTheSame(t *testing.T) {
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*", "*.log"))
	if len(names) < 20 {
		t.Fatalf("%d corpus logs", len(names))
	}
	reports := func(memory int) (map[string]string, int) {
		o := pipelineOpts{set: set, loc: time.FixedZone("CET", 3600), engine: incident.Config{Gap: 30 * time.Second, Recur: 5 * time.Minute},
			minSeverity: rules.SeverityNotice, spoolDir: t.TempDir(), spoolMemory: memory}
		a, _ := analyzeInputs(context.Background(), fileInputs(names, o, nil, nil), o, io.Discard)
		defer closeIncidents(a)
		a.Generated = time.Date(2026, 11, 22, 0, 0, 0, 0, o.loc)
		out := map[string]string{}
		for _, f := range formats {
			var b strings.Builder
			if err := render(&b, a, f, report.Style{Color: f == "table"}); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[f] = b.String()
		}
		return out, a.Incidents.(*spool.Spool).Spilled()
	}
	want, spilled := reports(0)
	if spilled != 0 {
		t.Fatalf("%d incidents spilled with the default memory", spilled)
	}
	if n := strings.Count(want["json"], `"rule_ids"`); n < 20 {
		t.Fatalf("%d incidents: too few to tell", n)
	}
	for _, memory := range []int{1, 3} {
		got, spilled := reports(memory)
		if spilled < 20 {
			t.Fatalf("memory %d: %d incidents spilled", memory, spilled)
		}
		for _, f := range formats {
			if diff := cmp.Diff(want[f], got[f]); diff != "" {
				t.Errorf("memory %d, %s (-from memory +spooled):\n%s", memory, f, diff)
			}
		}
	}
}

// TestReusedBlocksKeepReportsTheSame: reading large logs into blocks
// that are read into again once their records are merged changes
// nothing in the report. The generated log is large enough that its
// blocks go round many times, plain and gzipped (both are cut into
// parts). Under the race detector, as the tests run, blocks are
// overwritten as soon as they are taken back, so text the engine kept
// without copying shows in the samples at once.
func TestReusedBlocksKeepReportsTheSame(t *testing.T) {
	// Logs are cut into parts, and their blocks lent, on two cores or more.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var nginx, fpm, slow bytes.Buffer
	if _, err := bench.Generate(bench.Config{Lines: 12000, Seed: 7, Day: bench.DefaultDay}, &nginx, &fpm, &slow); err != nil {
		t.Fatal(err)
	}
	if nginx.Len() < 2<<20 {
		t.Fatalf("the log is %d bytes: too small for its blocks to be reused", nginx.Len())
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(nginx.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"error.log": nginx.Bytes(), "error.log.gz": gz.Bytes(), "php-fpm.log": fpm.Bytes(), "php-fpm-slow.log": slow.Bytes()}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, logs := range [][]string{{"error.log", "php-fpm.log", "php-fpm-slow.log"}, {"error.log.gz"}} {
		var names []string
		for _, l := range logs {
			names = append(names, filepath.Join(dir, l))
		}
		analyze := func(keep bool) string {
			o := pipelineOpts{set: set, loc: time.UTC, minSeverity: rules.SeverityNotice, spoolDir: t.TempDir(), keepBlocks: keep}
			a, _ := analyzeInputs(context.Background(), fileInputs(names, o, nil, nil), o, io.Discard)
			defer closeIncidents(a)
			a.Generated = time.Time{}
			var b strings.Builder
			if err := report.JSON(&b, a); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		want, got := analyze(true), analyze(false)
		if n := strings.Count(want, `"rule_ids"`); n < 50 {
			t.Fatalf("%s: %d incidents: too few to tell", logs[0], n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-blocks kept +reused):\n%s", logs[0], diff)
		}
	}
}
