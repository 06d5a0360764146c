package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"
	_ "time/tzdata" // --tz works on hosts without a zone database

	"github.com/alecthomas/kong"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
)

// Exit codes, the contract with scripts and cron.
const (
	exitOK       = 0
	exitFindings = 1 // incidents at or above --fail-on
	exitError    = 2 // usage error or unreadable input
)

// cli is the command line. Each command is a struct with a Run method.
type cli struct {
	Globals

	Analyze analyzeCmd `cmd:"" help:"Analyze error logs: incidents, root causes, what to change."`
	Watch   watchCmd   `cmd:"" help:"Follow error logs live and print incidents as they open, escalate and resolve."`
	Digest  digestCmd  `cmd:"" help:"Report what is new in the logs since the last run, for cron; silent when all is well; mail it."`
	Demo    demoCmd    `cmd:"" help:"Analyze embedded logs of a real outage, to see what logtriage reports."`
	Rules   rulesCmd   `cmd:"" help:"List, show, check and test the rules."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

// Globals are the flags every command takes.
type Globals struct {
	RuleFiles []string `name:"rules" placeholder:"FILE" sep:"," help:"Extra rule file (repeatable). A rule with a built-in id replaces it."`
	NoBuiltin bool     `name:"no-builtin-rules" help:"Use only the rules from --rules files."`
	TZ        string   `name:"tz" placeholder:"ZONE" help:"Zone of log timestamps, which carry none (IANA name like Europe/Berlin, UTC, or +02:00). Default: local time."`
	LogFormat string   `name:"log-format" default:"auto" placeholder:"FORMAT" help:"Log format: auto, nginx, apache24, apache22, fpm, fpm-slow."`
	Color     string   `name:"color" enum:"auto,always,never" default:"auto" help:"Colour output: auto (terminal and no NO_COLOR), always, never."`
	// CPUProfile is for `make bench-e2e CPUPROFILE=...`: profiling the real
	// binary beats copying its wiring into a benchmark.
	CPUProfile string `name:"cpuprofile" hidden:"" type:"path" help:"Write a CPU profile to this file."`
}

// env is what commands get besides their flags.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// exitCodeError carries an exit code other than exitError up to run.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// usageError marks a bad flag value; run prints it like kong's own.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// kongExit is thrown by kong's exit hook (after --help) and caught in run,
// so that the process exits in one place.
type kongExit int

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	k, err := kong.New(&c,
		kong.Name("logtriage"),
		kong.Description("Diagnose nginx, Apache httpd and php-fpm outages from their error logs."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.DefaultEnvars("LOGTRIAGE"),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "logtriage: %v\n", err)
		return exitError
	}
	kctx, err := k.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "logtriage: error: %v\n", err)
		return exitError
	}
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "logtriage: --cpuprofile: %v\n", err)
			return exitError
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "logtriage: --cpuprofile: %v\n", err)
			return exitError
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	err = kctx.Run(&c.Globals, e)
	if err == nil {
		return exitOK
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(stderr, "logtriage: %v\n", ce.err)
		}
		return ce.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "logtriage: error: %v\n", ue.msg)
		return exitError
	}
	fmt.Fprintf(stderr, "logtriage: %v\n", err)
	return exitError
}

// loadRules loads the built-in library and the --rules files.
func (g *Globals) loadRules() (*rules.Set, error) {
	return rules.Load(g.NoBuiltin, g.RuleFiles...)
}

// location resolves --tz.
func (g *Globals) location() (*time.Location, error) {
	if g.TZ == "" {
		return time.Local, nil
	}
	if t, err := time.Parse("-07:00", g.TZ); err == nil {
		_, off := t.Zone()
		return time.FixedZone(g.TZ, off), nil
	}
	loc, err := time.LoadLocation(g.TZ)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("--tz: unknown time zone %q", g.TZ)}
	}
	return loc, nil
}

// format resolves --log-format.
func (g *Globals) format() (parser.Format, error) {
	f, ok := parser.ParseFormat(g.LogFormat)
	if !ok {
		return 0, &usageError{fmt.Sprintf("--log-format: unknown format %q (want one of %s)", g.LogFormat, strings.Join(parser.FormatNames(), ", "))}
	}
	return f, nil
}

// style decides on colour for w.
func (g *Globals) style(w io.Writer) report.Style {
	switch g.Color {
	case "always":
		return report.Style{Color: true}
	case "never":
		return report.Style{}
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return report.Style{}
	}
	f, ok := w.(*os.File)
	if !ok {
		return report.Style{}
	}
	st, err := f.Stat()
	return report.Style{Color: err == nil && st.Mode()&os.ModeCharDevice != 0}
}
