package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"iter"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

//go:embed html.tmpl
var htmlSource string

// htmlTemplate escapes by context: text, attributes, the inline CSS and
// the SVG <title> elements. Every string that came from a log is also
// passed through Clean first, so that control characters and bidi
// overrides show as escapes instead of reordering the text around them.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// HTML writes an analysis as one self-contained HTML document for a
// browser or the HTML part of a mail: inline CSS, an inline SVG timeline,
// no script and nothing fetched from elsewhere. It says what Text says.
func HTML(w io.Writer, a *Analysis) error {
	if a == nil {
		a = &Analysis{}
	}
	v := newHTMLView(a)
	if err := htmlTemplate.Execute(w, v); err != nil {
		return err
	}
	return v.err
}

// sevStyle is how a severity looks: white text on Fg passes WCAG AA
// (4.5:1 and more) for every severity, and so does Fg on white; Tint
// and Line are the background and border of its root-cause box.
type sevStyle struct {
	Name string
	Fg   string
	Tint string
	Line string
}

var sevStyles = map[rules.Severity]sevStyle{
	rules.SeverityCritical: {"critical", "#9f1239", "#fff1f2", "#fecdd3"},
	rules.SeverityError:    {"error", "#dc2626", "#fef2f2", "#fecaca"},
	rules.SeverityWarning:  {"warning", "#b45309", "#fffbeb", "#fde68a"},
	rules.SeverityNotice:   {"notice", "#1d4ed8", "#eff6ff", "#bfdbfe"},
	rules.SeverityInfo:     {"info", "#4b5563", "#f9fafb", "#e5e7eb"},
}

func styleOf(s rules.Severity) sevStyle {
	if st, ok := sevStyles[s]; ok {
		return st
	}
	st := sevStyles[rules.SeverityInfo]
	st.Name = s.String()
	return st
}

// The CSS is ours, never log text, so it is marked safe for the template.
func (s sevStyle) Pill() template.CSS {
	return template.CSS("background:" + s.Fg + ";color:#ffffff;")
}

func (s sevStyle) Swatch() template.CSS {
	return template.CSS("background:" + s.Fg + ";")
}

func (s sevStyle) Section() template.CSS {
	return template.CSS("border-left:4px solid " + s.Fg + ";")
}

func (s sevStyle) Box() template.CSS {
	return template.CSS("background:" + s.Tint + ";border:1px solid " + s.Line + ";")
}

type htmlView struct {
	Title       string
	Meta        []htmlKV
	Inputs      []string
	Count       string // "3 incidents"
	BySeverity  []htmlSevCount
	Hidden      int
	ReadSummary string
	Chart       *svgChart
	Rows        iter.Seq[htmlRow]      // the summary; nil when there is no incident
	Incidents   iter.Seq[htmlIncident] // nil when there is none
	Coverage    *htmlCoverage
	Unknown     []htmlTemplateRow
	err         error // the first pass over the incidents that stopped short
}

// pass notes why a pass over ins stopped short, if it did.
func (v *htmlView) pass(ins Incidents) {
	if v.err == nil {
		v.err = ins.Err()
	}
}

type htmlKV struct{ Key, Value string }

type htmlSevCount struct {
	N   int
	Sev sevStyle
}

type htmlCount struct {
	Value string
	Count int64
}

// htmlSpan is a piece of rule prose: text, or code when the rule wrote it
// in backticks.
type htmlSpan struct {
	Text string
	Code bool
}

// htmlRow is an incident's row in the summary table.
type htmlRow struct {
	N            int
	Anchor       string
	SummaryTitle string
	Sev          sevStyle
	Subject      string
	Start        string
	Duration     string
	Count        int64
}

func newHTMLRow(in *incident.Incident, i int) htmlRow {
	return htmlRow{
		N: i + 1, Anchor: "incident-" + strconv.Itoa(i+1), SummaryTitle: summaryTitle(in), Sev: styleOf(in.Severity),
		Subject: subject(in), Start: fmtTime(in.Start), Duration: fmtDuration(in.Duration()), Count: in.Count,
	}
}

