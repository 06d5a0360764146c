package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/report"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/sample"
	"github.com/logtriage/logtriage/source"
)

type rulesCmd struct {
	List  rulesListCmd  `cmd:"" help:"List the rules."`
	Show  rulesShowCmd  `cmd:"" help:"Show a rule: cause, remediation, diagnostics, examples."`
	Check rulesCheckCmd `cmd:"" help:"Validate rule files and run every rule's examples."`
	Test  rulesTestCmd  `cmd:"" help:"Parse logs and show, record by record, which rule matches."`
}

type rulesListCmd struct {
	Server string `help:"Only rules for this server: nginx, apache, php-fpm." placeholder:"SERVER"`
	JSON   bool   `name:"json" help:"Write JSON."`
}

func (c *rulesListCmd) Help() string {
	return `Examples:
  logtriage rules list
  logtriage rules list --server php-fpm
  logtriage rules list --json | jq -r '.rules[].id'`
}

func (c *rulesListCmd) Run(g *Globals, e *env) error {
	set, err := g.loadRules()
	if err != nil {
		return err
	}
	rs := set.Rules()
	if c.Server != "" {
		srv, ok := parser.ParseServer(c.Server)
		if !ok {
			return &usageError{fmt.Sprintf("--server: unknown server %q (want nginx, apache or php-fpm)", c.Server)}
		}
		var keep []*rules.Rule
		for _, r := range rs {
			if r.HasServer(srv) {
				keep = append(keep, r)
			}
		}
		rs = keep
	}
	if c.JSON {
		return report.RuleListJSON(e.stdout, rs)
	}
	return report.RuleList(e.stdout, rs, g.style(e.stdout))
}

type rulesShowCmd struct {
	ID   string `arg:"" help:"Rule id, e.g. fpm.pool.max_children_reached."`
	JSON bool   `name:"json" help:"Write JSON."`
}

func (c *rulesShowCmd) Help() string {
	return `Examples:
  logtriage rules show nginx.upstream.connect.unix_eagain
  logtriage rules show fpm.pool.max_children_reached --json`
}

func (c *rulesShowCmd) Run(g *Globals, e *env) error {
	set, err := g.loadRules()
	if err != nil {
		return err
	}
	r := set.Rule(c.ID)
	if r == nil {
		hint := ""
		var near []string
		for _, x := range set.Rules() {
			if strings.Contains(x.ID, c.ID) {
				near = append(near, x.ID)
			}
		}
		if len(near) > 0 && len(near) <= 8 {
			hint = "; did you mean " + strings.Join(near, ", ")
		}
		return fmt.Errorf("no rule %q%s (see 'logtriage rules list')", c.ID, hint)
	}
	if c.JSON {
		return report.RuleShowJSON(e.stdout, r)
	}
	return report.RuleShow(e.stdout, r, g.style(e.stdout))
}

type rulesCheckCmd struct{}

func (c *rulesCheckCmd) Help() string {
	return `Loads the built-in rules and every --rules file strictly (unknown keys,
bad regular expressions and missing fields are errors with file:line), then
runs every example of every rule: each must be matched by its own rule, not
first by another, with the captures and subject it states.

Examples:
  logtriage rules check
  logtriage --rules /etc/logtriage/local.yaml rules check`
}

func (c *rulesCheckCmd) Run(g *Globals, e *env) error {
	set, err := g.loadRules()
	if err != nil {
		return err
	}
	errs := set.Check()
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "%v\n", err)
	}
	n := 0
	for _, r := range set.Rules() {
		n += len(r.Examples)
	}
	fmt.Fprintf(e.stdout, "%d rules, %d examples, %d failed\n", len(set.Rules()), n, len(errs))
	if len(errs) > 0 {
		return &exitCodeError{code: exitFindings}
	}
	return nil
}

type rulesTestCmd struct {
	Inputs    []string `arg:"" optional:"" name:"FILE" help:"Log files, globs, .gz files, '-' for stdin, or a log line in quotes. Default: the embedded sample logs."`
	JSON      bool     `name:"json" help:"Write one JSON document: records, then coverage."`
	Summary   bool     `help:"Print only the coverage tables."`
	Unmatched bool     `help:"Print only records that no rule matched (and unparsed lines)."`
}

func (c *rulesTestCmd) Help() string {
	return `For every record: its format, time, level and fields, then the rule that
matched with its captures and subject, or "unmatched". Then coverage: lines,
records, parsed, matched per rule, unmatched, unparsed, cut lines.

Exit status is 2 when no input could be read, else 0.

Examples:
  logtriage rules test                       # the embedded sample logs
  logtriage rules test /var/log/nginx/error.log
  logtriage rules test --unmatched /var/log/apache2/error.log*
  logtriage rules test '2026/11/21 19:24:19 [error] 20207#20207: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: api.test'
  zcat error.log.2.gz | logtriage rules test -`
}

