package report

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/rules"
)

// spreadRate counts n records evenly from start to end.
func spreadRate(r *Rate, start, end time.Time, n int64) {
	for i := range n {
		d := time.Duration(0)
		if n > 1 {
			d = end.Sub(start) * time.Duration(i) / time.Duration(n-1)
		}
		r.Add(start.Add(d))
	}
}

// htmlAnalysis is testAnalysis with the problem records of its incidents
// and unknown messages counted for the timeline.
func htmlAnalysis() *Analysis {
	a := testAnalysis()
	a.Rate = &Rate{}
	for _, in := range a.incidents().All() {
		spreadRate(a.Rate, in.Start, in.End, in.Count)
	}
	for _, t := range a.Unknown {
		spreadRate(a.Rate, t.First, t.Last, t.Count)
	}
	return a
}

func TestHTMLGolden(t *testing.T) {
	analyses := []struct {
		name string
		a    func() *Analysis
	}{
		{"incidents", htmlAnalysis},
		{"empty", emptyAnalysis},
	}
	for _, an := range analyses {
		name := an.name + "_html"
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := HTML(&b, an.a()); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.String())
		})
	}
}

// hostileHTML is markup, a style and CDATA terminator, terminal escapes
// and a bidi override, for every field of an analysis that can come from
// a log or a rule file.
const hostileHTML = "<script>alert(1)</script>\"><img src=x onerror=alert(1)></style>]]>\x1b[31mred\x1b]0;title\x07\u202eevil"

func hostileHTMLAnalysis() *Analysis {
	a := htmlAnalysis()
	h := hostileHTML
	a.Host = h
	a.Inputs = append(a.Inputs, "/tmp/"+h+".log")
	in := a.Incidents.(List)[0]
	in.ID, in.Title, in.Subject, in.SubjectKind, in.Group = h, h, h, h, h
	in.RootCause = incident.RootCause{RuleID: h, Title: h, Cause: "cause " + h + " `" + h + "`", Count: 3}
	in.Remediation = []string{"fix `" + h + "` then " + h}
	in.Diagnostics = []string{"grep '" + h + "' /var/log/nginx/error.log"}
	in.CountsByRule = map[string]int64{h: 3}
	in.VHosts = []incident.Count{{Value: h, Count: 2}}
	in.Requests = []incident.Count{{Value: "GET /" + h + " HTTP/1.1", Count: 2}}
	in.Scripts = []incident.Count{{Value: "/var/www/" + h + ".php", Count: 1}}
	in.Pools = []string{h}
	in.Sources = []string{"/var/log/" + h}
	in.Samples = []incident.Sample{{Time: in.Start, File: h, Line: 7, RuleID: h, Text: "first " + h + "\nsecond " + h}}
	a.Unknown[0].Server, a.Unknown[0].Level, a.Unknown[0].Pattern, a.Unknown[0].Sample = h, h, h, h
	a.Coverage.UnmatchedSamples = []string{h}
	a.Coverage.Parser.UnparsedSamples = []string{h}
	a.Coverage.Matched[h] = 1
	return a
}