type htmlIncident struct {
	htmlRow
	Title        string
	DeployBlip   bool
	ID           string
	Window       string
	Peak         int64
	ByRule       []htmlCount
	HTTPStatus   string
	VHosts       []htmlCount
	Requests     []htmlCount
	Scripts      []htmlCount
	Clients      string
	Pools        string
	RootRule     string
	RootCount    string
	RootTitle    string
	RootCause    []htmlSpan
	Remediation  [][]htmlSpan
	Diagnostics  string
	Samples      []htmlSample
	Sources      []string
	SummaryTitle string
}

type htmlSample struct {
	Label, Time, RuleID, Location, Text string
}

type htmlCoverage struct {
	Rows       []htmlKV
	ByRule     []htmlCount
	Unmatched  string
	NUnmatched int
	Unparsed   string
	NUnparsed  int
}

type htmlTemplateRow struct {
	N                                   int
	Count                               int64
	Server, Level, First, Last, Pattern string
	Sample                              string
}

// seqOf is the incidents made into what the template ranges over, one
// at a time; a pass read to its end has its error recorded (v.pass).
func seqOf[T any](v *htmlView, ins Incidents, mk func(*incident.Incident, int) T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for i, in := range ins.All() {
			if !yield(mk(in, i)) {
				return
			}
		}
		v.pass(ins)
	}
}

func newHTMLView(a *Analysis) *htmlView {
	v := &htmlView{Title: "logtriage report", Hidden: a.Hidden}
	if a.Host != "" {
		v.Title += ": " + Clean(a.Host)
	}
	if !a.Generated.IsZero() {
		v.Meta = append(v.Meta, htmlKV{"generated", fmtTime(a.Generated)})
	}
	v.Meta = append(v.Meta, htmlKV{"window", window(a)})
	sc := scanIncidents(a)
	if z := zoneName(sc.zoneTime(a)); z != "" {
		v.Meta = append(v.Meta, htmlKV{"times", "in " + z})
	}
	for _, in := range a.Inputs {
		v.Inputs = append(v.Inputs, Clean(in))
	}
	ins := a.incidents()
	v.Count = plural(int64(ins.Len()), "incident")
	if ins.Len() == 0 {
		v.ReadSummary = readSummary(a)
	} else {
		// Made as the template reads them, one at a time: the summary
		// rows, then the incidents in full.
		v.Rows = seqOf(v, ins, newHTMLRow)
		v.Incidents = seqOf(v, ins, newHTMLIncident)
	}
	v.pass(ins)
	for s := rules.SeverityCritical; s > rules.SeverityNone; s-- {
		if n := sc.bySeverity[s]; n > 0 {
			v.BySeverity = append(v.BySeverity, htmlSevCount{n, styleOf(s)})
		}
	}
	v.Chart = chartOf(a, sc)
	if c := a.Coverage; c != nil {
		hc := &htmlCoverage{NUnmatched: len(c.UnmatchedSamples), NUnparsed: len(c.Parser.UnparsedSamples)}
		for _, r := range coverageRows(c) {
			hc.Rows = append(hc.Rows, htmlKV{r[0], r[1]})
		}
		for _, rc := range c.ByRule() {
			hc.ByRule = append(hc.ByRule, htmlCount{Clean(rc.ID), rc.Count})
		}
		hc.Unmatched = cleanBlock(c.UnmatchedSamples...)
		hc.Unparsed = cleanBlock(c.Parser.UnparsedSamples...)
		v.Coverage = hc
	}
	for i, t := range a.Unknown {
		v.Unknown = append(v.Unknown, htmlTemplateRow{
			N: i + 1, Count: t.Count, Server: Clean(t.Server), Level: Clean(t.Level),
			First: fmtTime(t.First), Last: fmtTime(t.Last), Pattern: Clean(t.Pattern), Sample: cleanBlock(t.Sample),
		})
	}
	return v
}

