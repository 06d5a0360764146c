package incident

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logtriage/logtriage/parser"
	"github.com/logtriage/logtriage/rules"
)

// run parses the log text (records in time order), matches and feeds the
// engine, and returns the final incidents and the engine.
func run(t *testing.T, text string, cfg Config) ([]*Incident, *Engine) {
	t.Helper()
	set, err := rules.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Incident
	cfg.Final = func(in *Incident) { out = append(out, in) }
	eng := New(cfg)
	_, err = parser.Scan(strings.NewReader(text), parser.Options{File: "test.log", Location: time.UTC}, func(e *parser.Entry) {
		if m, ok := set.Match(e); ok {
			eng.Add(e, &m)
		} else {
			eng.Add(e, nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	eng.Flush()
	return out, eng
}

func nginxLine(at time.Time, conn int, msg, ctx string) string {
	return fmt.Sprintf("%s [error] 10#10: *%d %s, client: 192.0.2.%d, server: shop.test, request: \"GET /p%d HTTP/1.1\"%s, host: \"shop.test\"\n",
		at.Format("2006/01/02 15:04:05"), conn, msg, conn%200, conn%7, ctx)
}

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// An outage whose lines arrive once per upstream timeout (60 s) is one
// incident, not one per line.
func TestPeriodicTimeoutsStayOneIncident(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		b.WriteString(nginxLine(t0.Add(time.Duration(i)*time.Minute), i+1,
			"upstream timed out (110: Connection timed out) while reading response header from upstream", `, upstream: "http://10.0.0.5:8080/p"`))
	}
	got, _ := run(t, b.String(), Config{})
	if len(got) != 1 {
		t.Fatalf("%d incidents, want 1", len(got))
	}
	in := got[0]
	if in.Count != 10 || !in.Start.Equal(t0) || !in.End.Equal(t0.Add(9*time.Minute)) || in.Subject != "10.0.0.5:8080" {
		t.Errorf("incident %+v", in)
	}
	if in.RootCause.RuleID != "nginx.upstream.timeout.read_header" || len(in.Remediation) == 0 || len(in.Diagnostics) == 0 {
		t.Errorf("root cause %+v", in.RootCause)
	}
	if in.Clients != 10 || len(in.VHosts) != 1 || in.VHosts[0].Value != "shop.test" || in.PeakPerMinute != 1 {
		t.Errorf("clients %d vhosts %v peak %d", in.Clients, in.VHosts, in.PeakPerMinute)
	}
}

// After the recurrence window the same symptom is a new incident.
func TestLongQuietSplits(t *testing.T) {
	msg := "connect() failed (111: Connection refused) while connecting to upstream"
	ctx := `, upstream: "http://10.0.0.5:8080/p"`
	text := nginxLine(t0, 1, msg, ctx) + nginxLine(t0.Add(time.Second), 2, msg, ctx) + nginxLine(t0.Add(20*time.Minute), 3, msg, ctx)
	got, _ := run(t, text, Config{})
	if len(got) != 2 || got[0].Count != 2 || got[1].Count != 1 {
		t.Fatalf("got %d incidents: %+v", len(got), got)
	}
	if got[0].ID == got[1].ID {
		t.Errorf("ids collide: %s", got[0].ID)
	}
}

// Client-side noise on the same site never joins a backend outage, and
// context records (buffering warnings) start no incident.
func TestClientNoiseStaysApart(t *testing.T) {
	text := nginxLine(t0, 1, "connect() failed (111: Connection refused) while connecting to upstream", `, upstream: "http://10.0.0.5:8080/p"`) +
		nginxLine(t0.Add(time.Second), 2, `limiting requests, excess: 20.580 by zone "api"`, "") +
		strings.Replace(nginxLine(t0.Add(2*time.Second), 3, "a client request body is buffered to a temporary file /var/lib/nginx/body/0000000012", ""), "[error]", "[warn]", 1)
	got, _ := run(t, text, Config{})
	if len(got) != 2 {
		t.Fatalf("%d incidents, want 2 (backend, limit_req)", len(got))
	}
	for _, in := range got {
		if in.Count != 1 {
			t.Errorf("%s has %d records: %v", in.Group, in.Count, in.CountsByRule)
		}
	}
}

// nginx "no live upstreams" names the group: it joins its members' incident.
func TestNoLiveJoinsMembers(t *testing.T) {
	text := nginxLine(t0, 1, "connect() failed (111: Connection refused) while connecting to upstream", `, upstream: "http://10.0.0.5:8080/p"`) +
		nginxLine(t0.Add(time.Second), 2, "no live upstreams while connecting to upstream", `, upstream: "http://api_backend/p"`)
	got, _ := run(t, text, Config{})
	if len(got) != 1 || got[0].CountsByRule["nginx.upstream.no_live"] != 1 || got[0].Subject != "10.0.0.5:8080" {
		t.Fatalf("got %d incidents: %+v", len(got), got)
	}
}

// A php-fpm restart with a few seconds of refused connections inside it is
// a deploy blip, not an outage.
func TestDeployBlip(t *testing.T) {
	fpm := func(at time.Time, level, msg string) string {
		return fmt.Sprintf("[%s] %s: %s\n", at.Format("02-Jan-2006 15:04:05"), level, msg)
	}
	sock := `, upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:"`
	msg := "connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream"
	text := fpm(t0, "NOTICE", "Terminating ...") + fpm(t0, "NOTICE", "exiting, bye-bye!") +
		strings.Replace(nginxLine(t0.Add(time.Second), 1, msg, sock), "[error]", "[crit]", 1) +
		strings.Replace(nginxLine(t0.Add(2*time.Second), 2, msg, sock), "[error]", "[crit]", 1) +
		fpm(t0.Add(3*time.Second), "NOTICE", "fpm is running, pid 42") + fpm(t0.Add(3*time.Second), "NOTICE", "ready to handle connections")
	got, _ := run(t, text, Config{})
	if len(got) != 1 || !got[0].DeployBlip || got[0].Severity != rules.SeverityWarning {
		t.Fatalf("got %+v", got)
	}
	// The same errors without the service coming back are an outage.
	text = fpm(t0, "NOTICE", "Terminating ...") + strings.Replace(nginxLine(t0.Add(time.Second), 1, msg, sock), "[error]", "[crit]", 1)
	got, _ = run(t, text, Config{})
	if len(got) != 1 || got[0].DeployBlip || got[0].Severity != rules.SeverityCritical {
		t.Fatalf("without ready: %+v", got)
	}
}

// Memory per incident is bounded whatever the input: samples, top tables
// and the client set have caps.
func TestIncidentMemoryBounded(t *testing.T) {
	var b strings.Builder
	for i := range 30000 {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		fmt.Fprintf(&b, "%s [error] 10#10: *%d upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.%d.%d.%d, server: shop.test, request: \"GET /item/%d HTTP/1.1\", upstream: \"http://10.0.0.5:8080/item\", host: \"shop.test\"\n",
			at.Format("2006/01/02 15:04:05"), i, i>>16&255, i>>8&255, i&255, i)
	}
	got, eng := run(t, b.String(), Config{})
	if len(got) != 1 {
		t.Fatalf("%d incidents", len(got))
	}
	in := got[0]
	if in.Count != 30000 || len(in.Samples) > maxSamples || len(in.Requests) > 5 || in.Clients != MaxClients {
		t.Errorf("count %d samples %d requests %d clients %d", in.Count, len(in.Samples), len(in.Requests), in.Clients)
	}
	if len(eng.open) != 0 || len(eng.recent) != 0 {
		t.Errorf("engine keeps %d open and %d recent incidents after flush", len(eng.open), len(eng.recent))
	}
}

func TestUnknownTemplates(t *testing.T) {
	var b strings.Builder
	for i := range 5 {
		b.WriteString(nginxLine(t0.Add(time.Duration(i)*time.Second), i+1, fmt.Sprintf(`frobnicator "/srv/x%d" exploded at 0x%x after %d tries`, i, i*4096, i), ""))
	}
	_, eng := run(t, b.String(), Config{})
	u := eng.Unknown()
	if len(u) != 1 || u[0].Count != 5 || u[0].Pattern != `frobnicator "<*>" exploded at <*> after <*> tries` {
		t.Fatalf("templates %+v", u)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		`connect() to 10.0.0.1:8080 failed (111: Connection refused)`:      `connect() to <*> failed (<*> Connection refused)`,
		`open() "/var/www/a.png" failed (2: No such file or directory)`:    `open() "<*>" failed (<*> No such file or directory)`,
		"upstream: unix:/run/php.sock:\nstack trace":                       `upstream: <*>`,
		`AH01234: thing for (localhost:8080) [::1]:80 took 12.5 ms *42 ok`: `AH01234: thing for (localhost:8080) <*> took <*> ms <*> ok`,
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestTemplatesBounded(t *testing.T) {
	ts := NewTemplates(3)
	for i := range 10 {
		ts.Add(&parser.Entry{Server: parser.Nginx, Level: parser.LevelError, Message: fmt.Sprintf("kind%c broke", 'a'+i)})
	}
	l := ts.List()
	if len(l) != 4 || l[3].Pattern != "(other shapes)" || l[3].Count != 7 {
		t.Fatalf("templates %+v", l)
	}
}

// Add counts one record under its template.
func (ts *Templates) Add(en *parser.Entry) { ts.add(en, Mask(en.Message)) }

// A user's rule may give a subject of kind pool to another server's
// record, on the backend group: that record finds the incident of the
// pool as php-fpm's own records do, instead of opening a second one
// under its key, which would leave the first out of the report.
func TestUserPoolRuleJoinsThePoolIncident(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pool.yaml")
	const rule = `rules:
  - id: site.nginx.pool_saturated
    servers: [nginx]
    anchor: 'poolmon: '
    pattern: '^poolmon: pool (?P<pool>\w+) saturated'
    severity: error
    category: capacity
    role: symptom
    title: The pool monitor says a pool is saturated
    cause: Every child of the pool is busy.
    remediation: ["Raise pm.max_children."]
    diagnostics: ["ss -xlp"]
    subject: {kind: pool, value: '{pool}'}
    examples:
      - line: '2026/11/21 10:00:01 [error] 10#10: poolmon: pool www saturated'
        subject: www
      - line: '2026/11/21 10:00:01 [error] 10#10: poolmon: pool api saturated'
        subject: api
`
	if err := os.WriteFile(file, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Load(false, file)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Incident
	f := &feeder{t: t, set: set, eng: New(Config{Final: func(in *Incident) { got = append(got, in) }})}
	for _, line := range []string{
		"[21-Nov-2026 10:00:00] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n",
		"2026/11/21 10:00:01 [error] 10#10: poolmon: pool www saturated\n",
		"[21-Nov-2026 10:00:02] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n",
	} {
		f.feed(line)
		checkOpen(t, f.eng)
	}
	f.eng.Flush()
	var count int64
	for _, in := range got {
		count += in.Count
	}
	if len(got) != 1 || count != 3 {
		for _, in := range got {
			t.Logf("incident %s %q: %d records", in.ID, in.Subject, in.Count)
		}
		t.Errorf("%d incidents with %d records, want 1 with 3", len(got), count)
	}
}
