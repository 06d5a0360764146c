package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// Schema names the version of every JSON document logtriage writes.
const Schema = "logtriage/v1"

// Style says how to decorate text output.
type Style struct {
	Color bool // ANSI colours; only on a terminal and never with NO_COLOR
}

var severityColor = map[rules.Severity]string{
	rules.SeverityCritical: "\x1b[1;31m",
	rules.SeverityError:    "\x1b[31m",
	rules.SeverityWarning:  "\x1b[33m",
	rules.SeverityNotice:   "\x1b[36m",
	rules.SeverityInfo:     "\x1b[2m",
}

func (s Style) severity(sev rules.Severity) string {
	if !s.Color {
		return sev.String()
	}
	return severityColor[sev] + sev.String() + "\x1b[0m"
}

// Severity names sev, coloured when the style has colour.
func (s Style) Severity(sev rules.Severity) string { return s.severity(sev) }

func (s Style) bold(text string) string {
	if !s.Color {
		return text
	}
	return "\x1b[1m" + text + "\x1b[0m"
}

// table renders rows under a header. tablewriter keeps the row slices it
// is given, so each row is its own slice.
func table(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// streamTable writes table's layout with a row per incident, holding
// one row at a time: a first pass finds the column widths.
func streamTable(w io.Writer, header []string, ins Incidents, row func(*incident.Incident) []string) error {
	widths := tw.NewMapper[int, int]()
	fit := func(cells []string) {
		for i, c := range cells {
			widths.Set(i, max(widths.Get(i), twwidth.Width(c)+2))
		}
	}
	fit(header)
	for _, in := range ins.All() {
		fit(row(in))
	}
	if err := ins.Err(); err != nil {
		return err
	}
	t := tablewriter.NewTable(w, tablewriter.WithStreaming(tw.StreamConfig{Enable: true}), tablewriter.WithColumnWidths(widths))
	if err := t.Start(); err != nil {
		return err
	}
	t.Header(header)
	for _, in := range ins.All() {
		if err := t.Append(row(in)); err != nil {
			return err
		}
	}
	if err := ins.Err(); err != nil {
		return err
	}
	return t.Close()
}

func serverNames(ss []parser.Server) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	return strings.Join(names, ",")
}