func newHTMLIncident(in *incident.Incident, i int) htmlIncident {
	h := htmlIncident{
		htmlRow: newHTMLRow(in, i), Title: incidentTitle(in), DeployBlip: in.DeployBlip, ID: Clean(in.ID),
		Peak:   in.PeakPerMinute,
		VHosts: htmlCounts(in.VHosts), Requests: htmlCounts(in.Requests), Scripts: htmlCounts(in.Scripts),
		RootRule: Clean(in.RootCause.RuleID), RootTitle: Clean(in.RootCause.Title), RootCause: prose(in.RootCause.Cause),
	}
	h.Window = incidentWindow(in)
	for _, id := range in.RuleIDs() {
		h.ByRule = append(h.ByRule, htmlCount{Clean(id), in.CountsByRule[id]})
	}
	if len(in.HTTPStatus) > 0 {
		h.HTTPStatus = "HTTP " + joinInts(in.HTTPStatus)
	}
	if in.Clients > 0 {
		h.Clients = clientCount(in.Clients) + " distinct"
	}
	if len(in.Pools) > 0 {
		pools := make([]string, len(in.Pools))
		for j, p := range in.Pools {
			pools[j] = Clean(p)
		}
		h.Pools = strings.Join(pools, ", ")
	}
	if in.RootCause.Count > 0 {
		h.RootCount = plural(in.RootCause.Count, "record")
	}
	for _, s := range in.Remediation {
		h.Remediation = append(h.Remediation, prose(s))
	}
	if len(in.Diagnostics) > 0 {
		cmds := make([]string, len(in.Diagnostics))
		for j, s := range in.Diagnostics {
			cmds[j] = "$ " + s
		}
		h.Diagnostics = cleanBlock(cmds...)
	}
	for j, s := range in.Samples {
		h.Samples = append(h.Samples, htmlSample{
			Label: sampleLabel(in, j), Time: fmtTime(s.Time), RuleID: Clean(s.RuleID),
			Location: sampleLocation(s), Text: cleanBlock(s.Text),
		})
	}
	for _, s := range in.Sources {
		h.Sources = append(h.Sources, Clean(s))
	}
	return h
}

func htmlCounts(cs []incident.Count) []htmlCount {
	out := make([]htmlCount, len(cs))
	for i, c := range cs {
		out[i] = htmlCount{Clean(c.Value), c.Count}
	}
	return out
}

// cleanBlock is untrusted multi-line text for a <pre>: every line
// cleaned, the texts one after the other.
func cleanBlock(texts ...string) string {
	var lines []string
	for _, t := range texts {
		lines = append(lines, CleanLines(strings.TrimRight(t, "\n"))...)
	}
	return strings.Join(lines, "\n")
}

// prose splits rule prose into text and the `code` the rule wrote in
// backticks, with lines joined (rule files wrap their prose) and every
// piece cleaned. An unpaired backtick stays as text.
func prose(s string) []htmlSpan {
	s = strings.Join(strings.Fields(s), " ")
	var out []htmlSpan
	for s != "" {
		open := strings.IndexByte(s, '`')
		if open < 0 {
			break
		}
		shut := strings.IndexByte(s[open+1:], '`')
		if shut < 0 {
			break
		}
		if open > 0 {
			out = append(out, htmlSpan{Text: Clean(s[:open])})
		}
		if code := s[open+1 : open+1+shut]; code != "" {
			out = append(out, htmlSpan{Text: Clean(code), Code: true})
		}
		s = s[open+shut+2:]
	}
	if s != "" {
		out = append(out, htmlSpan{Text: Clean(s)})
	}
	return out
}

