package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// humanTime is how the human formats print a time, in the zone the caller
// put it in.
const humanTime = "2006-01-02 15:04:05"

// textWidth is where prose (causes, remediation) is wrapped in Table and
// Text output; log text is never wrapped, so that it stays greppable.
const textWidth = 78

// Table writes an analysis for a terminal: a summary table of the
// incidents, a detail block per incident, the coverage tables and the
// message shapes no rule knows. Colour comes only from st.
func Table(w io.Writer, a *Analysis, st Style) error {
	if a == nil {
		a = &Analysis{}
	}
	var b strings.Builder
	writeHeader(&b, a, st)
	ins := a.incidents()
	if ins.Len() == 0 {
		writeNoIncidents(&b, a)
	} else {
		b.WriteString(incidentCount(a) + "\n\n")
		if err := flush(w, &b); err != nil {
			return err
		}
		row := func(in *incident.Incident) []string {
			return []string{
				Clean(in.ID), st.severity(in.Severity), subject(in), fmtTime(in.Start),
				fmtDuration(in.Duration()), strconv.FormatInt(in.Count, 10), summaryTitle(in),
			}
		}
		header := []string{"id", "severity", "subject", "start", "duration", "count", "title"}
		if err := streamTable(w, header, ins, row); err != nil {
			return err
		}
		if err := eachIncident(w, &b, ins, func(i int, in *incident.Incident) { writeIncident(&b, in, i, st) }); err != nil {
			return err
		}
	}
	if err := flush(w, &b); err != nil {
		return err
	}
	if a.Coverage != nil {
		if err := Coverage(w, a.Coverage, st); err != nil {
			return err
		}
	}
	if len(a.Unknown) == 0 {
		return nil
	}
	b.WriteString("\n")
	writeHeading(&b, "Unknown messages", '-', st)
	b.WriteString("Error-level records no rule knows, commonest first.\n")
	if err := flush(w, &b); err != nil {
		return err
	}
	rows := make([][]string, 0, len(a.Unknown))
	for i, t := range a.Unknown {
		rows = append(rows, []string{
			strconv.Itoa(i + 1), strconv.FormatInt(t.Count, 10), Clean(t.Server), Clean(t.Level),
			fmtTime(t.First), fmtTime(t.Last), Clean(t.Pattern),
		})
	}
	if err := table(w, []string{"#", "count", "server", "level", "first", "last", "pattern"}, rows); err != nil {
		return err
	}
	b.WriteString("Samples:\n")
	for i, t := range a.Unknown {
		writeLogText(&b, fmt.Sprintf("  %d  ", i+1), "       ", t.Sample)
	}
	return flush(w, &b)
}

// Text writes the same content as Table as plain text for pipes and
// mail: no borders, no colour, headings underlined, prose wrapped to fit
// 80 columns.
func Text(w io.Writer, a *Analysis) error {
	if a == nil {
		a = &Analysis{}
	}
	var st Style // never colour
	var b strings.Builder
	writeHeader(&b, a, st)
	ins := a.incidents()
	if ins.Len() == 0 {
		writeNoIncidents(&b, a)
	} else {
		b.WriteString(incidentCount(a) + "\n\n")
		row := func(i int, in *incident.Incident) []string {
			return []string{
				strconv.Itoa(i + 1), Clean(in.ID), in.Severity.String(), fmtTime(in.Start),
				fmtDuration(in.Duration()), strconv.FormatInt(in.Count, 10),
			}
		}
		// Two passes: the column widths, then the rows.
		header := []string{"#", "ID", "SEVERITY", "START", "DURATION", "COUNT"}
		widths := columnWidths(nil, header)
		for i, in := range ins.All() {
			widths = columnWidths(widths, row(i, in))
		}
		if err := ins.Err(); err != nil {
			return err
		}
		right := map[int]bool{4: true, 5: true}
		b.WriteString(strings.TrimRight(alignRow(header, widths, right), " ") + "\n")
		// The subject and title go on lines of their own under each row:
		// they are too long to share a line in 80 columns.
		pad := strings.Repeat(" ", len(strconv.Itoa(ins.Len()))+2)
		err := eachIncident(w, &b, ins, func(i int, in *incident.Incident) {
			b.WriteString(strings.TrimRight(alignRow(row(i, in), widths, right), " ") + "\n")
			b.WriteString(pad + summaryTitle(in) + "\n")
			b.WriteString(pad + subject(in) + "\n")
		})
		if err == nil {
			err = eachIncident(w, &b, ins, func(i int, in *incident.Incident) { writeIncident(&b, in, i, st) })
		}
		if err != nil {
			return err
		}
	}
	if a.Coverage != nil {
		writeCoverageText(&b, a.Coverage)
	}
	if len(a.Unknown) > 0 {
		b.WriteString("\n")
		writeHeading(&b, "Unknown messages", '-', st)
		b.WriteString("Error-level records no rule knows, commonest first.\n\n")
		width := 0
		for _, t := range a.Unknown {
			width = max(width, len(strconv.FormatInt(t.Count, 10)))
		}
		pad := strings.Repeat(" ", width+4)
		for _, t := range a.Unknown {
			fmt.Fprintf(&b, "  %*d  %s %s, %s – %s\n", width, t.Count, Clean(t.Server), Clean(t.Level), fmtTime(t.First), fmtTime(t.Last))
			fmt.Fprintf(&b, "%spattern: %s\n", pad, Clean(t.Pattern))
			writeLogText(&b, pad+"sample:  ", pad+"           ", t.Sample)
		}
	}
	return flush(w, &b)
}

