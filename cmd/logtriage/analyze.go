package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/source"
	"github.com/logtriage/logtriage/timeline"
)

// reportFlags are the flags of every command that writes a report.
type reportFlags struct {
	Format      string `short:"f" placeholder:"FORMAT" help:"Output: table (default on a terminal), text (default otherwise), markdown, json, html (one self-contained page with a timeline)."`
	Output      string `short:"o" placeholder:"FILE" help:"Write the report to FILE instead of stdout."`
	MinSeverity string `default:"notice" placeholder:"SEVERITY" help:"Hide incidents below this severity: info, notice, warning, error, critical."`
	engineFlags
}

// engineFlags are the flags of every command that groups incidents.
type engineFlags struct {
	FPMConfig []string      `name:"fpm-config" placeholder:"GLOB" help:"php-fpm config files (listen = lines) to map pools to the sockets and ports they serve, e.g. '/etc/php/*/fpm/pool.d/*.conf'. Default: inferred from time overlap."`
	Gap       time.Duration `default:"30s" help:"Quiet time after which an incident closes (resolves)."`
	Recur     time.Duration `default:"5m" help:"A closed incident reopens when its symptom recurs within this time."`
}

// config turns the flags into the engine's settings.
func (c *engineFlags) config() (incident.Config, error) {
	var cfg incident.Config
	if c.Gap <= 0 || c.Recur < c.Gap {
		return cfg, &usageError{"--gap must be positive and --recur at least --gap"}
	}
	cfg.Gap, cfg.Recur = c.Gap, c.Recur
	if len(c.FPMConfig) > 0 {
		var err error
		if cfg.Pools, err = readPoolConfigs(c.FPMConfig); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

type analyzeCmd struct {
	reportFlags
	FailOn   string   `default:"error" placeholder:"SEVERITY" help:"Exit 1 when an incident is at or above this severity."`
	Since    string   `placeholder:"TIME" help:"Only records at or after TIME: RFC 3339, a date, a duration back from now (90m, 24h, 7d), today, yesterday."`
	Until    string   `placeholder:"TIME" help:"Only records before TIME (same forms as --since)."`
	Progress string   `default:"auto" enum:"auto,always,never" help:"Progress on stderr: auto (terminal and large input), always, never."`
	Inputs   []string `arg:"" optional:"" name:"PATH" help:"Error logs: files, globs, .gz, rotated sets, '-' for stdin. Default: the standard locations that exist."`
	// StopAfter is for `make bench-e2e`, which times the stages of the
	// real pipeline on the real binary: each run adds one stage.
	StopAfter string `name:"stop-after" hidden:"" enum:",parse,match" default:"" help:"Drop each record after this stage: parse (read and parsed) or match (also matched and counted by rule). No incident is made."`
}

func (c *analyzeCmd) Help() string {
	return `Reads nginx, Apache httpd and php-fpm error logs (plain, gzip, rotated sets
read oldest first, several servers merged into one timeline), groups what
is wrong into incidents and names each root cause, what to change and what
to check.

Exit status: 0 when nothing is at or above --fail-on, 1 when something is,
2 for a usage error or when no input could be read.

Examples:
  logtriage analyze                                   # /var/log/nginx, apache2, httpd, php*-fpm
  logtriage analyze /var/log/nginx/error.log* /var/log/php8.2-fpm.log*
  logtriage analyze --since 2h --format markdown /var/log/nginx/error.log
  logtriage analyze --fpm-config '/etc/php/8.2/fpm/pool.d/*.conf' /var/log/nginx/error.log /var/log/php8.2-fpm.log
  logtriage analyze --format json -o report.json /var/log/apache2/error.log.*.gz
  zcat error.log.3.gz | logtriage analyze -`
}

func (c *analyzeCmd) Run(g *Globals, e *env) error {
	o, err := c.options(g)
	if err != nil {
		return err
	}
	failOn, err := severityFlag("--fail-on", c.FailOn)
	if err != nil {
		return err
	}
	o.stopAfter = c.StopAfter
	if o.since, err = parseTimeFlag("--since", c.Since, o); err != nil {
		return err
	}
	if o.until, err = parseTimeFlag("--until", c.Until, o); err != nil {
		return err
	}
	args := c.Inputs
	if len(args) == 0 {
		if args, err = standardLogs(source.DefaultPaths()); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "logtriage: reading %s\n", strings.Join(args, ", "))
	}
	names, errs := source.Expand(args)
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "logtriage: %v\n", err)
	}
	counter := &source.Counter{}
	if c.wantProgress(e, names) {
		o.progress = newProgress(e.stderr, counter, totalSize(names))
	}
	ins := fileInputs(names, o, e.stdin, counter)
	a, err := c.finish(g, e, ins, o)
	if err != nil {
		return err
	}
	if a.Worst >= failOn {
		return &exitCodeError{code: exitFindings}
	}
	return nil
}

// standardLogs takes the logs found in the standard locations, when no
// path was given; none is an error.
func standardLogs(found []string) ([]string, error) {
	if len(found) == 0 {
		return nil, &exitCodeError{code: exitError, err: errors.New("no logs in the standard locations (/var/log/nginx, /var/log/apache2, /var/log/httpd, /var/log/php*-fpm.log); name the files to read")}
	}
	return found, nil
}

// options turns flags into pipeline settings.
func (c *reportFlags) options(g *Globals) (pipelineOpts, error) {
	var o pipelineOpts
	var err error
	if err = checkFormat(c.Format); err != nil {
		return o, err
	}
	if o.minSeverity, err = severityFlag("--min-severity", c.MinSeverity); err != nil {
		return o, err
	}
	if o.engine, err = c.config(); err != nil {
		return o, err
	}
	if o.loc, err = g.location(); err != nil {
		return o, err
	}
	if o.format, err = g.format(); err != nil {
		return o, err
	}
	if o.set, err = g.loadRules(); err != nil {
		return o, err
	}
	return o, nil
}

func parseTimeFlag(flag, v string, o pipelineOpts) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := timeline.ParseTime(v, time.Now(), o.loc)
	if err != nil {
		return t, &usageError{fmt.Sprintf("%s: %v", flag, err)}
	}
	return t, nil
}

func (c *analyzeCmd) wantProgress(e *env, names []string) bool {
	switch c.Progress {
	case "never":
		return false
	case "always":
		return true
	}
	return isTerminal(e.stderr) && totalSize(names) > 64<<20
}

func totalSize(names []string) int64 {
	var n int64
	for _, name := range names {
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			n += st.Size()
		}
	}
	return n
}

// finish runs the pipeline and writes the report.
func (c *reportFlags) finish(g *Globals, e *env, ins []timeline.Input, o pipelineOpts) (*report.Analysis, error) {
	a, _ := analyzeInputs(e.ctx, ins, o, e.stderr)
	defer closeIncidents(a)
	if err := e.ctx.Err(); err != nil {
		return nil, &exitCodeError{code: exitError, err: errors.New("interrupted")}
	}
	if len(a.Inputs) == 0 {
		return nil, &exitCodeError{code: exitError, err: errors.New("no input could be read")}
	}
	w := e.stdout
	var f *os.File
	if c.Output != "" {
		var err error
		if f, err = os.Create(c.Output); err != nil {
			return nil, fmt.Errorf("--output: %w", err)
		}
		w = f
	}
	format := c.Format
	if format == "" {
		format = "text"
		if f == nil && isTerminal(e.stdout) {
			format = "table"
		}
	}
	err := render(w, a, format, g.style(w))
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return a, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
