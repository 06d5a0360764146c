package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/source"
	"github.com/logtriage/logtriage/spool"
	"github.com/logtriage/logtriage/timeline"
)

// pipelineOpts are the settings shared by analyze and demo.
type pipelineOpts struct {
	set          *rules.Set
	format       parser.Format
	loc          *time.Location
	since, until time.Time
	engine       incident.Config
	minSeverity  rules.Severity
	progress     *progress // nil: none
	// after leaves out, per input file, the records at or before its time
	// (digest: already reported).
	after map[string]time.Time
	// seen, when set, is called in time order with every record inside
	// the window.
	seen func(*parser.Entry)
	// spoolDir and spoolMemory place finished incidents (spool.New);
	// zero values: the temporary directory and spool.DefaultMemory.
	spoolDir    string
	spoolMemory int
	// keepBlocks, for tests, leaves the blocks records are read into to
	// the collector instead of reading into them again.
	keepBlocks bool
	// stopAfter, for benchmarks, drops each record after a stage:
	// "parse", or "match" (matched, prepared for the engine and counted
	// by rule); "": none.
	stopAfter string
}

// analyzeInputs wires source → parser → timeline → rules → incident and
// returns the analysis and each input's result. Errors of single inputs
// go to stderr; the others are still read.
func analyzeInputs(ctx context.Context, ins []timeline.Input, o pipelineOpts, stderr io.Writer) (*report.Analysis, []timeline.Result) {
	cov := rules.NewCoverage(5)
	// Finished incidents go to a spool: a month of logs can make more
	// than memory should hold.
	shown := spool.New(o.spoolDir, o.spoolMemory, compareIncidents)
	var worst rules.Severity
	hidden := 0
	o.engine.Final = func(in *incident.Incident) {
		worst = max(worst, in.Severity)
		if in.Severity < o.minSeverity {
			hidden++
			return
		}
		shown.Add(in)
	}
	eng := incident.New(o.engine)
	rate := &report.Rate{}
	// Matching a record needs no other record: it runs in timeline's
	// worker pool, on every core, and so does the engine's share of the
	// work that needs the record and its match alone (incident.Prepare);
	// emit gets the records in time order, for the engine, which needs
	// that order.
	type matched struct {
		m       rules.Match
		ok      bool
		outside bool // before --since or from --until on
		p       incident.Prepared
	}
	// Each worker matches with a cache of its own.
	newPrepare := func() func(e *parser.Entry, v *matched) {
		if o.stopAfter == "parse" {
			return func(*parser.Entry, *matched) {}
		}
		mt := o.set.NewMatcher()
		return func(e *parser.Entry, v *matched) {
			if !o.since.IsZero() && e.Time.Before(o.since) || !o.until.IsZero() && !e.Time.Before(o.until) {
				v.outside = true
				return
			}
			if t, ok := o.after[e.File]; ok && !e.Time.After(t) {
				v.outside = true
				return
			}
			v.ok = mt.MatchInto(e, &v.m)
			if v.ok {
				incident.Prepare(e, &v.m, &v.p)
			} else {
				incident.Prepare(e, nil, &v.p)
			}
		}
	}
	emit := func(e *parser.Entry, v *matched) {
		if v.outside || o.stopAfter == "parse" {
			return
		}
		if o.seen != nil {
			o.seen(e)
		}
		var m *rules.Match // nil: no rule matched
		if v.ok {
			m = &v.m
		}
		cov.Count(e, m)
		if o.stopAfter == "match" {
			return
		}
		if report.Problem(e, m) {
			rate.Add(e.Time)
		}
		eng.AddPrepared(e, m, &v.p)
	}
	if o.progress != nil {
		o.progress.start()
	}
	// What emit keeps of a record's text is a copy (coverage and the
	// engine copy what they keep; the engine's last record per incident
	// when told), so the blocks large inputs are read into are reused.
	release := eng.OwnText
	if o.keepBlocks {
		release = nil
	}
	results := timeline.MergeReusing(ctx, ins, newPrepare, emit, release)
	if o.progress != nil {
		o.progress.stop()
	}
	eng.Flush()

	a := &report.Analysis{Generated: time.Now(), Since: o.since, Until: o.until, Coverage: cov, Unknown: eng.Unknown(), Rate: rate}
	a.Host, _ = os.Hostname()
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stderr, "logtriage: %v\n", r.Err)
		}
		if r.Stats.Lines > 0 || r.Err == nil {
			a.Inputs = append(a.Inputs, r.Name)
			cov.AddFile(r.Stats)
		}
	}
	if err := shown.Warning(); err != nil {
		fmt.Fprintf(stderr, "logtriage: %v\n", err)
	}
	a.Incidents, a.Hidden, a.Worst = shown, hidden, worst
	return a, results
}