// writeHeader writes the report title and what it covers.
func writeHeader(b *strings.Builder, a *Analysis, st Style) {
	title := "logtriage report"
	if a.Host != "" {
		title += ": " + Clean(a.Host)
	}
	writeHeading(b, title, '=', st)
	b.WriteString("\n")
	if !a.Generated.IsZero() {
		kv(b, "generated", fmtTime(a.Generated))
	}
	kv(b, "window", window(a))
	if z := zone(a); z != "" {
		kv(b, "times", "in "+z)
	}
	for i, in := range a.Inputs {
		label := ""
		if i == 0 {
			label = "inputs"
		}
		kv(b, label, Clean(in))
	}
	b.WriteString("\n")
}

func writeNoIncidents(b *strings.Builder, a *Analysis) {
	b.WriteString("No incidents.\n")
	if a.Hidden > 0 {
		fmt.Fprintf(b, "%s below the minimum severity not shown.\n", plural(int64(a.Hidden), "incident"))
	}
	wrap(b, readSummary(a), "", "", textWidth)
}

// readSummary says what was read, so that "No incidents." cannot be
// mistaken for "read nothing".
func readSummary(a *Analysis) string {
	if a.Coverage == nil {
		return fmt.Sprintf("Read %s.", plural(int64(len(a.Inputs)), "input"))
	}
	c := a.Coverage
	return fmt.Sprintf("Read %s: %s, %s, %d matched by a rule, %d unmatched (%d at error level), %d unparsed.",
		plural(int64(c.Files), "file"), plural(c.Parser.Lines, "line"), plural(c.Parser.Records, "record"),
		c.MatchedTotal(), c.Unmatched, c.UnmatchedSevere, c.Parser.Unparsed)
}

func incidentCount(a *Analysis) string {
	s := plural(int64(a.incidents().Len()), "incident") + "."
	if a.Hidden > 0 {
		s += fmt.Sprintf(" %d more below the minimum severity not shown.", a.Hidden)
	}
	return s
}

