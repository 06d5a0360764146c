package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/logtriage/logtriage/follow"
	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/source"
	"github.com/logtriage/logtriage/timeline"
)

type watchCmd struct {
	Format     string        `default:"text" enum:"text,jsonl" help:"Events as readable lines (text) or one JSON object per line (jsonl, schema logtriage/v1)."`
	FromStart  bool          `help:"Replay what the files already hold, then follow."`
	Since      time.Duration `placeholder:"DURATION" help:"Replay records from the last DURATION (e.g. 15m), then follow."`
	Poll       time.Duration `default:"250ms" help:"How often files are checked for new lines and rotation (use a longer interval on NFS)."`
	RotateWait time.Duration `default:"30s" help:"How long a rotated-away file is still read, for lines a server writes before it reopens its log."`
	engineFlags
	Inputs []string `arg:"" name:"PATH" help:"Error logs or globs to follow; files that do not exist yet are waited for."`
}

func (c *watchCmd) Help() string {
	return `Follows error logs like tail -F, across log rotation (rename and create,
copytruncate, delete and recreate, symlinks), and prints incidents as they
open, escalate and resolve, with the root cause and the fix when they open.

On SIGINT or SIGTERM it prints a summary of every incident and exits 0;
SIGHUP reloads the --rules files.

Examples:
  logtriage watch /var/log/nginx/error.log /var/log/php8.2-fpm.log
  logtriage watch --format jsonl '/var/log/nginx/*error.log' | jq -c 'select(.event=="opened")'
  logtriage watch --since 15m /var/log/apache2/error.log`
}

// watchRun is one watch session's state, driven from one goroutine.
type watchRun struct {
	g       *Globals
	e       *env
	c       *watchCmd
	set     *rules.Set
	loc     *time.Location
	format  parser.Format
	eng     *incident.Engine
	out     *bufio.Writer
	style   report.Style
	parsers map[string]*fileParser
	cutoff  time.Time
	// The engine's clock: the time of the last record, moved on by the
	// wall clock since, so incidents resolve without new lines and a log
	// written in another zone cannot resolve everything at once.
	lastRecord time.Time
	lastWall   time.Time
	seen       map[string]*incident.Incident // latest snapshot per id, for the summary
	order      []string
}

type fileParser struct {
	p    *parser.Parser
	last time.Time // wall time of the last line
}

func (c *watchCmd) Run(g *Globals, e *env) error {
	if c.Poll <= 0 {
		return &usageError{"--poll must be positive"}
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	w := &watchRun{g: g, e: e, c: c, parsers: map[string]*fileParser{}, seen: map[string]*incident.Incident{},
		out: bufio.NewWriter(e.stdout), style: g.style(e.stdout)}
	cfg.OnEvent = w.event
	if w.loc, err = g.location(); err != nil {
		return err
	}
	if w.format, err = g.format(); err != nil {
		return err
	}
	if w.set, err = g.loadRules(); err != nil {
		return err
	}
	w.eng = incident.New(cfg)
	if c.Since > 0 {
		w.cutoff = time.Now().Add(-c.Since)
	}

	// A replay goes through the time-ordered merge that analyze uses: the
	// engine needs records in time order, and reading one file after the
	// other would put php-fpm's evidence after the outage it explains.
	// Following then resumes at the sizes the replay read to.
	var start map[string]int64
	if c.FromStart || c.Since > 0 {
		start = w.replay()
	}

	lines := make(chan follow.Line, 1024)
	var logMu sync.Mutex
	opt := follow.Options{
		Start:      start,
		Poll:       c.Poll,
		RotateWait: c.RotateWait,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(e.stderr, "logtriage: "+format+"\n", args...)
		},
	}
	opt.Ready = func() { opt.Logf("following %s", strings.Join(c.Inputs, ", ")) }
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	errc := make(chan error, 1)
	go func() {
		errc <- follow.Follow(e.ctx, c.Inputs, opt, lines)
		close(lines)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()

	for {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-errc
				w.finish()
				if err != nil {
					return err
				}
				return w.out.Flush()
			}
			w.line(l)
			// Drain what is queued before flushing output.
			for more := true; more; {
				select {
				case l, ok := <-lines:
					if !ok {
						more = false
						break
					}
					w.line(l)
				default:
					more = false
				}
			}
		case <-tick.C:
			w.tick(time.Now())
		case <-hup:
			if set, err := g.loadRules(); err != nil {
				fmt.Fprintf(e.stderr, "logtriage: SIGHUP: keeping the current rules: %v\n", err)
			} else {
				w.set = set
				fmt.Fprintf(e.stderr, "logtriage: SIGHUP: rules reloaded (%d)\n", len(set.Rules()))
			}
		}
		if err := w.out.Flush(); err != nil {
			return err
		}
	}
}