var (
	tagName   = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)`)
	tagAttrs  = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	onAttr    = regexp.MustCompile(`\son[a-z]+\s*=`)
	anyTag    = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	inlineTag = regexp.MustCompile(`</?(code|span|strong|a)\b[^>]*>`)
)

// htmlTags are the elements the report is made of.
var htmlTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"table": true, "tr": true, "td": true, "th": true, "h1": true, "h2": true, "h3": true,
	"p": true, "span": true, "strong": true, "code": true, "pre": true, "a": true, "br": true,
	"div": true, "ol": true, "ul": true, "li": true,
	"svg": true, "text": true, "line": true, "rect": true,
}

func TestHTMLEscapesLogText(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, hostileHTMLAnalysis()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range []string{"<script", "<img", `"><img`, "]]>", "\x1b", "\x07", "\u202e"} {
		if strings.Contains(out, raw) {
			i := strings.Index(out, raw)
			t.Errorf("output holds raw %q: …%s…", raw, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if n := strings.Count(out, "</style>"); n != 1 {
		t.Errorf("%d </style>, want only the report's own", n)
	}
	// Every element is one of the report's own; no tag carries an event
	// handler; every <title> (the page's and the SVG's) is closed.
	for _, m := range tagName.FindAllStringSubmatch(out, -1) {
		if !htmlTags[strings.ToLower(m[2])] {
			t.Errorf("unexpected element <%s%s>", m[1], m[2])
		}
	}
	for _, tag := range tagAttrs.FindAllString(out, -1) {
		if onAttr.MatchString(tag) {
			t.Errorf("event handler in %s", tag)
		}
	}
	if o, c := strings.Count(out, "<title>"), strings.Count(out, "</title>"); o != c || o < 2 {
		t.Errorf("%d <title> and %d </title>", o, c)
	}
	// The text is all there, inert: escaped for HTML, control characters
	// and the bidi override made visible by Clean.
	inert := "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/style&gt;]]&gt;\\x1b[31mred\\x1b]0;title\\x07\\u202eevil"
	if n := strings.Count(out, inert); n < 20 {
		t.Errorf("the inert form appears %d times, want it in every field (20 or more)", n)
	}
}

// TestHTMLIsSelfContained: nothing in the page makes a browser or a
// mail client fetch anything or run anything.
func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, htmlAnalysis()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"src=", "url(", "@import", "<link", "<script", "javascript:", "@font-face"} {
		if strings.Contains(out, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(out, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("link to %q leaves the page", m[1])
		}
	}
	for _, want := range []string{`<meta charset="utf-8">`, "<title>logtriage report: web1.example.com</title>", "<style>", "<svg"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestHTMLSaysWhatTextSays checks that every line of the text report's
// content is in the HTML: the HTML is the same report, not a summary.
func TestHTMLSaysWhatTextSays(t *testing.T) {
	a := htmlAnalysis()
	var b bytes.Buffer
	if err := HTML(&b, a); err != nil {
		t.Fatal(err)
	}
	page := inlineTag.ReplaceAllString(b.String(), "")
	page = html.UnescapeString(anyTag.ReplaceAllString(page, " "))
	page = strings.Join(strings.Fields(page), " ")
	var want []string
	for _, in := range a.incidents().All() {
		want = append(want, incidentTitle(in), subject(in), in.ID, in.RootCause.RuleID,
			fmt.Sprintf("%d, peak %d/min", in.Count, in.PeakPerMinute))
		for _, s := range in.Remediation {
			want = append(want, strings.Join(strings.Fields(strings.ReplaceAll(s, "`", "")), " "))
		}
		want = append(want, in.Diagnostics...)
		for _, s := range in.Samples {
			want = append(want, strings.Fields(s.Text)...)
		}
		for _, v := range append(append(append([]incident.Count{}, in.VHosts...), in.Requests...), in.Scripts...) {
			want = append(want, fmt.Sprintf("%s (%d)", v.Value, v.Count))
		}
		want = append(want, in.Sources...)
		for id, n := range in.CountsByRule {
			want = append(want, fmt.Sprintf("%d %s", n, id))
		}
	}
	for _, r := range coverageRows(a.Coverage) {
		want = append(want, r[0]+" "+r[1])
	}
	for _, u := range a.Unknown {
		want = append(want, u.Pattern, u.Sample, fmt.Sprintf("%d × %s %s", u.Count, u.Server, u.Level))
	}
	want = append(want, "1 more below the minimum severity not shown", "Deploy blip:", "4m12s", "HTTP 502, 504", "37 distinct",
		a.Inputs[0], a.Inputs[2], "2026-11-21 19:00:00 – 2026-11-21 21:00:00", "in UTC", "3 incidents", "2 critical", "1 warning",
		"PHP Warning: something without a timestamp")
	for _, w := range want {
		if w = strings.Join(strings.Fields(w), " "); !strings.Contains(page, w) {
			t.Errorf("the page does not say %q", w)
		}
	}
}

// chartSummary is what a test checks of a timeline.
type chartSummary struct {
	Label, Start, End string
	Columns           int
	Bars              []string // label@x+width y, where the label is
	Ticks             []string
	Undrawn           int
	Legend            []string
}

func summarize(c *svgChart) *chartSummary {
	if c == nil {
		return nil
	}
	s := &chartSummary{Label: c.Label, Start: c.Start, End: c.End, Columns: len(c.Columns), Undrawn: c.Undrawn}
	for _, b := range c.Bars {
		s.Bars = append(s.Bars, b.Label+"@"+b.X+"+"+b.W+" y"+b.Y+" "+b.Anchor+b.LX)
	}
	for _, tk := range c.Ticks {
		s.Ticks = append(s.Ticks, tk.Label)
	}
	for _, l := range c.Legend {
		s.Legend = append(s.Legend, l.Name)
	}
	return s
}

func rateOf(times ...time.Time) *Rate {
	r := &Rate{}
	for _, t := range times {
		r.Add(t)
	}
	return r
}

func brief(sev rules.Severity, start, end time.Time) *incident.Incident {
	return &incident.Incident{Title: "t", Subject: "s", Severity: sev, Start: start, End: end, Count: 1}
}

func TestChart(t *testing.T) {
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var crowd []*incident.Incident
	for range maxLanes + 2 {
		crowd = append(crowd, brief(rules.SeverityError, at("20:00:00"), at("20:30:00")))
	}
	tests := []struct {
		name string
		a    *Analysis
		want *chartSummary
	}{
		{"nothing", &Analysis{Rate: &Rate{}}, nil},
		{"no incidents, records", &Analysis{Rate: rateOf(at("19:57:15"), at("19:57:15"), at("19:59:40"))}, &chartSummary{
			Label: "Problem records per second", Start: "2026-11-21 19:57:15", End: "2026-11-21 19:59:41", Columns: 2,
			Ticks: []string{"19:57:30", "19:58:00", "19:58:30", "19:59:00", "19:59:30"},
		}},
		{"single minute, zero duration", &Analysis{
			Rate:      rateOf(at("19:57:15"), at("19:57:15"), at("19:57:15")),
			Incidents: List{brief(rules.SeverityCritical, at("19:57:15"), at("19:57:15"))},
		}, &chartSummary{
			Label: "Problem records per second", Start: "2026-11-21 19:57:15", End: "2026-11-21 19:58:15", Columns: 1,
			Bars:   []string{"#1@52.0+3.0 y137.0 start59.0"},
			Ticks:  []string{"19:57:20", "19:57:30", "19:57:40", "19:57:50", "19:58:00", "19:58:10"},
			Legend: []string{"critical"},
		}},
		{"incident at the very end", &Analysis{
			Since: at("19:00:00"), Until: at("20:00:00"),
			Incidents: List{brief(rules.SeverityNotice, at("19:59:59"), at("19:59:59"))},
		}, &chartSummary{
			Label: "Incidents over time", Start: "2026-11-21 19:00:00", End: "2026-11-21 20:00:00",
			Bars:   []string{"#1@837.0+3.0 y33.0 end833.0"}, // kept inside the plot
			Ticks:  []string{"19:10", "19:20", "19:30", "19:40", "19:50"},
			Legend: []string{"notice"},
		}},
		{"overlapping incidents take lanes", &Analysis{
			Rate: rateOf(at("20:00:00"), at("20:59:00")),
			Incidents: List{
				brief(rules.SeverityCritical, at("20:00:00"), at("20:30:00")),
				brief(rules.SeverityWarning, at("20:10:00"), at("20:20:00")),
				brief(rules.SeverityInfo, at("20:45:00"), at("20:59:00")),
			},
		}, &chartSummary{
			// The rate's buckets are 5 s wide: its last one ends at 20:59:05.
			Label: "Problem records per 30 s", Start: "2026-11-21 20:00:00", End: "2026-11-21 20:59:05", Columns: 2,
			Bars:   []string{"#1@52.0+400.1 y137.0 start456.1", "#2@185.4+133.4 y155.0 start322.7", "#3@652.2+186.7 y137.0 end648.2"},
			Ticks:  []string{"20:10", "20:20", "20:30", "20:40", "20:50"},
			Legend: []string{"critical", "warning", "info"},
		}},
		{"a tick label at the edge is left off", &Analysis{
			Since: at("20:00:00"), Until: at("20:10:01"),
			Incidents: List{brief(rules.SeverityError, at("20:01:00"), at("20:02:00"))},
		}, &chartSummary{
			Label: "Incidents over time", Start: "2026-11-21 20:00:00", End: "2026-11-21 20:10:01",
			Bars:   []string{"#1@130.7+78.7 y33.0 start213.3"},
			Ticks:  []string{"20:02", "20:04", "20:06", "20:08", ""},
			Legend: []string{"error"},
		}},
		{"more lanes than fit", &Analysis{Incidents: List(crowd)}, &chartSummary{
			Label: "Incidents over time", Start: "2026-11-21 20:00:00", End: "2026-11-21 20:30:00",
			Bars: func() []string {
				var bs []string
				for i := range maxLanes {
					bs = append(bs, fmt.Sprintf("#%d@52.0+788.0 y%.1f end836.0", i+1, 33+float64(i)*laneHeight))
				}
				return bs
			}(),
			Ticks:   []string{"20:05", "20:10", "20:15", "20:20", "20:25"},
			Undrawn: 2, Legend: []string{"error"},
		}},
		{"a month", &Analysis{
			Since: day0, Until: day0.AddDate(0, 1, 0),
			Rate: rateOf(day0.Add(time.Hour), day0.AddDate(0, 0, 14), day0.AddDate(0, 0, 29)),
			Incidents: List{
				brief(rules.SeverityError, day0.AddDate(0, 0, 14), day0.AddDate(0, 0, 14).Add(2*time.Hour)),
			},
		}, &chartSummary{
			Label: "Problem records per 4h16m", Start: "2026-11-01 00:00:00", End: "2026-12-01 00:00:00", Columns: 3,
			Bars:   []string{"#1@419.7+3.0 y137.0 start426.7"},
			Ticks:  []string{"Nov 8", "Nov 15", "Nov 22", "Nov 29"},
			Legend: []string{"error"},
		}},
		{"since without until ends at the report time", &Analysis{
			Since: at("18:00:00"), Generated: at("21:00:00"),
			Rate: rateOf(at("19:57:15")),
		}, &chartSummary{
			Label: "Problem records per minute", Start: "2026-11-21 18:00:00", End: "2026-11-21 21:00:00", Columns: 1,
			Ticks: []string{"18:30", "19:00", "19:30", "20:00", "20:30"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(newChart(tt.a))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("chart mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChartDrawsTheFirstIncidents: on a noisy day only the head of the
// report's list (the most severe) is drawn.
func TestChartDrawsTheFirstIncidents(t *testing.T) {
	var ins List
	for i := range maxDrawn + 5 {
		start := at("10:00:00").Add(time.Duration(i) * 10 * time.Minute)
		ins = append(ins, brief(rules.SeverityError, start, start.Add(time.Minute)))
	}
	a := &Analysis{Incidents: ins}
	c := newChart(a)
	var got []string
	for _, b := range c.Bars {
		got = append(got, b.Label)
	}
	var want []string
	for i := range maxDrawn {
		want = append(want, "#"+strconv.Itoa(i+1))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bars mismatch (-want +got):\n%s", diff)
	}
	if c.Undrawn != 5 {
		t.Errorf("Undrawn = %d, want 5", c.Undrawn)
	}
}

// TestChartStaysInPlot checks that no bar or column leaves the plot area,
// for windows that cut incidents and buckets.
func TestChartStaysInPlot(t *testing.T) {
	a := htmlAnalysis()
	a.Since, a.Until = at("19:58:00"), at("20:12:30") // cuts incidents 1 and 2
	c := newChart(a)
	var rects []svgRect
	for _, b := range c.Bars {
		rects = append(rects, b.svgRect)
	}
	rects = append(rects, c.Columns...)
	for _, r := range rects {
		x, _ := strconv.ParseFloat(r.X, 64)
		w, _ := strconv.ParseFloat(r.W, 64)
		if x < plotL || x+w > plotR+0.05 || w <= 0 {
			t.Errorf("rect %s+%s leaves the plot %v–%v (%s)", r.X, r.W, plotL, plotR, r.Title)
		}
	}
	if len(c.Bars) != 3 {
		t.Errorf("%d bars, want 3", len(c.Bars))
	}
}

func TestProse(t *testing.T) {
	tests := []struct {
		in   string
		want []htmlSpan
	}{
		{"", nil},
		{"plain\n  words", []htmlSpan{{Text: "plain words"}}},
		{"set `a = 1` in\nfile", []htmlSpan{{Text: "set "}, {Text: "a = 1", Code: true}, {Text: " in file"}}},
		{"`x``y`", []htmlSpan{{Text: "x", Code: true}, {Text: "y", Code: true}}},
		{"odd ` tick", []htmlSpan{{Text: "odd ` tick"}}},
		{"esc `\x1b[2J`", []htmlSpan{{Text: "esc "}, {Text: `\x1b[2J`, Code: true}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, prose(tt.in)); diff != "" {
			t.Errorf("prose(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestHTMLNil(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No incidents.") || strings.Contains(b.String(), "<svg") {
		t.Errorf("nil analysis:\n%s", b.String())
	}
}

// The timeline is drawn in the zone the report's header names, also
// with no incident and a window given in another zone.
func TestChartWindowInTheHeadersZone(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	a := &Analysis{
		Generated: time.Date(2026, 11, 21, 21, 0, 0, 0, time.UTC),
		Since:     time.Date(2026, 11, 21, 20, 0, 0, 0, cet),
		Until:     time.Date(2026, 11, 21, 22, 0, 0, 0, cet),
		Rate:      &Rate{},
	}
	a.Rate.Add(time.Date(2026, 11, 21, 19, 30, 0, 0, time.UTC))
	from, to, ok := chartWindow(a)
	if !ok {
		t.Fatal("no window")
	}
	if zone(a) != "UTC" || from.Location() != time.UTC || to.Location() != time.UTC {
		t.Errorf("header zone %q, window %v – %v; want both in UTC", zone(a), from, to)
	}
}

func newChart(a *Analysis) *svgChart { return chartOf(a, scanIncidents(a)) }

func chartWindow(a *Analysis) (from, to time.Time, ok bool) { return windowOf(a, scanIncidents(a)) }
