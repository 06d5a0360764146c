package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/internal/smtptest"
	"github.com/logtriage/logtriage/mailer"
)

// The digest mail tests run the CLI in-process and deliver to a real SMTP
// server (internal/smtptest) over STARTTLS with AUTH, the password given
// the way cron jobs give it, in LOGTRIAGE_SMTP_PASSWORD.

// fpmScenario is a corpus scenario with php-fpm pools saturated: several
// incidents of two severities, from three logs.
const fpmScenario = "../../testdata/corpus/nginx-04-fpm-saturated"

// digestDoc is what the tests read of a --format json digest.
type digestDoc struct {
	Host      string `json:"host"`
	Incidents []struct {
		Severity  string `json:"severity"`
		Title     string `json:"title"`
		Subject   string `json:"subject"`
		RootCause struct {
			RuleID string `json:"rule_id"`
		} `json:"root_cause"`
	} `json:"incidents"`
}

// copyLogs copies a scenario's logs into a new directory, byte for byte,
// so that a test can append to them; the state is keyed by path.
func copyLogs(t *testing.T, scenario string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(scenario, "*.log"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no logs in %s (%v)", scenario, err)
	}
	dir := t.TempDir()
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dir, filepath.Base(n))
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, to)
	}
	return out
}

// jsonDigest runs a --format json digest of logs with the state file
// st and returns its document: what a mail of the same run must say.
func jsonDigest(t *testing.T, st string, logs []string) digestDoc {
	t.Helper()
	r := runDigest(t, append([]string{"--state", st, "--since", "100000h", "--format", "json"}, logs...)...)
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("json digest: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var doc digestDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("json digest: %v\n%s", err, r.stdout)
	}
	if len(doc.Incidents) == 0 {
		t.Fatalf("json digest reports no incident:\n%s", r.stdout)
	}
	return doc
}

// mailArgs are the arguments of a digest run that mails logs through srv
// with STARTTLS and AUTH; the password comes from the environment.
func mailArgs(srv *smtptest.Server, st string, logs []string) []string {
	return append([]string{
		"--state", st, "--since", "100000h",
		"--mail-to", "a@example.com", "--mail-to", "b@example.com",
		"--mail-from", "logtriage@example.com",
		"--smtp", srv.URL("smtp"), "--smtp-user", srv.User, "--smtp-ca", srv.CAFile,
		"--smtp-timeout", "20s",
	}, logs...)
}

// mailDigest runs digest with mailArgs and expects it to succeed
// silently and to deliver exactly one new message, which it returns.
func mailDigest(t *testing.T, srv *smtptest.Server, st string, logs []string) smtptest.Message {
	t.Helper()
	before := len(srv.Messages(t))
	r := runDigest(t, mailArgs(srv, st, logs)...)
	noPassword(t, srv.Password, "stdout", []byte(r.stdout))
	noPassword(t, srv.Password, "stderr", []byte(r.stderr))
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("mail digest: exit %d, stdout %q, stderr %q; want 0 and silence", r.code, r.stdout, r.stderr)
	}
	msgs := srv.Messages(t)
	if len(msgs) != before+1 {
		t.Fatalf("server holds %d messages after a digest, had %d", len(msgs), before)
	}
	return msgs[len(msgs)-1]
}

func noPassword(t *testing.T, password, where string, b []byte) {
	t.Helper()
	if bytes.Contains(b, []byte(password)) {
		t.Errorf("%s shows the SMTP password", where)
	}
}

var messageIDRE = regexp.MustCompile(`^<[^<>@\s]+@example\.com>$`)