// Timeline geometry, in SVG user units (CSS pixels at full width).
const (
	chartWidth = 852
	plotL      = 52.0
	plotR      = 840.0
	rateTop    = 28.0
	rateHeight = 96.0
	laneHeight = 18.0
	barHeight  = 12.0
	// maxDrawn and maxLanes keep the chart readable on a noisy day: the
	// first maxDrawn incidents of the report (the most severe) are drawn,
	// on at most maxLanes lanes; the others are counted, not drawn.
	maxDrawn = 40
	maxLanes = 12
	// maxColumns bounds the rate bars, so that each is a few pixels wide.
	maxColumns = 200
	// charWidth is about how wide a character of the axis labels is.
	charWidth = 6.2
)

// svgChart is the timeline: problem records per bucket above, incidents
// as bars on lanes below, one time axis.
type svgChart struct {
	Width, Height int
	PlotL, PlotR  string
	PlotW         string
	YLabelX       string
	Label         string // what the chart shows, top left
	Peak          string // the tallest column's count, on the y axis
	HasRate       bool
	RateTop       string
	RateBase      string
	Columns       []svgRect
	LanesTop      string
	LanesHeight   string
	Bars          []svgBar
	GridTop       string
	GridBottom    string
	Ticks         []svgTick
	AxisY         string // the tick labels
	EdgeY         string // the start and end labels, a row below
	Start, End    string
	Undrawn       int
	Legend        []sevStyle
}

type svgRect struct{ X, Y, W, H, Title string }

type svgBar struct {
	svgRect
	Fill                  string
	Label, LX, LY, Anchor string
	LabelFill             string
}

type svgTick struct{ X, Label string }

// incidentScan is what the chart and the summary need from the whole
// list of incidents, found in one pass over it.
type incidentScan struct {
	bySeverity map[rules.Severity]int
	lo, hi     time.Time            // the earliest start and the latest end
	drawn      []*incident.Incident // the first maxDrawn, to draw
	total      int
}

func scanIncidents(a *Analysis) incidentScan {
	sc := incidentScan{bySeverity: map[rules.Severity]int{}, total: a.incidents().Len()}
	for _, in := range a.incidents().All() {
		sc.bySeverity[in.Severity]++
		sc.widen(in.Start, in.End)
		if len(sc.drawn) < maxDrawn {
			sc.drawn = append(sc.drawn, in)
		}
	}
	return sc
}

// zoneTime is zoneTime(a), from the first incident the scan saw.
func (sc *incidentScan) zoneTime(a *Analysis) time.Time {
	var first *incident.Incident
	if len(sc.drawn) > 0 {
		first = sc.drawn[0]
	}
	return zoneTimeOf(first, a)
}

// widen makes the span take in s to e; a zero s is no time at all.
func (sc *incidentScan) widen(s, e time.Time) {
	if s.IsZero() {
		return
	}
	if sc.lo.IsZero() || s.Before(sc.lo) {
		sc.lo = s
	}
	if sc.hi.IsZero() || e.After(sc.hi) {
		sc.hi = e
	}
}