// writeIncident writes the detail block of the i-th incident (Table and
// Text; only Table passes a colour Style).
func writeIncident(b *strings.Builder, in *incident.Incident, i int, st Style) {
	b.WriteString("\n")
	writeHeading(b, fmt.Sprintf("%d. %s", i+1, incidentTitle(in)), '-', st)
	if in.DeployBlip {
		wrap(b, "DEPLOY BLIP: these errors sit inside a restart or reload that ended with the service back up; most likely a deploy, not an outage. Severity lowered to warning.", "", "", textWidth)
		b.WriteString("\n")
	}
	kv(b, "id", Clean(in.ID))
	kv(b, "severity", st.severity(in.Severity))
	kv(b, "subject", subject(in))
	kv(b, "window", incidentWindow(in))
	kv(b, "records", fmt.Sprintf("%d, peak %d/min", in.Count, in.PeakPerMinute))
	ids := in.RuleIDs()
	width := 0
	for _, id := range ids {
		width = max(width, len(strconv.FormatInt(in.CountsByRule[id], 10)))
	}
	for j, id := range ids {
		label := ""
		if j == 0 {
			label = "by rule"
		}
		kv(b, label, fmt.Sprintf("%*d  %s", width, in.CountsByRule[id], Clean(id)))
	}
	if len(in.HTTPStatus) > 0 {
		kv(b, "clients got", "HTTP "+joinInts(in.HTTPStatus))
	}
	kvCounts(b, "vhosts", in.VHosts)
	kvCounts(b, "requests", in.Requests)
	if in.Clients > 0 {
		kv(b, "clients", clientCount(in.Clients)+" distinct")
	}
	if len(in.Pools) > 0 {
		pools := make([]string, len(in.Pools))
		for j, p := range in.Pools {
			pools[j] = Clean(p)
		}
		kv(b, "pools", strings.Join(pools, ", "))
	}
	kvCounts(b, "scripts", in.Scripts)

	rc := in.RootCause
	fmt.Fprintf(b, "\n%s  %s", st.bold("ROOT CAUSE"), Clean(rc.RuleID))
	if rc.Count > 0 {
		fmt.Fprintf(b, " (%s)", plural(rc.Count, "record"))
	}
	b.WriteString("\n")
	if rc.Title != "" {
		wrap(b, rc.Title, "  ", "  ", textWidth)
	}
	if rc.Cause != "" {
		wrap(b, rc.Cause, "  ", "  ", textWidth)
	}
	if len(in.Remediation) > 0 {
		fmt.Fprintf(b, "\n%s\n", st.bold("REMEDIATION"))
		for j, s := range in.Remediation {
			n := fmt.Sprintf("  %d. ", j+1)
			wrap(b, s, n, strings.Repeat(" ", len(n)), textWidth)
		}
	}
	if len(in.Diagnostics) > 0 {
		fmt.Fprintf(b, "\n%s\n", st.bold("DIAGNOSTICS"))
		for _, s := range in.Diagnostics {
			// Commands are not wrapped: they are meant to be copied.
			writeLogText(b, "  $ ", "    ", s)
		}
	}
	if len(in.Samples) > 0 {
		fmt.Fprintf(b, "\n%s\n", st.bold("SAMPLES"))
		for j, s := range in.Samples {
			fmt.Fprintf(b, "  %-13s  %s  %s  %s\n", sampleLabel(in, j), fmtTime(s.Time), Clean(s.RuleID), sampleLocation(s))
			writeLogText(b, "    ", "      ", s.Text)
		}
	}
	if len(in.Sources) > 0 {
		fmt.Fprintf(b, "\n%s\n", st.bold("SOURCES"))
		for _, s := range in.Sources {
			fmt.Fprintf(b, "  %s\n", Clean(s))
		}
	}
}

// writeCoverageText is Coverage without table borders.
func writeCoverageText(b *strings.Builder, c *rules.Coverage) {
	p := c.Parser
	b.WriteString("\n")
	writeHeading(b, "Coverage", '-', Style{})
	rows := coverageRows(c)
	for _, l := range alignColumns(rows, map[int]bool{1: true}) {
		b.WriteString("  " + l + "\n")
	}
	if by := c.ByRule(); len(by) > 0 {
		b.WriteString("\nMatched per rule:\n")
		rows = rows[:0:0]
		for _, rc := range by {
			rows = append(rows, []string{strconv.FormatInt(rc.Count, 10), Clean(rc.ID)})
		}
		for _, l := range alignColumns(rows, map[int]bool{0: true}) {
			b.WriteString("  " + strings.TrimRight(l, " ") + "\n")
		}
	}
	if len(c.UnmatchedSamples) > 0 {
		fmt.Fprintf(b, "\nUnmatched at error level (first %d):\n", len(c.UnmatchedSamples))
		for _, s := range c.UnmatchedSamples {
			writeLogText(b, "  ", "    ", s)
		}
	}
	if len(p.UnparsedSamples) > 0 {
		fmt.Fprintf(b, "\nUnparsed (first %d):\n", len(p.UnparsedSamples))
		for _, s := range p.UnparsedSamples {
			writeLogText(b, "  ", "    ", s)
		}
	}
}