// compareIncidents puts the worst first, then the earliest, then by id:
// the engine finishes incidents that close together in no fixed order,
// and the same logs must give the same report.
func compareIncidents(a, b *incident.Incident) int {
	if a.Severity != b.Severity {
		return cmp.Compare(b.Severity, a.Severity)
	}
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// closeIncidents releases what holds a's incidents.
func closeIncidents(a *report.Analysis) {
	if c, ok := a.Incidents.(io.Closer); ok {
		c.Close()
	}
}

// fileInputs turns paths into timeline inputs; rotated sets are read
// oldest first.
func fileInputs(names []string, o pipelineOpts, stdin io.Reader, counter *source.Counter) []timeline.Input {
	var ins []timeline.Input
	for _, n := range source.Order(names) {
		ins = append(ins, timeline.Input{
			Name:    n,
			Open:    func() (io.ReadCloser, error) { return source.OpenCounting(n, stdin, counter) },
			Options: parser.Options{File: n, Format: o.format, Location: o.loc},
		})
	}
	return ins
}

// fsInputs reads logs compiled into the binary.
func fsInputs(fsys fs.FS, prefix string, names []string, o pipelineOpts) []timeline.Input {
	var ins []timeline.Input
	for _, n := range names {
		ins = append(ins, timeline.Input{
			Name:    prefix + n,
			Open:    func() (io.ReadCloser, error) { return fsys.Open(n) },
			Options: parser.Options{File: prefix + n, Format: o.format, Location: o.loc},
		})
	}
	return ins
}

// render writes the analysis in the requested format.
func render(w io.Writer, a *report.Analysis, format string, st report.Style) error {
	// Buffered, and written as it is made: a report can be larger than
	// memory should hold (a first digest over weeks of logs). 64 KB a
	// write: a JSON report of a busy day runs to megabytes.
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch format {
	case "json":
		err = report.JSON(bw, a)
	case "markdown":
		err = report.Markdown(bw, a)
	case "text":
		err = report.Text(bw, a)
	case "html":
		err = report.HTML(bw, a)
	default:
		err = report.Table(bw, a, st)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// readPoolConfigs reads every php-fpm config matching the globs.
func readPoolConfigs(globs []string) (map[string]string, error) {
	pools := map[string]string{}
	for _, g := range globs {
		names, err := fileGlob(g)
		if err != nil {
			return nil, fmt.Errorf("--fpm-config %s: %w", g, err)
		}
		for _, n := range names {
			f, err := os.Open(n)
			if err != nil {
				return nil, fmt.Errorf("--fpm-config: %w", err)
			}
			p, err := incident.ParsePoolConfig(f, n)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("--fpm-config: %w", err)
			}
			for k, v := range p {
				pools[k] = v
			}
		}
	}
	return pools, nil
}

func fileGlob(g string) ([]string, error) {
	names, errs := source.Expand([]string{g})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return names, nil
}

func severityFlag(flag, v string) (rules.Severity, error) {
	s, ok := rules.ParseSeverity(v)
	if !ok {
		return 0, &usageError{fmt.Sprintf("%s: unknown severity %q (want one of %s)", flag, v, strings.Join(rules.SeverityNames(), ", "))}
	}
	return s, nil
}

var formats = []string{"table", "text", "markdown", "json", "html"}

func checkFormat(f string) error {
	if f != "" && !slices.Contains(formats, f) {
		return &usageError{fmt.Sprintf("--format: unknown format %q (want one of %s)", f, strings.Join(formats, ", "))}
	}
	return nil
}
