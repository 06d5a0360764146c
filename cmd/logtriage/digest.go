package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/mailer"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/source"
	"github.com/logtriage/logtriage/state"
	"github.com/logtriage/logtriage/timeline"
)

type digestCmd struct {
	State       string `default:"/var/lib/logtriage/state.json" placeholder:"FILE" help:"Where digest remembers how far each log was read."`
	Since       string `default:"24h" placeholder:"TIME" help:"How far back the first run (no state yet for a log) looks: a duration (24h, 7d), RFC 3339, a date, today, yesterday."`
	Format      string `short:"f" default:"text" enum:"text,markdown,json,html" help:"Report format on stdout: text, markdown, json, html. Mail always carries text and HTML."`
	MinSeverity string `default:"warning" placeholder:"SEVERITY" help:"Report only incidents at or above this severity; nothing printed or mailed when there are none."`
	engineFlags
	LockWait time.Duration `default:"0s" placeholder:"DURATION" help:"How long to wait for another digest run on the same --state to finish (0: fail at once)."`

	MailTo           []string      `name:"mail-to" placeholder:"ADDR" help:"Mail the report to ADDR (repeatable) instead of printing it."`
	MailFrom         string        `name:"mail-from" placeholder:"ADDR" help:"Sender address. Default: logtriage@HOSTNAME."`
	SMTP             string        `name:"smtp" placeholder:"URL" help:"Deliver through this server: smtp://host:587 (STARTTLS), smtps://host:465. Default: --sendmail."`
	SMTPUser         string        `name:"smtp-user" env:"-" placeholder:"USER" help:"SMTP user, for AUTH (only ever over TLS). Default: $LOGTRIAGE_SMTP_USER."`
	SMTPPassword     string        `name:"smtp-password" env:"-" placeholder:"PASSWORD" help:"SMTP password. Prefer $LOGTRIAGE_SMTP_PASSWORD or --smtp-password-file, which ps cannot show."`
	SMTPPasswordFile string        `name:"smtp-password-file" placeholder:"FILE" help:"Read the SMTP password from the first line of FILE (not readable by others)."`
	SMTPStartTLS     string        `name:"smtp-starttls" default:"required" enum:"required,opportunistic,none" help:"STARTTLS on smtp:// URLs: required, opportunistic, none."`
	SMTPCA           string        `name:"smtp-ca" placeholder:"FILE" help:"PEM file of extra certificate authorities to trust for the SMTP server."`
	SMTPTimeout      time.Duration `name:"smtp-timeout" default:"1m" help:"Time limit for delivering the mail."`
	Sendmail         string        `name:"sendmail" placeholder:"PATH" help:"Pipe the mail to this sendmail-compatible program (default /usr/sbin/sendmail when --mail-to is given without --smtp)."`

	Inputs []string `arg:"" optional:"" name:"PATH" help:"Live error logs, not their rotated copies: digest finds those itself. Default: the standard locations that exist."`
}

func (c *digestCmd) Help() string {
	return `Reports what is new in the logs since the last run, for cron. The first
run for a log looks back --since (24h); every later run reads on from
where the previous one stopped, finishing a log's rotated file
(error.log.1, error.log.1.gz, dateext names) before the new one, so that
no record is lost or reported twice. Nothing at or above --min-severity:
prints nothing and exits 0, so cron sends no mail.

The state is saved only after the report was delivered: a run that fails
or is killed leaves the old state, and the next run reports the same
records again. Two runs on the same --state never overlap.

Exit status: 0 when the report was delivered (or there was nothing to
report), 2 for a usage error, a broken or locked state file, a failed
delivery, or a log that could not be read whole (its records come again
next run).

Examples:
  logtriage digest --state /var/lib/logtriage/state.json /var/log/nginx/error.log /var/log/php8.2-fpm.log
  logtriage digest --mail-to ops@example.com /var/log/nginx/error.log
  logtriage digest --mail-to ops@example.com --smtp smtp://mail.example.com:587 --smtp-user logtriage --smtp-password-file /etc/logtriage/smtp.pass /var/log/apache2/error.log
  logtriage digest --state /tmp/try.json --since 7d --format html /var/log/nginx/error.log > digest.html`
}