// checkDigestMail checks a delivered digest against the JSON digest of
// the same records: envelope, header fields, subject, both parts, and
// every incident's title and root cause in each part. It returns the
// parsed message.
func checkDigestMail(t *testing.T, m smtptest.Message, want digestDoc, password string, sent time.Time) smtptest.Parsed {
	t.Helper()
	if d := cmp.Diff([]string{"a@example.com", "b@example.com"}, m.RcptTos); d != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", d)
	}
	if m.MailFrom != "logtriage@example.com" || !m.TLS || !m.Auth {
		t.Errorf("envelope sender %q, TLS %v, AUTH %v; want logtriage@example.com over TLS with AUTH", m.MailFrom, m.TLS, m.Auth)
	}
	p := smtptest.Parse(t, m.Raw)
	if p.From != "logtriage@example.com" || p.To != "a@example.com, b@example.com" {
		t.Errorf("From %q, To %q", p.From, p.To)
	}
	if p.Date.Before(sent.Truncate(time.Second)) || p.Date.After(time.Now()) {
		t.Errorf("Date %v is not the time of the run (%v)", p.Date, sent)
	}
	if !messageIDRE.MatchString(p.MessageID) {
		t.Errorf("Message-ID %q does not match %s", p.MessageID, messageIDRE)
	}
	if p.MIMEVersion != "1.0" || p.Type != "multipart/alternative" {
		t.Errorf("MIME-Version %q, type %q; want 1.0, multipart/alternative", p.MIMEVersion, p.Type)
	}
	var types []string
	for _, part := range p.Parts {
		mt, params, err := mime.ParseMediaType(part.Type)
		if err != nil {
			t.Fatalf("part type %q: %v", part.Type, err)
		}
		types = append(types, mt+"; charset="+strings.ToLower(params["charset"]))
	}
	if d := cmp.Diff([]string{"text/plain; charset=utf-8", "text/html; charset=utf-8"}, types); d != "" {
		t.Fatalf("parts (-want +got):\n%s", d)
	}
	text, htm := p.Parts[0].Body, p.Parts[1].Body
	for i, in := range want.Incidents {
		for _, s := range []string{in.Title, in.RootCause.RuleID} {
			if !strings.Contains(text, s) {
				t.Errorf("incident %d: %q is not in the text part", i+1, s)
			}
			if !strings.Contains(htm, html.EscapeString(s)) {
				t.Errorf("incident %d: %q is not in the HTML part", i+1, s)
			}
		}
	}
	var incidents []string
	for _, l := range smtptest.HeaderLines(m.Raw) {
		if name, value, _ := strings.Cut(l, ":"); strings.EqualFold(name, "X-Logtriage-Incidents") {
			incidents = append(incidents, strings.TrimSpace(value))
		}
	}
	if d := cmp.Diff([]string{fmt.Sprint(len(want.Incidents))}, incidents); d != "" {
		t.Errorf("X-Logtriage-Incidents (-want +got):\n%s", d)
	}
	noPassword(t, password, "the message", m.Raw)
	noPassword(t, password, "the subject", []byte(p.Subject))
	noPassword(t, password, "the text part", []byte(text))
	noPassword(t, password, "the HTML part", []byte(htm))
	return p
}

// checkSubject checks a decoded subject against the JSON digest: the
// host, the number of incidents, how many have the worst severity, and
// what (the worst incident's title and subject, as a client shows them),
// cut to mailer.MaxSubject with "…" when longer.
func checkSubject(t *testing.T, got string, want digestDoc, what string) {
	t.Helper()
	w := want.Incidents[0] // worst first
	worst := 0
	for _, in := range want.Incidents {
		if in.Severity == w.Severity {
			worst++
		}
	}
	count := fmt.Sprintf("%d incidents", len(want.Incidents))
	if len(want.Incidents) == 1 {
		count = "1 incident"
	}
	prefix := fmt.Sprintf("[logtriage] %s: %s, %d %s — ", want.Host, count, worst, w.Severity)
	rest, ok := strings.CutPrefix(got, prefix)
	if !ok {
		t.Errorf("Subject %q does not start with %q", got, prefix)
		return
	}
	if rest == what {
		return
	}
	cut, ok := strings.CutSuffix(rest, "…")
	if !ok || !strings.HasPrefix(what, cut) || utf8.RuneCountInString(got) != mailer.MaxSubject {
		t.Errorf("Subject %q: want %q after the counts, or its first part cut to %d runes with …", got, what, mailer.MaxSubject)
	}
}