// replay reads what the files hold now, merged by time, and returns the
// size each was read to.
func (w *watchRun) replay() map[string]int64 {
	names, _ := source.Expand(w.c.Inputs) // patterns that match nothing yet are waited for
	sizes := map[string]int64{}
	var ins []timeline.Input
	for _, n := range names {
		st, err := os.Stat(n)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		size := st.Size()
		sizes[n] = size
		ins = append(ins, timeline.Input{
			Name: n,
			Open: func() (io.ReadCloser, error) {
				f, err := os.Open(n)
				if err != nil {
					return nil, err
				}
				// A section: what the file held when the replay began,
				// and parsed on every core when it is large.
				return struct {
					*io.SectionReader
					io.Closer
				}{io.NewSectionReader(f, 0, size), f}, nil
			},
			Options: parser.Options{File: n, Format: w.format, Location: w.loc},
		})
	}
	for _, r := range timeline.Merge(w.e.ctx, ins, w.record) {
		if r.Err != nil {
			fmt.Fprintf(w.e.stderr, "logtriage: %v\n", r.Err)
		}
	}
	w.out.Flush()
	return sizes
}

func (w *watchRun) line(l follow.Line) {
	fp := w.parsers[l.File]
	if fp == nil {
		fp = &fileParser{p: parser.New(parser.Options{File: l.File, Format: w.format, Location: w.loc})}
		w.parsers[l.File] = fp
	}
	fp.last = time.Now()
	fp.p.Feed(parser.Line{Text: l.Text, Offset: l.Offset, Cut: l.Cut}, w.record)
}

func (w *watchRun) record(e *parser.Entry) {
	if !w.cutoff.IsZero() && e.Time.Before(w.cutoff) {
		return
	}
	if e.Time.After(w.lastRecord) {
		w.lastRecord, w.lastWall = e.Time, time.Now()
	}
	if m, ok := w.set.Match(e); ok {
		w.eng.Add(e, &m)
	} else {
		w.eng.Add(e, nil)
	}
}

// tick completes records of files gone quiet (a record is otherwise only
// known complete when the next one starts) and moves the engine's clock.
func (w *watchRun) tick(now time.Time) {
	for _, fp := range w.parsers {
		if now.Sub(fp.last) >= 200*time.Millisecond {
			fp.p.Flush(w.record)
		}
	}
	if !w.lastRecord.IsZero() {
		w.eng.Advance(w.lastRecord.Add(now.Sub(w.lastWall)))
	}
}

// finish flushes every parser and prints the summary.
func (w *watchRun) finish() {
	for _, fp := range w.parsers {
		fp.p.Flush(w.record)
	}
	for _, in := range w.eng.Open() {
		w.remember(in)
	}
	var all []*incident.Incident
	for _, id := range w.order {
		all = append(all, w.seen[id])
	}
	if w.c.Format == "jsonl" {
		list := make([]report.IncidentJSON, 0, len(all))
		for _, in := range all {
			list = append(list, report.NewIncidentJSON(in))
		}
		w.writeJSON(map[string]any{"schema": report.Schema, "event": "summary", "time": time.Now().Format(time.RFC3339), "incidents": list})
		return
	}
	fmt.Fprintf(w.out, "\nSummary: %d incidents\n", len(all))
	for _, in := range all {
		state := "resolved"
		if in.Open {
			state = "open"
		}
		fmt.Fprintf(w.out, "  %-8s %-8s %s  %s  %s (%d records, %s – %s)\n", state, in.Severity, in.ID,
			report.Clean(in.Title), report.Clean(in.Subject), in.Count, in.Start.Format("15:04:05"), in.End.Format("15:04:05"))
	}
}

const maxRemembered = 1000

func (w *watchRun) remember(in *incident.Incident) {
	if _, ok := w.seen[in.ID]; !ok {
		w.order = append(w.order, in.ID)
		if len(w.order) > maxRemembered {
			delete(w.seen, w.order[0])
			w.order = w.order[1:]
		}
	}
	w.seen[in.ID] = in
}

func (w *watchRun) event(ev incident.Event) {
	w.remember(ev.Incident)
	if w.c.Format == "jsonl" {
		w.writeJSON(map[string]any{"schema": report.Schema, "event": ev.Kind, "time": ev.Time.Format(time.RFC3339),
			"reasons": nonNil(ev.Reasons), "incident": report.NewIncidentJSON(ev.Incident)})
		return
	}
	in := ev.Incident
	sev := w.style.Severity(in.Severity)
	fmt.Fprintf(w.out, "%s %-8s %s %s  %s  %s (%d records)", ev.Time.Format("15:04:05"), strings.ToUpper(ev.Kind), sev, in.ID,
		report.Clean(in.Title), report.Clean(in.Subject), in.Count)
	if len(ev.Reasons) > 0 {
		fmt.Fprintf(w.out, " — %s", report.Clean(strings.Join(ev.Reasons, "; ")))
	}
	fmt.Fprintln(w.out)
	if ev.Kind == incident.Opened && len(ev.Reasons) == 0 {
		fmt.Fprintf(w.out, "    root cause: %s\n", in.RootCause.RuleID)
		for i, r := range in.Remediation {
			fmt.Fprintf(w.out, "    %d. %s\n", i+1, report.Clean(r))
		}
		for _, d := range in.Diagnostics {
			fmt.Fprintf(w.out, "    $ %s\n", report.Clean(d))
		}
	}
}

func (w *watchRun) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w.e.stderr, "logtriage: %v\n", err)
		return
	}
	w.out.Write(b)
	w.out.WriteByte('\n')
	w.out.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