func (c *digestCmd) Run(g *Globals, e *env) error {
	rf := reportFlags{Format: c.Format, MinSeverity: c.MinSeverity, engineFlags: c.engineFlags}
	o, err := rf.options(g)
	if err != nil {
		return err
	}
	since, err := parseTimeFlag("--since", c.Since, o)
	if err != nil {
		return err
	}
	del, err := c.delivery()
	if err != nil {
		return err
	}
	args := c.Inputs
	if len(args) == 0 {
		live := slices.DeleteFunc(source.DefaultPaths(), source.IsRotated)
		// Named in the report's inputs, not on stderr: cron mails stderr.
		if args, err = standardLogs(live); err != nil {
			return err
		}
	}
	paths, err := livePaths(args, e.stderr)
	if err != nil {
		return err
	}

	// The first run makes the state's directory (/var/lib/logtriage).
	if err := os.MkdirAll(filepath.Dir(c.State), 0o700); err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("--state: %w", err)}
	}
	unlock, err := state.Lock(c.State, c.LockWait)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	defer unlock()
	st, err := state.Load(c.State)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}

	r := planRun(st, paths, since, &o, e.stderr)
	if len(r.plans) == 0 {
		return &exitCodeError{code: exitError, err: errors.New("no log could be read")}
	}
	a, results := analyzeInputs(e.ctx, r.inputs, o, e.stderr)
	defer closeIncidents(a)
	if err := e.ctx.Err(); err != nil {
		return &exitCodeError{code: exitError, err: errors.New("interrupted; state left as it was")}
	}
	a.Since = st.LastRun()
	if a.Since.IsZero() {
		a.Since = since
	}
	a.Until = a.Generated

	if a.Incidents.Len() > 0 {
		if err := del.deliver(e, a, c.Format); err != nil {
			return &exitCodeError{code: exitError, err: fmt.Errorf("%w; state left as it was, the next run reports these records again", err)}
		}
	}
	failed := make([]bool, len(r.plans)) // a segment could not be read whole
	for _, res := range results {
		if res.Err != nil {
			failed[r.owner[res.Name]] = true
		}
	}
	incomplete := 0
	for i, pl := range r.plans {
		if failed[i] {
			// Its records come again next run: reported twice beats lost.
			fmt.Fprintf(e.stderr, "logtriage: %s was not read whole; the next run reads it again from where this one started\n", pl.Path)
			incomplete++
			continue
		}
		st.Commit(pl, r.last[i])
	}
	if err := st.Save(c.State); err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	if incomplete > 0 {
		return &exitCodeError{code: exitError}
	}
	return nil
}

// digestPlan is one run's reading: a plan per log and the inputs that
// carry them out.
type digestPlan struct {
	plans  []*state.Plan
	inputs []timeline.Input
	owner  map[string]int // input (its name) → index of its plan
	last   []time.Time    // per plan: the last record's time
}

// planRun plans every log (which files, from which offset) and sets o's
// filters: records already reported, or before since on a first run, are
// left out; the last record's time per log is noted.
func planRun(st *state.State, paths []string, since time.Time, o *pipelineOpts, stderr io.Writer) *digestPlan {
	r := &digestPlan{owner: map[string]int{}}
	after := map[string]time.Time{} // input → records at or before are old
	for _, p := range paths {
		pl, err := st.Plan(p, since)
		if err != nil {
			fmt.Fprintf(stderr, "logtriage: %v\n", err)
			continue
		}
		for _, n := range pl.Notes {
			fmt.Fprintf(stderr, "logtriage: %s\n", report.Clean(n))
		}
		for _, seg := range pl.Segments {
			switch {
			case !seg.After.IsZero():
				after[seg.Path] = seg.After
			case pl.First:
				after[seg.Path] = since.Add(-time.Nanosecond)
			}
			r.owner[seg.Path] = len(r.plans)
			r.inputs = append(r.inputs, timeline.Input{
				Name:    seg.Path,
				Open:    seg.Open,
				Options: parser.Options{File: seg.Path, Format: o.format, Location: o.loc},
			})
		}
		r.plans = append(r.plans, pl)
	}
	r.last = make([]time.Time, len(r.plans))
	o.after = after
	o.seen = func(en *parser.Entry) {
		if i, ok := r.owner[en.File]; ok && en.Time.After(r.last[i]) {
			r.last[i] = en.Time
		}
	}
	return r
}

