package report

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logtriage/logtriage/incident"
	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
	"github.com/logtriage/logtriage/timeline"
)

// Hostile log text for the browser: if either became markup, it would
// set an attribute on <body> that the dumped DOM shows.
const (
	hostileScript = `<script>document.body.setAttribute('data-pwned','script')</script>`
	hostileImg    = `"><img src=x onerror=document.body.setAttribute('data-pwned','img')>`
)

// hostileNginx is a record in the style of the nginx-10 scenario (PHP
// errors relayed by nginx) from an application that puts request input
// into its exception message, with a hostile vhost, request and socket
// path, so that it becomes an incident of its own with hostile subject,
// vhosts, requests and sample. (nginx writes a client's '"' as \x22 in
// its quoted fields, but relays PHP's stderr as PHP wrote it.)
var hostileNginx = `2026/11/21 20:01:46 [error] 32616#32616: *99 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Exception: bad order ` +
	hostileImg + ` in /srv/www/order.php:4" while reading response header from upstream, client: 127.0.0.1, server: ` + hostileScript +
	`, request: "GET /` + hostileScript + ` HTTP/1.1", upstream: "fastcgi://unix:/run/` + hostileScript + `.sock:", host: "shop.test"` + "\n"

// corpusAnalysis runs what `logtriage analyze` runs over the logs of a
// corpus scenario plus extra logs given as text: the timeline merge, the
// built-in rules, the incident engine, coverage and the rate of problem
// records.
func corpusAnalysis(t *testing.T, scenario string, extra map[string]string) *Analysis {
	t.Helper()
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", scenario, "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no logs in corpus scenario %s: %v", scenario, err)
	}
	var ins []timeline.Input
	for _, f := range files {
		ins = append(ins, timeline.Input{
			Name:    f,
			Open:    func() (io.ReadCloser, error) { return os.Open(f) },
			Options: parser.Options{File: filepath.Base(f), Location: time.UTC},
		})
	}
	for name, text := range extra {
		ins = append(ins, timeline.Input{
			Name:    name,
			Open:    func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil },
			Options: parser.Options{File: name, Location: time.UTC},
		})
	}
	cov := rules.NewCoverage(5)
	rate := &Rate{}
	var all []*incident.Incident
	eng := incident.New(incident.Config{Gap: 30 * time.Second, Recur: 5 * time.Minute, Final: func(in *incident.Incident) { all = append(all, in) }})
	results := timeline.Merge(context.Background(), ins, func(e *parser.Entry) {
		var m *rules.Match
		if found, ok := set.Match(e); ok {
			m = &found
		}
		cov.Count(e, m)
		if Problem(e, m) {
			rate.Add(e.Time)
		}
		eng.Add(e, m)
	})
	eng.Flush()
	a := &Analysis{Host: scenario, Generated: time.Date(2026, 11, 21, 21, 0, 0, 0, time.UTC), Coverage: cov, Rate: rate, Unknown: eng.Unknown()}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		a.Inputs = append(a.Inputs, r.Name)
		cov.AddFile(r.Stats)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Severity != all[j].Severity {
			return all[i].Severity > all[j].Severity
		}
		return all[i].Start.Before(all[j].Start)
	})
	a.Incidents = List(all)
	return a
}

// chromiumDOM loads an HTML file in headless Chromium and returns the DOM
// it built, serialised, after any script would have run.
func chromiumDOM(t *testing.T, page string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("chromium is needed for this test (.ci/run installs the Debian package chromium): %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+path)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "</html>") {
		t.Fatalf("chromium dumped no document:\n%s", stderr.String())
	}
	return stdout.String()
}

// domText is how Chromium serialises a text node.
func domText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

func TestHTMLInChromium(t *testing.T) {
	a := corpusAnalysis(t, "nginx-10-php-errors", map[string]string{"hostile-error.log": hostileNginx})
	var hostile *incident.Incident
	for _, in := range a.incidents().All() {
		if strings.Contains(in.Subject, "<script>") {
			hostile = in
		}
	}
	if hostile == nil || a.Incidents.Len() < 2 {
		t.Fatalf("the hostile record did not become an incident of its own: %d incidents", a.Incidents.Len())
	}
	if len(hostile.VHosts) == 0 || !strings.Contains(hostile.VHosts[0].Value, "<script>") ||
		len(hostile.Requests) == 0 || len(hostile.Samples) == 0 || !strings.Contains(hostile.Samples[0].Text, hostileImg) {
		t.Fatalf("the hostile incident lacks its hostile vhost, request or sample: %+v", hostile)
	}
	var b bytes.Buffer
	if err := HTML(&b, a); err != nil {
		t.Fatal(err)
	}
	dom := chromiumDOM(t, b.String())

	for _, in := range a.incidents().All() {
		if title := domText(incidentTitle(in)); !strings.Contains(dom, title) {
			t.Errorf("incident title %q is not in the page", title)
		}
	}
	lower := strings.ToLower(dom)
	for _, tag := range []string{"<script", "<img", "<iframe", "<object", "<embed", "<link", "<base", "<meta http-equiv"} {
		if strings.Contains(lower, tag) {
			t.Errorf("the page has a %s> element", tag)
		}
	}
	if strings.Contains(dom, "data-pwned=") {
		t.Error("log text ran as script")
	}
	// The hostile strings are there, as text: the script in the subject
	// (summary, section, SVG title), the vhost, the request and the
	// sample; the img in the sample.
	for _, c := range []struct {
		s    string
		want int
	}{{hostileScript, 6}, {hostileImg, 1}} {
		if n := strings.Count(dom, domText(c.s)); n < c.want {
			t.Errorf("%q appears %d times as text, want at least %d", c.s, n, c.want)
		}
	}
	if !strings.Contains(dom, "<svg") || !strings.Contains(dom, "<title>#") {
		t.Error("the page has no timeline with incident titles")
	}
}

// TestChromiumCatchesMarkup shows that TestHTMLInChromium's checks would
// fail if log text reached the page as markup: the same hostile strings,
// pasted in unescaped, run in Chromium.
func TestChromiumCatchesMarkup(t *testing.T) {
	page := "<!DOCTYPE html><html><head><title>x</title></head><body><p>" + hostileImg + "</p><div>" + hostileScript + "</div></body></html>"
	dom := chromiumDOM(t, page)
	if !strings.Contains(dom, "data-pwned=") || !strings.Contains(strings.ToLower(dom), "<img") {
		t.Errorf("unescaped markup did not run; the checks of TestHTMLInChromium prove nothing:\n%s", dom)
	}
}