// RuleList writes one row per rule: id, server, severity, title.
func RuleList(w io.Writer, rs []*rules.Rule, st Style) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, []string{r.ID, serverNames(r.Servers), r.Severity.String(), r.Title})
	}
	if err := table(w, []string{"rule", "server", "severity", "title"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d rules\n", len(rs))
	return err
}

// RuleJSON is a rule as written by --json.
type RuleJSON struct {
	ID          string        `json:"id"`
	Servers     []string      `json:"servers"`
	Levels      []string      `json:"levels,omitempty"`
	Errno       []int         `json:"errno,omitempty"`
	Anchor      string        `json:"anchor"`
	Pattern     string        `json:"pattern"`
	Severity    string        `json:"severity"`
	Category    string        `json:"category"`
	Role        string        `json:"role"`
	HTTPStatus  int           `json:"http_status,omitempty"`
	Title       string        `json:"title"`
	Cause       string        `json:"cause"`
	Remediation []string      `json:"remediation"`
	Diagnostics []string      `json:"diagnostics"`
	Subject     SubjectJSON   `json:"subject"`
	Generic     bool          `json:"generic,omitempty"`
	Source      string        `json:"source"`
	Examples    []ExampleJSON `json:"examples,omitempty"`
}

// SubjectJSON is a rule's subject: its kind and template.
type SubjectJSON struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// ExampleJSON is a rule example.
type ExampleJSON struct {
	Line     string            `json:"line"`
	Captures map[string]string `json:"captures,omitempty"`
	Subject  *string           `json:"subject,omitempty"`
}

// NewRuleJSON converts a rule for JSON output.
func NewRuleJSON(r *rules.Rule, withExamples bool) RuleJSON {
	j := RuleJSON{
		ID: r.ID, Errno: r.Errno, Anchor: r.Anchor, Pattern: r.Pattern.String(),
		Severity: r.Severity.String(), Category: r.Category, Role: r.Role, HTTPStatus: r.HTTPStatus,
		Title: r.Title, Cause: r.Cause, Remediation: r.Remediation, Diagnostics: r.Diagnostics,
		Subject: SubjectJSON{r.SubjectKind, r.Subject.String()}, Generic: r.Generic, Source: r.Source,
	}
	for _, s := range r.Servers {
		j.Servers = append(j.Servers, s.String())
	}
	for _, l := range r.Levels {
		j.Levels = append(j.Levels, l.String())
	}
	if withExamples {
		for _, ex := range r.Examples {
			e := ExampleJSON{Line: ex.Line, Captures: ex.Captures}
			if ex.AssertsSubject() {
				s := ex.Subject
				e.Subject = &s
			}
			j.Examples = append(j.Examples, e)
		}
	}
	return j
}

// RuleListJSON writes {"schema":..., "rules":[...]}.
func RuleListJSON(w io.Writer, rs []*rules.Rule) error {
	out := struct {
		Schema string     `json:"schema"`
		Rules  []RuleJSON `json:"rules"`
	}{Schema: Schema, Rules: []RuleJSON{}}
	for _, r := range rs {
		out.Rules = append(out.Rules, NewRuleJSON(r, false))
	}
	return writeJSON(w, out)
}

// RuleShowJSON writes one rule with its examples.
func RuleShowJSON(w io.Writer, r *rules.Rule) error {
	out := struct {
		Schema string   `json:"schema"`
		Rule   RuleJSON `json:"rule"`
	}{Schema, NewRuleJSON(r, true)}
	return writeJSON(w, out)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// RuleShow writes everything about a rule for a reader.
func RuleShow(w io.Writer, r *rules.Rule, st Style) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", st.bold(r.ID), r.Title)
	fmt.Fprintf(&b, "  server:    %s\n", serverNames(r.Servers))
	fmt.Fprintf(&b, "  severity:  %s", st.severity(r.Severity))
	if r.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (clients get %d)", r.HTTPStatus)
	}
	fmt.Fprintf(&b, "\n  category:  %s, %s\n", r.Category, r.Role)
	fmt.Fprintf(&b, "  subject:   %s %s\n", r.SubjectKind, r.Subject)
	if len(r.Levels) > 0 {
		names := make([]string, len(r.Levels))
		for i, l := range r.Levels {
			names[i] = l.String()
		}
		fmt.Fprintf(&b, "  levels:    %s\n", strings.Join(names, ", "))
	}
	if len(r.Errno) > 0 {
		fmt.Fprintf(&b, "  errno:     %v\n", r.Errno)
	}
	fmt.Fprintf(&b, "  anchor:    %q\n  pattern:   %s\n  defined:   %s\n", r.Anchor, r.Pattern, r.Source)
	fmt.Fprintf(&b, "\n%s\n", st.bold("Cause"))
	writeWrapped(&b, r.Cause, "  ")
	fmt.Fprintf(&b, "\n%s\n", st.bold("Remediation"))
	for i, s := range r.Remediation {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
	}
	fmt.Fprintf(&b, "\n%s\n", st.bold("Diagnostics"))
	for _, s := range r.Diagnostics {
		fmt.Fprintf(&b, "  $ %s\n", s)
	}
	fmt.Fprintf(&b, "\n%s\n", st.bold("Examples"))
	for _, ex := range r.Examples {
		for i, l := range CleanLines(ex.Line) {
			if i == 0 {
				fmt.Fprintf(&b, "  - %s\n", l)
			} else {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
		if len(ex.Captures) > 0 {
			fmt.Fprintf(&b, "    captures: %s\n", formatCaptures(ex.Captures))
		}
		if ex.AssertsSubject() {
			fmt.Fprintf(&b, "    subject:  %s\n", Clean(ex.Subject))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeWrapped(b *strings.Builder, text, indent string) {
	const width = 76
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
}

func formatCaptures(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(c[k])
	}
	return Clean(strings.Join(parts, " "))
}

// RecordJSON is a parsed record and its match, as `rules test --json`
// writes it.
type RecordJSON struct {
	File         string            `json:"file"`
	Line         int               `json:"line"`
	Offset       int64             `json:"offset"`
	Lines        int               `json:"lines"`
	Format       string            `json:"format"`
	Server       string            `json:"server"`
	Time         string            `json:"time,omitempty"`
	Level        string            `json:"level"`
	PID          int64             `json:"pid,omitempty"`
	TID          int64             `json:"tid,omitempty"`
	Conn         int64             `json:"conn,omitempty"`
	Message      string            `json:"message"`
	Errno        int               `json:"errno,omitempty"`
	ErrText      string            `json:"errtext,omitempty"`
	Status       string            `json:"status,omitempty"`
	Action       string            `json:"action,omitempty"`
	Client       string            `json:"client,omitempty"`
	VHost        string            `json:"vhost,omitempty"`
	Request      string            `json:"request,omitempty"`
	Subrequest   string            `json:"subrequest,omitempty"`
	Upstream     string            `json:"upstream,omitempty"`
	UpstreamPeer string            `json:"upstream_peer,omitempty"`
	Host         string            `json:"host,omitempty"`
	Referrer     string            `json:"referrer,omitempty"`
	Module       string            `json:"module,omitempty"`
	AHCode       string            `json:"ahcode,omitempty"`
	Pool         string            `json:"pool,omitempty"`
	Child        int64             `json:"child,omitempty"`
	Unparsed     bool              `json:"unparsed,omitempty"`
	Cut          bool              `json:"cut,omitempty"`
	RuleID       string            `json:"rule_id,omitempty"`
	Severity     string            `json:"severity,omitempty"`
	Captures     map[string]string `json:"captures,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	SubjectKind  string            `json:"subject_kind,omitempty"`
}

// NewRecordJSON converts an entry and its match (nil when unmatched).
func NewRecordJSON(e *parser.Entry, m *rules.Match) RecordJSON {
	r := RecordJSON{
		File: e.File, Line: e.Line, Offset: e.Offset, Lines: e.Lines, Format: e.Format.String(),
		Server: e.Server.String(), Level: e.Level.String(), PID: e.PID, TID: e.TID, Conn: e.Conn,
		Message: e.Message, Errno: e.Errno, ErrText: e.ErrText, Status: e.Status, Action: e.Action,
		Client: e.Client, VHost: e.VHost, Request: e.Request, Subrequest: e.Subrequest,
		Upstream: e.Upstream, Host: e.Host, Referrer: e.Referrer, Module: e.Module,
		AHCode: e.AHCode, Pool: e.Pool, Child: e.Child, Unparsed: e.Unparsed, Cut: e.Cut,
	}
	if e.Upstream != "" {
		r.UpstreamPeer = e.UpstreamPeer()
	}
	if !e.Time.IsZero() {
		r.Time = e.Time.Format(time.RFC3339Nano)
	}
	if m != nil {
		r.RuleID = m.Rule.ID
		r.Severity = m.Rule.Severity.String()
		r.Captures = m.Captures()
		r.Subject = m.Subject
		r.SubjectKind = m.Rule.SubjectKind
	}
	return r
}

// Record writes one record and what matched it, for `rules test`.
func Record(w io.Writer, e *parser.Entry, m *rules.Match, st Style) error {
	var b strings.Builder
	loc := fmt.Sprintf("%s:%d", Clean(e.File), e.Line)
	switch {
	case e.Unparsed:
		fmt.Fprintf(&b, "%s  unparsed\n", loc)
		for _, l := range CleanLines(e.Raw) {
			fmt.Fprintf(&b, "    | %s\n", l)
		}
		_, err := io.WriteString(w, b.String())
		return err
	case m != nil:
		fmt.Fprintf(&b, "%s  %s %s %s  %s %s\n", loc, e.Format, e.Time.Format("2006-01-02T15:04:05.999999Z07:00"), e.Level, st.bold(m.Rule.ID), st.severity(m.Rule.Severity))
	default:
		fmt.Fprintf(&b, "%s  %s %s %s  unmatched\n", loc, e.Format, e.Time.Format("2006-01-02T15:04:05.999999Z07:00"), e.Level)
	}
	for i, l := range CleanLines(e.Message) {
		if i == 0 {
			fmt.Fprintf(&b, "    message:  %s\n", l)
		} else {
			fmt.Fprintf(&b, "              %s\n", l)
		}
	}
	if f := recordFields(e); f != "" {
		fmt.Fprintf(&b, "    fields:   %s\n", f)
	}
	if m != nil {
		if c := m.Captures(); len(c) > 0 {
			fmt.Fprintf(&b, "    captures: %s\n", formatCaptures(c))
		}
		fmt.Fprintf(&b, "    subject:  %s %s\n", m.Rule.SubjectKind, Clean(m.Subject))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func recordFields(e *parser.Entry) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+strconv.Quote(v))
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			parts = append(parts, k+"="+strconv.FormatInt(v, 10))
		}
	}
	num("pid", e.PID)
	num("tid", e.TID)
	num("conn", e.Conn)
	if e.Errno != 0 || e.Status != "" {
		st := e.Status
		if st == "" {
			st = strconv.Itoa(e.Errno)
		}
		add("errno", st+" "+e.ErrText)
	}
	add("action", e.Action)
	add("client", e.Client)
	add("vhost", e.VHost)
	add("request", e.Request)
	add("subrequest", e.Subrequest)
	add("upstream", e.Upstream)
	add("host", e.Host)
	add("referrer", e.Referrer)
	add("module", e.Module)
	add("ahcode", e.AHCode)
	add("pool", e.Pool)
	num("child", e.Child)
	if e.Cut {
		parts = append(parts, "cut")
	}
	return Clean(strings.Join(parts, " "))
}

// CoverageJSON is the coverage section of JSON output.
type CoverageJSON struct {
	Files            int               `json:"files"`
	Lines            int64             `json:"lines"`
	Bytes            int64             `json:"bytes"`
	Records          int64             `json:"records"`
	Parsed           int64             `json:"parsed"`
	Unparsed         int64             `json:"unparsed"`
	FoldedLines      int64             `json:"folded_lines"`
	CutLines         int64             `json:"cut_lines"`
	BlankLines       int64             `json:"blank_lines"`
	Matched          int64             `json:"matched"`
	Unmatched        int64             `json:"unmatched"`
	UnmatchedSevere  int64             `json:"unmatched_severe"`
	ByRule           []rules.RuleCount `json:"by_rule"`
	UnparsedSamples  []string          `json:"unparsed_samples"`
	UnmatchedSamples []string          `json:"unmatched_samples"`
}

// NewCoverageJSON converts coverage counts.
func NewCoverageJSON(c *rules.Coverage) CoverageJSON {
	p := c.Parser
	j := CoverageJSON{
		Files: c.Files, Lines: p.Lines, Bytes: p.Bytes, Records: p.Records, Parsed: p.Parsed,
		Unparsed: p.Unparsed, FoldedLines: p.Folded, CutLines: p.Cut, BlankLines: p.Blank,
		Matched: c.MatchedTotal(), Unmatched: c.Unmatched, UnmatchedSevere: c.UnmatchedSevere,
		ByRule: c.ByRule(), UnparsedSamples: p.UnparsedSamples, UnmatchedSamples: c.UnmatchedSamples,
	}
	if j.UnparsedSamples == nil {
		j.UnparsedSamples = []string{}
	}
	if j.UnmatchedSamples == nil {
		j.UnmatchedSamples = []string{}
	}
	return j
}

// coverageRows are the coverage counts as (what, count) rows, shared by
// every human format.
func coverageRows(c *rules.Coverage) [][]string {
	p := c.Parser
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	return [][]string{
		{"files", strconv.Itoa(c.Files)},
		{"lines", n(p.Lines)},
		{"records", n(p.Records)},
		{"parsed", n(p.Parsed)},
		{"matched", n(c.MatchedTotal())},
		{"unmatched", n(c.Unmatched)},
		{"unmatched at error level", n(c.UnmatchedSevere)},
		{"unparsed", n(p.Unparsed)},
		{"folded lines", n(p.Folded)},
		{"cut lines", n(p.Cut)},
	}
}

// Coverage writes the coverage tables.
func Coverage(w io.Writer, c *rules.Coverage, st Style) error {
	p := c.Parser
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	if _, err := fmt.Fprintf(w, "\n%s\n", st.bold("Coverage")); err != nil {
		return err
	}
	rows := coverageRows(c)
	if err := table(w, []string{"what", "count"}, rows); err != nil {
		return err
	}
	if by := c.ByRule(); len(by) > 0 {
		rows = rows[:0:0]
		for _, rc := range by {
			rows = append(rows, []string{rc.ID, n(rc.Count)})
		}
		if err := table(w, []string{"rule", "matched"}, rows); err != nil {
			return err
		}
	}
	var b strings.Builder
	if len(c.UnmatchedSamples) > 0 {
		fmt.Fprintf(&b, "Unmatched at error level (first %d):\n", len(c.UnmatchedSamples))
		for _, s := range c.UnmatchedSamples {
			fmt.Fprintf(&b, "  %s\n", Clean(s))
		}
	}
	if len(p.UnparsedSamples) > 0 {
		fmt.Fprintf(&b, "Unparsed (first %d):\n", len(p.UnparsedSamples))
		for _, s := range p.UnparsedSamples {
			fmt.Fprintf(&b, "  %s\n", Clean(s))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