// TestDigestMailSMTP: a real outage's logs mailed over STARTTLS with AUTH
// say what a JSON digest of the same logs says; a run with nothing new
// sends nothing.
func TestDigestMailSMTP(t *testing.T) {
	srv := smtptest.Start(t, "starttls")
	t.Setenv("LOGTRIAGE_SMTP_PASSWORD", srv.Password)
	logs := copyLogs(t, fpmScenario)
	dir := t.TempDir()
	want := jsonDigest(t, filepath.Join(dir, "json-state.json"), logs)
	if len(want.Incidents) < 2 || want.Incidents[0].Severity != "critical" {
		t.Fatalf("the scenario should have several incidents, the worst critical: %+v", want.Incidents)
	}
	st := filepath.Join(dir, "state.json")

	sent := time.Now()
	m := mailDigest(t, srv, st, logs)
	p := checkDigestMail(t, m, want, srv.Password, sent)
	w := want.Incidents[0]
	checkSubject(t, p.Subject, want, w.Title+": "+w.Subject)
	t.Logf("Subject: %s", p.Subject)

	t.Run("nothing new", func(t *testing.T) {
		r := runDigest(t, mailArgs(srv, st, logs)...)
		if r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0 and silence", r.code, r.stdout, r.stderr)
		}
		if n := len(srv.Messages(t)); n != 1 {
			t.Errorf("server holds %d messages, want the first run's only", n)
		}
	})
}

// TestDigestMailDeliveryFails: a delivery that fails (the server refuses
// the password, or is gone) exits 2 with one line and leaves the state
// as it was; the next run that can deliver mails the same incidents.
func TestDigestMailDeliveryFails(t *testing.T) {
	srv := smtptest.Start(t, "starttls")
	t.Setenv("LOGTRIAGE_SMTP_PASSWORD", srv.Password)
	logs := copyLogs(t, fpmScenario)
	dir := t.TempDir()
	st := filepath.Join(dir, "state.json")
	mailDigest(t, srv, st, logs) // the corpus, delivered: a state to keep

	// New records: an upstream refusing connections, an hour after the
	// corpus ends.
	nginx := logs[slices.IndexFunc(logs, func(n string) bool { return filepath.Base(n) == "nginx-error.log" })]
	appendRefused(t, nginx, 5)
	saved, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	jsonState := filepath.Join(dir, "json-state.json")
	if err := os.WriteFile(jsonState, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	want := jsonDigest(t, jsonState, logs)

	fail := func(t *testing.T, srv *smtptest.Server, cause string) {
		t.Helper()
		before := len(srv.Messages(t))
		r := runDigest(t, mailArgs(srv, st, logs)...)
		t.Logf("stderr: %s", r.stderr)
		noPassword(t, srv.Password, "stderr", []byte(r.stderr))
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "logtriage: ") ||
			!strings.Contains(lines[0], cause) || !strings.Contains(lines[0], "state left as it was") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line saying %q and that the state was kept", r.code, r.stdout, r.stderr, cause)
		}
		if got, err := os.ReadFile(st); err != nil || !bytes.Equal(got, saved) {
			t.Errorf("the state file changed (%v)", err)
		}
		if n := len(srv.Messages(t)); n != before {
			t.Errorf("server received %d messages, had %d", n, before)
		}
	}
	t.Run("wrong password", func(t *testing.T) {
		t.Setenv("LOGTRIAGE_SMTP_PASSWORD", "wrong-"+srv.Password)
		fail(t, srv, "535")
	})
	t.Run("server gone", func(t *testing.T) {
		srv.Stop()
		fail(t, srv, "connection refused")
	})

	srv2 := smtptest.Start(t, "starttls")
	t.Setenv("LOGTRIAGE_SMTP_PASSWORD", srv2.Password)
	sent := time.Now()
	m := mailDigest(t, srv2, st, logs)
	p := checkDigestMail(t, m, want, srv2.Password, sent)
	w := want.Incidents[0]
	checkSubject(t, p.Subject, want, w.Title+": "+w.Subject)
	for _, part := range p.Parts {
		if strings.Contains(part.Body, "fpm.pool.max_children_reached") {
			t.Errorf("the mail after the failures reports the corpus again, not only the new records")
		}
	}
}