// chartOf lays out the timeline of the report window, or returns nil
// when there is nothing to draw; sc is scanIncidents(a).
func chartOf(a *Analysis, sc incidentScan) *svgChart {
	from, to, ok := windowOf(a, sc)
	if !ok {
		return nil
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(from).Seconds() / span
		return plotL + min(1, max(0, f))*(plotR-plotL)
	}
	c := &svgChart{
		Width: chartWidth, PlotL: num(plotL), PlotR: num(plotR), PlotW: num(plotR - plotL), YLabelX: num(plotL - 6),
		Start: fmtTime(from), End: fmtTime(to),
	}
	base := 20.0
	if r := a.Rate; r.Total() > 0 {
		c.HasRate = true
		base = rateTop + rateHeight
		r = r.coarsened(time.Duration(float64(to.Sub(from)) / maxColumns))
		c.Label = "Problem records per " + bucketName(r.Width())
		var peak int64
		for _, n := range r.counts {
			peak = max(peak, n)
		}
		c.Peak = strconv.FormatInt(peak, 10)
		start, w := r.Start().In(from.Location()), r.Width()
		for i, n := range r.counts {
			b0 := start.Add(time.Duration(i) * w)
			b1 := b0.Add(w)
			x0, x1 := x(b0), x(b1)
			if n == 0 || x1 <= x0 {
				continue
			}
			if x1-x0 > 3 {
				x1-- // a gap between neighbours
			}
			h := max(1, float64(n)/float64(peak)*rateHeight)
			c.Columns = append(c.Columns, svgRect{
				X: num(x0), Y: num(base - h), W: num(x1 - x0), H: num(h),
				Title: fmt.Sprintf("%s – %s: %s", fmtTime(b0), fmtTime(b1), plural(n, "record")),
			})
		}
	} else {
		c.Label = "Incidents over time"
	}
	c.RateTop, c.RateBase = num(rateTop), num(base)

	lanesTop := base + 10
	lanes := c.placeIncidents(sc.drawn, sc.total, x, lanesTop)
	bottom := base
	if lanes > 0 {
		bottom = lanesTop + float64(lanes)*laneHeight
		c.LanesTop, c.LanesHeight = num(lanesTop), num(float64(lanes)*laneHeight)
	}
	c.GridTop, c.GridBottom = num(rateTop-4), num(bottom)
	c.AxisY, c.EdgeY = num(bottom+15), num(bottom+31)
	c.Height = int(bottom) + 38
	for _, t := range ticks(from, to) {
		tick := svgTick{X: num(x(t.at))}
		// A label that would stick out of the picture is left off.
		if xt, half := x(t.at), charWidth*float64(len(t.label))/2; xt-half >= 2 && xt+half <= chartWidth-2 {
			tick.Label = t.label
		}
		c.Ticks = append(c.Ticks, tick)
	}
	return c
}

// placeIncidents draws the incidents ins, the first of total, each as a bar from
// its start to its end (at least 3 px, so that an incident of one record
// shows) with its number beside it, on the first lane where bar and
// number touch no other. It returns the lanes used.
func (c *svgChart) placeIncidents(ins []*incident.Incident, total int, x func(time.Time) float64, top float64) int {
	order := make([]int, len(ins))
	for i := range order {
		order[i] = i
	}
	c.Undrawn = total - len(order)
	sort.SliceStable(order, func(i, j int) bool { return ins[order[i]].Start.Before(ins[order[j]].Start) })
	var ends []float64 // per lane, the right edge of what is drawn on it
	seen := map[rules.Severity]bool{}
	for _, i := range order {
		in := ins[i]
		x0, x1 := x(in.Start), x(in.End)
		if x1-x0 < 3 {
			x1 = min(plotR, x0+3)
			x0 = x1 - 3
		}
		label := "#" + strconv.Itoa(i+1)
		lw := 7 * float64(len(label))
		// The number goes after the bar, else before it, else inside.
		bar := svgBar{Label: label, Anchor: "start", LX: num(x1 + 4), LabelFill: "#334155"}
		lo, hi := x0, x1+4+lw
		switch {
		case hi <= plotR:
		case x0-4-lw >= plotL:
			bar.Anchor, bar.LX = "end", num(x0-4)
			lo, hi = x0-4-lw, x1
		default:
			bar.Anchor, bar.LX, bar.LabelFill = "end", num(x1-4), "#ffffff"
			hi = x1
		}
		lane := -1
		for l, end := range ends {
			if end+6 <= lo {
				lane = l
				break
			}
		}
		if lane < 0 {
			if len(ends) == maxLanes {
				c.Undrawn++
				continue
			}
			lane = len(ends)
			ends = append(ends, 0)
		}
		ends[lane] = hi
		y := top + float64(lane)*laneHeight + (laneHeight-barHeight)/2
		st := styleOf(in.Severity)
		bar.svgRect = svgRect{
			X: num(x0), Y: num(y), W: num(x1 - x0), H: num(barHeight),
			Title: fmt.Sprintf("#%d %s: %s; %s; %s – %s (%s), %s", i+1, st.Name, incidentTitle(in), subject(in),
				fmtTime(in.Start), fmtTime(in.End), fmtDuration(in.Duration()), plural(in.Count, "record")),
		}
		bar.Fill = st.Fg
		bar.LY = num(y + barHeight - 2)
		c.Bars = append(c.Bars, bar)
		seen[in.Severity] = true
	}
	for s := rules.SeverityCritical; s > rules.SeverityNone; s-- {
		if seen[s] {
			c.Legend = append(c.Legend, styleOf(s))
		}
	}
	return len(ends)
}