// livePaths makes the arguments absolute and expands globs, leaving out
// the rotated copies a glob matches: digest finds those itself. A
// rotated copy named outright is a usage error.
func livePaths(args []string, stderr io.Writer) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == source.Stdin {
			return nil, &usageError{"digest reads files, not stdin: it remembers where each file was left"}
		}
		glob := strings.ContainsAny(a, "*?[")
		if !glob && source.IsRotated(a) {
			return nil, &usageError{fmt.Sprintf("%s is a rotated copy: name the live log, digest reads its rotations itself", a)}
		}
		names, errs := source.Expand([]string{a})
		for _, err := range errs {
			fmt.Fprintf(stderr, "logtriage: %v\n", err)
		}
		for _, n := range names {
			if glob && source.IsRotated(n) {
				continue
			}
			abs, err := filepath.Abs(n)
			if err != nil {
				return nil, &usageError{fmt.Sprintf("%s: %v", n, err)}
			}
			if !slices.Contains(out, abs) {
				out = append(out, abs)
			}
		}
	}
	return out, nil
}

// delivery is where the report goes: stdout, SMTP or sendmail.
type delivery struct {
	to       []string
	from     string
	smtp     *mailer.SMTP
	sendmail string
}

func (c *digestCmd) delivery() (*delivery, error) {
	d := &delivery{}
	if len(c.MailTo) == 0 {
		for flag, v := range map[string]string{"--mail-from": c.MailFrom, "--smtp": c.SMTP, "--sendmail": c.Sendmail} {
			if v != "" {
				return nil, &usageError{flag + " needs --mail-to"}
			}
		}
		return d, nil
	}
	if c.SMTP != "" && c.Sendmail != "" {
		return nil, &usageError{"--smtp and --sendmail: choose one"}
	}
	d.to = c.MailTo
	d.from = c.MailFrom
	if d.from == "" {
		host, _ := os.Hostname()
		d.from = "logtriage@" + host
	}
	if err := (mailer.Message{From: d.from, To: d.to}).Check(); err != nil {
		return nil, &usageError{err.Error()}
	}
	if c.SMTP == "" {
		d.sendmail = c.Sendmail // "": mailer.SendmailPath
		return d, nil
	}
	user, pw, err := mailer.Credentials(c.SMTPUser, c.SMTPPassword, c.SMTPPasswordFile, os.Getenv)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	d.smtp = &mailer.SMTP{URL: c.SMTP, User: user, Password: pw, StartTLS: c.SMTPStartTLS, CAFile: c.SMTPCA, Timeout: c.SMTPTimeout}
	if err := d.smtp.Check(); err != nil {
		return nil, &usageError{err.Error()}
	}
	return d, nil
}

// deliver prints the report or mails it.
func (d *delivery) deliver(e *env, a *report.Analysis, format string) error {
	if len(d.to) == 0 {
		return render(e.stdout, a, format, report.Style{})
	}
	var text, html bytes.Buffer
	if err := report.Text(&text, a); err != nil {
		return err
	}
	if err := report.HTML(&html, a); err != nil {
		return err
	}
	msg := mailer.Message{
		From:      d.from,
		To:        d.to,
		Subject:   subject(a),
		Text:      text.Bytes(),
		HTML:      html.Bytes(),
		Date:      a.Generated,
		Incidents: a.Incidents.Len(),
	}
	if d.smtp != nil {
		return mailer.Send(e.ctx, *d.smtp, msg)
	}
	return mailer.Sendmail(e.ctx, d.sendmail, msg)
}

// subject summarises the report for the mail's Subject line: the counts,
// then the worst incident's title and what it concerns (the socket,
// upstream or pool), which tells apart two incidents of one kind.
// mailer.Subject cleans the log content in it and cuts it to length.
func subject(a *report.Analysis) string {
	var w *incident.Incident // sorted worst first
	n := 0
	for _, in := range a.Incidents.All() {
		if w == nil {
			w = in
		}
		if in.Severity != w.Severity {
			break
		}
		n++
	}
	if w == nil { // not read back; Text and HTML said why already
		return mailer.Subject(a.Host, a.Incidents.Len(), 0, "", "")
	}
	what := w.Title
	if w.Subject != "" {
		what += ": " + w.Subject
	}
	return mailer.Subject(a.Host, a.Incidents.Len(), n, rules.Severity(w.Severity).String(), what)
}