// appendRefused appends n records of an upstream refusing connections to
// an nginx log, an hour after its last record.
func appendRefused(t *testing.T, name string, n int) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last, err := time.Parse("2006/01/02 15:04:05", lines[len(lines)-1][:19])
	if err != nil {
		t.Fatalf("%s: last line: %v", name, err)
	}
	var buf strings.Builder
	for i := range n {
		at := last.Add(time.Hour + time.Duration(i)*time.Second)
		fmt.Fprintf(&buf, `%s [error] 7#7: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: api.test, request: "GET /v1/orders HTTP/1.1", upstream: "http://127.0.0.1:18099/v1/orders", host: "api.test"`+"\n",
			at.Format("2006/01/02 15:04:05"), 90000+i)
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(buf.String()); err != nil {
		t.Fatal(err)
	}
}

// hostile is what an attacker puts in the fields of a log line they
// control (an upstream URL, a socket path, a vhost): a line break and a
// header field, terminal escapes, and markup.
const hostile = "\r\nBcc: victim@example.com\r\n\x1b[31m\x1b]0;pwn\x07<script>alert(1)</script>"

// TestDigestMailHostile: log content reaches the subject and both parts,
// and none of it becomes a header field, a recipient or live markup.
func TestDigestMailHostile(t *testing.T) {
	srv := smtptest.Start(t, "starttls")
	t.Setenv("LOGTRIAGE_SMTP_PASSWORD", srv.Password)
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	// Inside one line a log can only hold the CR; the LF splits it, as it
	// would in nginx's log.
	inLine := strings.ReplaceAll(hostile, "\n", "")
	var b strings.Builder
	for i := range 3 {
		// The worst incident (critical, first): its subject, the upstream
		// peer, is hostile and goes into the mail's Subject.
		fmt.Fprintf(&b, `2025/03/04 05:06:0%d [error] 7#7: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: api.test, request: "GET /<script>x</script> HTTP/1.1", upstream: "http://127.0.0.1:9%s/", host: "api.test"`+"\n", i, i+1, inLine)
	}
	for i := range 3 {
		fmt.Fprintf(&b, `2025/03/04 05:07:0%d [error] 7#7: *%d connect() to unix:/run/php/x<script>alert(2)</script>%s.sock failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.test, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/x%s.sock:", host: "%sshop.test"`+"\n", i, i+10, "\x1b[2J", inLine, "\x1b]8;;http://evil\x1b\\")
		fmt.Fprintf(&b, `2025/03/04 05:08:0%d [error] 7#7: *%d connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop%s.test, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:10/", host: "shop%s.test"`+"\n", i, i+20, hostile, hostile)
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := jsonDigest(t, filepath.Join(dir, "json-state.json"), []string{log})
	if !strings.Contains(want.Incidents[0].Subject, "\rBcc: victim@example.com") {
		t.Fatalf("the worst incident's subject is %q, not the hostile upstream: the test would prove nothing", want.Incidents[0].Subject)
	}

	sent := time.Now()
	m := mailDigest(t, srv, filepath.Join(dir, "state.json"), []string{log})
	p := checkDigestMail(t, m, want, srv.Password, sent)
	// What a client shows: the line breaks made spaces, the escapes gone,
	// the markup plain text (a Subject is not HTML).
	checkSubject(t, p.Subject, want, want.Incidents[0].Title+": 127.0.0.1:9 Bcc: victim@example.com <script>alert(1)<")

	subjects := 0
	for _, l := range smtptest.HeaderLines(m.Raw) {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "subject":
			subjects++
		case "bcc", "cc":
			t.Errorf("header field %q", l)
		}
		if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 && r != '\t' || r >= 0x7f }) {
			t.Errorf("header field %q is not printable ASCII", l)
		}
	}
	if subjects != 1 {
		t.Errorf("%d Subject fields, want 1", subjects)
	}
	htm := p.Parts[1].Body
	if i := strings.Index(strings.ToLower(htm), "<script"); i >= 0 {
		t.Errorf("raw <script> in the HTML part: %q", htm[max(0, i-80):min(len(htm), i+80)])
	}
	if !strings.Contains(htm, "&lt;script&gt;") {
		t.Errorf("the HTML part does not show the log's <script> escaped: the test would prove nothing")
	}
	if text := p.Parts[0].Body; strings.ContainsAny(text, "\x1b\x07\r") {
		i := strings.IndexAny(text, "\x1b\x07\r")
		t.Errorf("control character in the text part: %q", text[max(0, i-80):min(len(text), i+80)])
	}
}