// Markdown writes an analysis as GitHub markdown: a summary table and a
// section per incident, log text in fenced code blocks. Log text can
// neither break a table row nor close a code fence early.
func Markdown(w io.Writer, a *Analysis) error {
	if a == nil {
		a = &Analysis{}
	}
	var b strings.Builder
	title := "logtriage report"
	if a.Host != "" {
		title += ": " + mdText(a.Host)
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if !a.Generated.IsZero() {
		fmt.Fprintf(&b, "- **Generated:** %s\n", fmtTime(a.Generated))
	}
	fmt.Fprintf(&b, "- **Window:** %s\n", window(a))
	if z := zone(a); z != "" {
		fmt.Fprintf(&b, "- **Times:** in %s\n", mdText(z))
	}
	if len(a.Inputs) > 0 {
		inputs := make([]string, len(a.Inputs))
		for i, in := range a.Inputs {
			inputs[i] = mdText(in)
		}
		fmt.Fprintf(&b, "- **Inputs:** %s\n", strings.Join(inputs, ", "))
	}
	b.WriteString("\n")

	ins := a.incidents()
	if ins.Len() == 0 {
		b.WriteString("No incidents.\n")
		if a.Hidden > 0 {
			fmt.Fprintf(&b, "%s below the minimum severity not shown.\n", plural(int64(a.Hidden), "incident"))
		}
		fmt.Fprintf(&b, "\n%s\n", mdText(readSummary(a)))
	} else {
		fmt.Fprintf(&b, "**%s**\n\n", mdText(incidentCount(a)))
		mdHeader(&b, []string{"#", "severity", "title", "subject", "start", "duration", "count", "id"}, "r----rr-")
		err := eachIncident(w, &b, ins, func(i int, in *incident.Incident) {
			mdRow(&b, []string{
				strconv.Itoa(i + 1), in.Severity.String(), summaryTitle(in), subject(in),
				fmtTime(in.Start), fmtDuration(in.Duration()), strconv.FormatInt(in.Count, 10), Clean(in.ID),
			})
		})
		if err == nil {
			err = eachIncident(w, &b, ins, func(i int, in *incident.Incident) { writeIncidentMarkdown(&b, in, i) })
		}
		if err != nil {
			return err
		}
	}

	if c := a.Coverage; c != nil {
		p := c.Parser
		b.WriteString("\n## Coverage\n\n")
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		mdTable(&b, []string{"what", "count"}, "-r", coverageRows(c))

		if by := c.ByRule(); len(by) > 0 {
			b.WriteString("\n")
			rows := make([][]string, 0, len(by))
			for _, rc := range by {
				rows = append(rows, []string{rc.ID, n(rc.Count)})
			}
			mdTable(&b, []string{"rule", "matched"}, "-r", rows)
		}
		if len(c.UnmatchedSamples) > 0 {
			fmt.Fprintf(&b, "\nUnmatched at error level (first %d):\n\n", len(c.UnmatchedSamples))
			mdCode(&b, "text", c.UnmatchedSamples)
		}
		if len(p.UnparsedSamples) > 0 {
			fmt.Fprintf(&b, "\nUnparsed (first %d):\n\n", len(p.UnparsedSamples))
			mdCode(&b, "text", p.UnparsedSamples)
		}
	}

	if len(a.Unknown) > 0 {
		b.WriteString("\n## Unknown messages\n\nError-level records no rule knows, commonest first.\n\n")
		rows := make([][]string, 0, len(a.Unknown))
		for i, t := range a.Unknown {
			rows = append(rows, []string{
				strconv.Itoa(i + 1), strconv.FormatInt(t.Count, 10), Clean(t.Server), Clean(t.Level),
				fmtTime(t.First), fmtTime(t.Last), Clean(t.Pattern),
			})
		}
		mdTable(&b, []string{"#", "count", "server", "level", "first", "last", "pattern"}, "rr-----", rows)
		for i, t := range a.Unknown {
			fmt.Fprintf(&b, "\nSample of #%d:\n\n", i+1)
			mdCode(&b, "text", []string{t.Sample})
		}
	}
	return flush(w, &b)
}

func writeIncidentMarkdown(b *strings.Builder, in *incident.Incident, i int) {
	fmt.Fprintf(b, "\n## %d. %s\n\n", i+1, mdText(incidentTitle(in)))
	if in.DeployBlip {
		b.WriteString("> **Deploy blip:** these errors sit inside a restart or reload that ended with the service back up; most likely a deploy, not an outage. Severity lowered to warning.\n\n")
	}
	item := func(label, value string) { fmt.Fprintf(b, "- **%s:** %s\n", label, value) }
	item("ID", mdText(in.ID))
	item("Severity", in.Severity.String())
	item("Subject", mdText(subject(in)))
	item("Window", incidentWindow(in))
	item("Records", fmt.Sprintf("%d, peak %d/min", in.Count, in.PeakPerMinute))
	if len(in.HTTPStatus) > 0 {
		item("Clients got", "HTTP "+joinInts(in.HTTPStatus))
	}
	if in.Clients > 0 {
		item("Clients", clientCount(in.Clients)+" distinct")
	}
	if len(in.Pools) > 0 {
		pools := make([]string, len(in.Pools))
		for j, p := range in.Pools {
			pools[j] = mdText(p)
		}
		item("Pools", strings.Join(pools, ", "))
	}
	for _, l := range []struct {
		label string
		cs    []incident.Count
	}{{"Virtual hosts", in.VHosts}, {"Requests", in.Requests}, {"Scripts", in.Scripts}} {
		if len(l.cs) == 0 {
			continue
		}
		fmt.Fprintf(b, "- **%s:**\n", l.label)
		for _, c := range l.cs {
			fmt.Fprintf(b, "  - %s (%d)\n", mdText(c.Value), c.Count)
		}
	}
	b.WriteString("\n")
	rows := make([][]string, 0, len(in.CountsByRule))
	for _, id := range in.RuleIDs() {
		rows = append(rows, []string{id, strconv.FormatInt(in.CountsByRule[id], 10)})
	}
	if len(rows) > 0 {
		mdTable(b, []string{"rule", "records"}, "-r", rows)
	}

	rc := in.RootCause
	fmt.Fprintf(b, "\n### Root cause: %s", mdText(rc.RuleID))
	if rc.Count > 0 {
		fmt.Fprintf(b, " (%s)", plural(rc.Count, "record"))
	}
	b.WriteString("\n\n")
	if rc.Title != "" {
		fmt.Fprintf(b, "**%s**\n\n", mdText(rc.Title))
	}
	if rc.Cause != "" {
		// Rule prose is markdown already (`directives` in backticks); it
		// is cleaned of control characters but not escaped.
		fmt.Fprintf(b, "%s\n", mdProse(rc.Cause))
	}
	if len(in.Remediation) > 0 {
		b.WriteString("\n### Remediation\n\n")
		for j, s := range in.Remediation {
			fmt.Fprintf(b, "%d. %s\n", j+1, mdProse(s))
		}
	}
	if len(in.Diagnostics) > 0 {
		b.WriteString("\n### Diagnostics\n\n")
		cmds := make([]string, len(in.Diagnostics))
		for j, s := range in.Diagnostics {
			cmds[j] = "$ " + s
		}
		mdCode(b, "console", cmds)
	}
	if len(in.Samples) > 0 {
		b.WriteString("\n### Samples\n")
		for j, s := range in.Samples {
			fmt.Fprintf(b, "\n**%s** · %s · %s · %s\n\n", sampleLabel(in, j), fmtTime(s.Time), mdText(s.RuleID), mdText(sampleLocation(s)))
			mdCode(b, "text", []string{s.Text})
		}
	}
	if len(in.Sources) > 0 {
		b.WriteString("\n### Sources\n\n")
		for _, s := range in.Sources {
			fmt.Fprintf(b, "- %s\n", mdText(s))
		}
	}
}

// mdText makes untrusted text literal in markdown: cleaned of control
// characters, then every character that could start emphasis, code, a
// link, raw HTML, an entity, math or a table cell is backslash-escaped,
// and so is anything that would start a block (list, heading, quote) at
// the beginning of a line. Newlines cannot survive Clean.
func mdText(s string) string {
	s = Clean(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '$', '#', '!':
			b.WriteByte('\\')
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '.', ')':
			if i == digits && digits > 0 {
				b.WriteByte('\\') // "1." would start an ordered list
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mdProse is trusted rule prose for markdown: control characters made
// inert, lines joined so a YAML block cannot end a list item.
func mdProse(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		fields[i] = Clean(f)
	}
	return strings.Join(fields, " ")
}

// mdTable writes a GitHub table; align has one byte per column, 'r' for
// right-aligned. Every cell is escaped with mdText, so a "|" in log text
// stays inside its cell.
func mdTable(b *strings.Builder, header []string, align string, rows [][]string) {
	mdHeader(b, header, align)
	for _, r := range rows {
		mdRow(b, r)
	}
}

// mdHeader writes a table's header and alignment rows.
func mdHeader(b *strings.Builder, header []string, align string) {
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + h + " |")
	}
	b.WriteString("\n|")
	for i := range header {
		if i < len(align) && align[i] == 'r' {
			b.WriteString("--:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
}

// mdRow writes a table row.
func mdRow(b *strings.Builder, r []string) {
	b.WriteString("|")
	for _, c := range r {
		// The space after every cell keeps a trailing backslash from
		// escaping the delimiter.
		b.WriteString(" " + mdText(c) + " |")
	}
	b.WriteString("\n")
}

// mdCode writes texts in one fenced code block. The fence is longer than
// any run of backticks in the texts, so no line of them can close it.
func mdCode(b *strings.Builder, info string, texts []string) {
	var lines []string
	for _, t := range texts {
		lines = append(lines, CleanLines(strings.TrimRight(t, "\n"))...)
	}
	fence := strings.Repeat("`", max(3, longestRun(lines, '`')+1))
	b.WriteString(fence + info + "\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString(fence + "\n")
}

func longestRun(lines []string, c byte) int {
	longest := 0
	for _, l := range lines {
		run := 0
		for i := 0; i < len(l); i++ {
			if l[i] == c {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return longest
}

// writeHeading writes text underlined with ch.
func writeHeading(b *strings.Builder, text string, ch byte, st Style) {
	b.WriteString(st.bold(text) + "\n")
	b.WriteString(strings.Repeat(string(ch), utf8.RuneCountInString(text)) + "\n")
}

// kv writes a labelled line of a detail block; an empty label continues
// the previous one.
func kv(b *strings.Builder, label, value string) {
	fmt.Fprintf(b, "%-12s %s\n", label, value)
}

func kvCounts(b *strings.Builder, label string, cs []incident.Count) {
	for i, c := range cs {
		if i > 0 {
			label = ""
		}
		kv(b, label, fmt.Sprintf("%s (%d)", Clean(c.Value), c.Count))
	}
}

// writeLogText writes untrusted, possibly multi-line text: the first line
// after first, continuation lines after rest, every line cleaned.
func writeLogText(b *strings.Builder, first, rest, text string) {
	for i, l := range CleanLines(strings.TrimRight(text, "\n")) {
		if i == 0 {
			b.WriteString(strings.TrimRight(first+l, " ") + "\n")
		} else {
			b.WriteString(strings.TrimRight(rest+l, " ") + "\n")
		}
	}
}

// wrap writes prose word-wrapped at width, the first line after first and
// the others after rest. The words are cleaned.
func wrap(b *strings.Builder, text, first, rest string, width int) {
	line, n, empty := first, utf8.RuneCountInString(first), true
	for _, word := range strings.Fields(text) {
		word = Clean(word)
		wn := utf8.RuneCountInString(word)
		if !empty && n+1+wn > width {
			b.WriteString(line + "\n")
			line, n, empty = rest, utf8.RuneCountInString(rest), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wn
		empty = false
	}
	if !empty {
		b.WriteString(line + "\n")
	}
}

// alignColumns pads the cells of rows into aligned columns, two spaces
// apart; right holds the columns to align right (numbers). Cells must
// already be clean.
func alignColumns(rows [][]string, right map[int]bool) []string {
	var widths []int
	for _, r := range rows {
		widths = columnWidths(widths, r)
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = alignRow(r, widths, right)
	}
	return out
}

// columnWidths widens widths to fit row.
func columnWidths(widths []int, row []string) []int {
	for i, c := range row {
		if i >= len(widths) {
			widths = append(widths, 0)
		}
		widths[i] = max(widths[i], utf8.RuneCountInString(c))
	}
	return widths
}

// alignRow pads the cells of row to widths, two spaces apart.
func alignRow(row []string, widths []int, right map[int]bool) string {
	var l strings.Builder
	for i, c := range row {
		if i > 0 {
			l.WriteString("  ")
		}
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
		if right[i] {
			l.WriteString(pad + c)
		} else {
			l.WriteString(c + pad)
		}
	}
	return l.String()
}

// eachIncident calls write for every incident and writes out what it
// put in b after each, so that a report is never held whole.
func eachIncident(w io.Writer, b *strings.Builder, ins Incidents, write func(int, *incident.Incident)) error {
	for i, in := range ins.All() {
		write(i, in)
		if err := flush(w, b); err != nil {
			return err
		}
	}
	return ins.Err()
}

func flush(w io.Writer, b *strings.Builder) error {
	if b.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(w, b.String())
	b.Reset()
	return err
}

// fmtTime formats a time for people, in its own zone.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(humanTime)
}

// fmtDuration rounds to the second: "18s", "1m02s", "2h05m".
func fmtDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
}

// window says which part of the input the report covers.
func window(a *Analysis) string {
	switch {
	case a.Since.IsZero() && a.Until.IsZero():
		return "all records"
	case a.Until.IsZero():
		return "from " + fmtTime(a.Since)
	case a.Since.IsZero():
		return "until " + fmtTime(a.Until)
	}
	return fmtTime(a.Since) + " – " + fmtTime(a.Until)
}

// incidentWindow is an incident's span as the reports print it: "19:57:15 –
// 19:58:04 (49s)", and ", still open" while it is.
func incidentWindow(in *incident.Incident) string {
	w := fmt.Sprintf("%s – %s (%s)", fmtTime(in.Start), fmtTime(in.End), fmtDuration(in.Duration()))
	if in.Open {
		w += ", still open"
	}
	return w
}

// zone names the zone the times are printed in, taken from the first
// incident (the caller puts all times in one zone), else the report time.
func zone(a *Analysis) string { return zoneName(zoneTime(a)) }

// zoneName is the zone of t, as zone gives it; "" for a zero t.
func zoneName(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("MST")
}

// zoneTime is the time whose zone a report prints times in: the first
// incident's start, else when the report was made; zero when neither.
func zoneTime(a *Analysis) time.Time { return zoneTimeOf(a.first(), a) }

// zoneTimeOf is zoneTime for a report whose first incident is first
// (nil: none), found already.
func zoneTimeOf(first *incident.Incident, a *Analysis) time.Time {
	if first != nil && !first.Start.IsZero() {
		return first.Start
	}
	return a.Generated
}

func incidentTitle(in *incident.Incident) string {
	switch {
	case in.Title != "":
		return Clean(in.Title)
	case in.RootCause.Title != "":
		return Clean(in.RootCause.Title)
	}
	return "incident on " + subject(in)
}

func summaryTitle(in *incident.Incident) string {
	if in.DeployBlip {
		return "[deploy blip] " + incidentTitle(in)
	}
	return incidentTitle(in)
}

// subject is the kind and the subject, e.g. "socket unix:/run/php.sock".
func subject(in *incident.Incident) string {
	s := Clean(in.Subject)
	if in.SubjectKind != "" {
		s = Clean(in.SubjectKind) + " " + s
	}
	return strings.TrimSpace(s)
}

// sampleLabel says why a sample was kept: the incident keeps its first
// record, the first of each rule, and its last.
func sampleLabel(in *incident.Incident, i int) string {
	switch {
	case i == 0:
		return "first"
	case i == len(in.Samples)-1 && in.Samples[i].Time.Equal(in.End):
		return "last"
	}
	return "first of rule"
}

func sampleLocation(s incident.Sample) string {
	if s.Line > 0 {
		return Clean(s.File) + ":" + strconv.Itoa(s.Line)
	}
	return Clean(s.File)
}

func clientCount(n int64) string {
	if n >= incident.MaxClients {
		return strconv.Itoa(incident.MaxClients) + "+"
	}
	return strconv.FormatInt(n, 10)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