// input is one thing to read: a file, stdin, a sample log or a line.
type input struct {
	name string
	open func() (io.ReadCloser, error)
}

func (c *rulesTestCmd) inputs(e *env) ([]input, []error) {
	if len(c.Inputs) == 0 {
		fmt.Fprintln(e.stderr, "logtriage: reading the embedded sample logs; name files, or - for stdin")
		var ins []input
		for _, n := range sample.Names() {
			ins = append(ins, input{"sample/" + n, func() (io.ReadCloser, error) { return sample.Logs().Open(n) }})
		}
		return ins, nil
	}
	var ins []input
	var errs []error
	var args []string
	for _, a := range c.Inputs {
		if _, err := os.Stat(a); err != nil && a != source.Stdin && looksLikeRecord(a) {
			ins = append(ins, input{"line", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(a)), nil }})
			continue
		}
		args = append(args, a)
	}
	names, errs := source.Expand(args)
	for _, n := range names {
		ins = append(ins, input{n, func() (io.ReadCloser, error) { return source.Open(n, e.stdin) }})
	}
	return ins, errs
}

// looksLikeRecord reports whether an argument is a log line rather than a
// path: some format recognises it.
func looksLikeRecord(s string) bool {
	if !strings.ContainsRune(s, ' ') {
		return false
	}
	ok := false
	parser.Scan(strings.NewReader(s), parser.Options{}, func(e *parser.Entry) { ok = ok || !e.Unparsed })
	return ok
}

func (c *rulesTestCmd) Run(g *Globals, e *env) error {
	set, err := g.loadRules()
	if err != nil {
		return err
	}
	loc, err := g.location()
	if err != nil {
		return err
	}
	format, err := g.format()
	if err != nil {
		return err
	}
	st := g.style(e.stdout)
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()

	ins, errs := c.inputs(e)
	for _, err := range errs {
		fmt.Fprintf(e.stderr, "logtriage: %v\n", err)
	}
	cov := rules.NewCoverage(5)
	var js *jsonStream
	if c.JSON {
		js = newJSONStream(out)
	}
	read := 0
	var werr error
	for _, in := range ins {
		if e.ctx.Err() != nil {
			break
		}
		r, err := in.open()
		if err != nil {
			fmt.Fprintf(e.stderr, "logtriage: %v\n", err)
			continue
		}
		stats, err := parser.Scan(r, parser.Options{File: in.name, Format: format, Location: loc}, func(en *parser.Entry) {
			m, ok := set.Match(en)
			mp := &m
			if !ok {
				mp = nil
			}
			cov.Count(en, mp)
			if werr != nil || c.Summary || (c.Unmatched && ok) {
				return
			}
			if js != nil {
				werr = js.record(report.NewRecordJSON(en, mp))
			} else {
				werr = report.Record(out, en, mp, st)
			}
		})
		r.Close()
		read++
		cov.AddFile(stats)
		if err != nil {
			fmt.Fprintf(e.stderr, "logtriage: %v (records before the error are kept)\n", err)
		}
		if werr != nil {
			return werr
		}
	}
	if js != nil {
		err = js.finish(report.NewCoverageJSON(cov))
	} else {
		err = report.Coverage(out, cov, st)
	}
	if err != nil {
		return err
	}
	if read == 0 {
		return &exitCodeError{code: exitError, err: errors.New("no input could be read")}
	}
	return nil
}

// jsonStream writes {"schema":..,"records":[...],"coverage":{..}} one
// record at a time, so memory does not grow with the input.
type jsonStream struct {
	w     io.Writer
	n     int
	begun bool
}

func newJSONStream(w io.Writer) *jsonStream { return &jsonStream{w: w} }

func (s *jsonStream) begin() error {
	if s.begun {
		return nil
	}
	s.begun = true
	_, err := fmt.Fprintf(s.w, "{\"schema\":%q,\"records\":[", report.Schema)
	return err
}

func (s *jsonStream) record(v any) error {
	if err := s.begin(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sep := ",\n"
	if s.n == 0 {
		sep = "\n"
	}
	s.n++
	if _, err := io.WriteString(s.w, sep); err != nil {
		return err
	}
	_, err = s.w.Write(b)
	return err
}

func (s *jsonStream) finish(coverage any) error {
	if err := s.begin(); err != nil {
		return err
	}
	b, err := json.Marshal(coverage)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "\n],\"coverage\":%s}\n", b)
	return err
}