// windowOf is the time the timeline spans: the requested window where
// the caller gave one, else from the first to the last problem record or
// incident (sc is scanIncidents(a)). A window shorter than a minute is
// widened to one, so that a single burst is not stretched across the
// page.
func windowOf(a *Analysis, sc incidentScan) (from, to time.Time, ok bool) {
	if a.Rate.Total() > 0 {
		sc.widen(a.Rate.Start(), a.Rate.End())
	}
	lo, hi := sc.lo, sc.hi
	if lo.IsZero() {
		return from, to, false
	}
	from, to = a.Since, a.Until
	if from.IsZero() {
		from = lo
	}
	if to.IsZero() {
		to = hi
		if !a.Since.IsZero() && a.Generated.After(to) {
			to = a.Generated // --since 2h: up to now, quiet time included
		}
	}
	switch {
	case to.Sub(from) >= time.Minute:
	case a.Until.IsZero():
		to = from.Add(time.Minute)
	case a.Since.IsZero():
		from = to.Add(-time.Minute)
	case !to.After(from):
		to = from.Add(time.Second)
	}
	loc := from.Location()
	if t := sc.zoneTime(a); !t.IsZero() {
		loc = t.Location() // the zone the header names
	}
	return from.In(loc), to.In(loc), true
}

// bucketName is a bucket width for the chart label: "second", "5 s",
// "minute", "4 min", "1h04m".
func bucketName(w time.Duration) string {
	switch {
	case w == time.Second:
		return "second"
	case w < time.Minute:
		return strconv.Itoa(int(w/time.Second)) + " s"
	case w == time.Minute:
		return "minute"
	case w < time.Hour:
		return strconv.Itoa(int(w/time.Minute)) + " min"
	}
	return fmtDuration(w)
}

type tick struct {
	at    time.Time
	label string
}

var tickSteps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	day, 2 * day, 7 * day, 14 * day, 28 * day, 91 * day, 182 * day, 364 * day,
}

const day = 24 * time.Hour

// ticks returns up to six round times strictly inside (from, to), on
// the wall clock of from's zone, with short labels.
func ticks(from, to time.Time) []tick {
	span := to.Sub(from)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 6 {
			step = s
			break
		}
	}
	var out []tick
	add := func(t time.Time) {
		layout := "15:04"
		switch {
		case step < time.Minute:
			layout = "15:04:05"
		case step >= 91*day:
			layout = "Jan 2006"
		case step >= day || t.Hour() == 0 && t.Minute() == 0:
			layout = "Jan 2"
		}
		out = append(out, tick{t, t.Format(layout)})
	}
	if step < day {
		_, off := from.Zone()
		sec := int64(step / time.Second)
		for u := ceilTo(from.Unix()+int64(off), sec) - int64(off); len(out) < 12; u += sec {
			t := time.Unix(u, 0).In(from.Location())
			if !t.Before(to) {
				break
			}
			if t.After(from) {
				add(t)
			}
		}
		return out
	}
	d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	for ; len(out) < 12 && d.Before(to); d = d.AddDate(0, 0, int(step/day)) {
		if d.After(from) {
			add(d)
		}
	}
	return out
}

// num formats an SVG coordinate.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
