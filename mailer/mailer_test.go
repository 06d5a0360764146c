package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/internal/smtptest"
)

// sample is a digest mail with non-ASCII in a display name and in both
// bodies, and an HTML line long enough to need soft line breaks.
func sample() Message {
	return Message{
		From:      "logtriage <logtriage@example.com>",
		To:        []string{"ops@example.com", "Équipe Ops <oncall@example.org>"},
		Subject:   "[logtriage] web1: 3 incidents, 1 critical — php-fpm pool www out of children",
		Text:      []byte("3 incidents\nphp-fpm pool www: server reached pm.max_children setting (5)\nnaïve ☃ = café\n"),
		HTML:      []byte("<!doctype html>\n<p>3 incidents: " + strings.Repeat("&lt;upstream&gt; refused ", 8) + "☃</p>\n"),
		Date:      time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600)),
		Incidents: 3,
	}
}

var messageIDRE = regexp.MustCompile(`^<logtriage\.[0-9a-f]{32}@example\.com>$`)

// checkMail checks a message as received against what m asked for, with
// the subject a client should show.
func checkMail(t *testing.T, raw []byte, m Message, subject string) {
	t.Helper()
	got := smtptest.Parse(t, raw)
	want := smtptest.Parsed{
		From:        "logtriage <logtriage@example.com>",
		To:          "ops@example.com, Équipe Ops <oncall@example.org>",
		Subject:     subject,
		MessageID:   got.MessageID, // random: checked below
		MIMEVersion: "1.0",
		Type:        "multipart/alternative",
		Date:        m.Date,
		Parts: []smtptest.Part{
			{Type: "text/plain; charset=UTF-8", Encoding: "quoted-printable", Body: string(m.Text)},
			{Type: "text/html; charset=UTF-8", Encoding: "quoted-printable", Body: string(m.HTML)},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("received message (-want +got):\n%s", d)
	}
	if !messageIDRE.MatchString(got.MessageID) {
		t.Errorf("Message-ID %q does not match %s", got.MessageID, messageIDRE)
	}
	var subjects, incidents []string
	for _, l := range smtptest.HeaderLines(raw) {
		for i := 0; i < len(l); i++ {
			if c := l[i]; c < 0x20 && c != '\t' || c >= 0x7f {
				t.Errorf("header field %q: byte %#x is not printable ASCII", l, c)
				break
			}
		}
		name, value, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "subject":
			subjects = append(subjects, value)
		case "x-logtriage-incidents":
			incidents = append(incidents, strings.TrimSpace(value))
		case "bcc", "cc", "reply-to":
			t.Errorf("unexpected header field %q", l)
		}
	}
	if len(subjects) != 1 {
		t.Errorf("%d Subject fields, want 1: %q", len(subjects), subjects)
	}
	if d := cmp.Diff([]string{fmt.Sprint(m.Incidents)}, incidents); d != "" {
		t.Errorf("X-Logtriage-Incidents (-want +got):\n%s", d)
	}
}

func TestWriteTo(t *testing.T) {
	m := sample()
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	checkMail(t, buf.Bytes(), m, m.Subject)
}

// hostileSubjects are subjects carrying log content an attacker controls
// (a pool name, a socket path, a request line) and what a mail client
// must show for each.
var hostileSubjects = []struct {
	name, subject, want string
}{
	{"header injection", "disk full\r\nBcc: victim@example.com\r\n\r\nbody", "disk full Bcc: victim@example.com body"},
	{"bare LF", "a\nBcc: victim@example.com", "a Bcc: victim@example.com"},
	{"bare CR", "a\rBcc: victim@example.com", "a Bcc: victim@example.com"},
	{"terminal escapes", "\x1b[31mred\x1b[0m \x1b]0;title\x07pool \x1b]8;;http://evil\x1b\\link", "red pool link"},
	{"C1 and DEL", "a\u0085b\u009b31mc\x7fd\x00e", "a bcde"},
	{"bidi override", "invoice\u202egnp.exe\u202c \u2066x\u2069", "invoicegnp.exe x"},
	{"zero width and BOM", "a\u200bb\ufeffc\u00add", "abcd"},
	{"non-ASCII", "php-fpm pool café — 日本語 ☃", "php-fpm pool café — 日本語 ☃"},
	{"invalid UTF-8", "pool \xff\xfe www", "pool \ufffd\ufffd www"},
	{"encoded word", "=?UTF-8?q?=E2=80=AEexe.txt?= =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ==?=", "=?UTF-8?q?=E2=80=AEexe.txt?= =?UTF-8?B?DQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ==?="},
	{"long", strings.Repeat("é", 400), strings.Repeat("é", MaxSubject-1) + "…"},
	{"everything", "[logtriage] web1: 1 incident, 1 critical — pool \"x\r\nBcc: victim@example.com\x1b[2J\u202e\" naïve", "[logtriage] web1: 1 incident, 1 critical — pool \"x Bcc: victim@example.com\" naïve"},
}

func TestWriteToHostileSubject(t *testing.T) {
	for _, tc := range hostileSubjects {
		t.Run(tc.name, func(t *testing.T) {
			m := sample()
			m.Subject = tc.subject
			var buf bytes.Buffer
			if _, err := m.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			checkMail(t, buf.Bytes(), m, tc.want)
			raw := rawSubject(buf.Bytes())
			needed := strings.Contains(tc.want, "=?") || strings.ContainsFunc(tc.want, func(r rune) bool { return r >= 0x80 })
			if encoded := strings.Contains(strings.ToUpper(raw), "=?UTF-8?"); encoded != needed {
				t.Errorf("Subject %q: RFC 2047 encoded = %v, want %v", raw, encoded, needed)
			}
		})
	}
}

func rawSubject(raw []byte) string {
	for _, l := range smtptest.HeaderLines(raw) {
		if name, value, _ := strings.Cut(l, ":"); strings.EqualFold(name, "subject") {
			return value
		}
	}
	return ""
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		from string
		to   []string
		want string
	}{
		{"logtriage@web1.example.com", []string{"ops@example.com"}, ""},
		{"Logtriage Ü <logtriage@web1>", []string{"a@example.com", "B <b@example.com>"}, ""},
		{"", []string{"ops@example.com"}, `--mail-from "": mail: no address`},
		{"logtriage", []string{"ops@example.com"}, `--mail-from "logtriage": mail: missing '@' or angle-addr`},
		{"logtriage@example.com", nil, `--mail-to: no recipient`},
		{"logtriage@example.com", []string{"ops@example.com", "x"}, `--mail-to "x": mail: missing '@' or angle-addr`},
		{"logtriage@example.com", []string{"a@example.com, b@example.com"}, `--mail-to "a@example.com, b@example.com": mail: expected single address, got ", b@example.com"`},
		{"logtriage@example.com", []string{"a@example.com\r\nBcc: victim@example.com"}, `--mail-to "a@example.com\r\nBcc: victim@example.com": mail: expected single address, got "\r\nBcc: victim@example.com"`},
		{"logtriage@example.com", []string{"opérations@example.com"}, `--mail-to "opérations@example.com": non-ASCII addresses are not supported`},
	} {
		t.Run(fmt.Sprintf("%s→%s", tc.from, strings.Join(tc.to, ";")), func(t *testing.T) {
			err := Message{From: tc.from, To: tc.to}.Check()
			if d := cmp.Diff(tc.want, errText(err)); d != "" {
				t.Errorf("Check (-want +got):\n%s", d)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// script writes an executable shell script into a temporary
// directory and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "sendmail")
	if err := os.WriteFile(name, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

// msmtp is the sendmail-compatible program the tests deliver through.
const msmtp = "/usr/bin/msmtp"

// msmtpSendmail is a sendmail for the tests: the real msmtp with a
// configuration that relays to port with STARTTLS and AUTH as user,
// trusting caFile. msmtp reads its configuration from -C; the wrapper
// passes it.
func msmtpSendmail(t *testing.T, port int, caFile, user, password string) string {
	t.Helper()
	if _, err := os.Stat(msmtp); err != nil {
		t.Fatalf("%s is needed for this test (.ci/run installs the Debian package msmtp): %v", msmtp, err)
	}
	conf := filepath.Join(t.TempDir(), "msmtprc")
	err := os.WriteFile(conf, fmt.Appendf(nil, `account default
host 127.0.0.1
port %d
from logtriage@example.com
tls on
tls_starttls on
tls_trust_file %s
auth on
user %s
password %s
timeout 10
`, port, caFile, user, password), 0o600) // msmtp refuses a password file others can read
	if err != nil {
		t.Fatal(err)
	}
	return script(t, fmt.Sprintf(`exec %s -C %s "$@"`, msmtp, conf))
}

func TestSendmailMsmtp(t *testing.T) {
	srv := smtptest.Start(t, "starttls")
	path := msmtpSendmail(t, srv.Port, srv.CAFile, srv.User, srv.Password)
	m := sample()
	m.Subject = hostileSubjects[len(hostileSubjects)-1].subject
	if err := Sendmail(t.Context(), path, m); err != nil {
		t.Fatal(err)
	}
	got := srv.Only(t)
	checkMail(t, got.Raw, m, hostileSubjects[len(hostileSubjects)-1].want)
	// msmtp -t took the recipients from the To header.
	if d := cmp.Diff([]string{"ops@example.com", "oncall@example.org"}, got.RcptTos); d != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", d)
	}
	if !got.TLS || !got.Auth {
		t.Errorf("msmtp delivered with TLS %v, AUTH %v; want both", got.TLS, got.Auth)
	}
}

func TestSendmailFails(t *testing.T) {
	closed := smtptest.FreePort(t) // nothing listens there
	msmtpPath := msmtpSendmail(t, closed, smtptest.NewCA(t).CAFile, "digest", "unused")
	tests := []struct {
		name string
		path string
		want *regexp.Regexp
	}{
		{
			// The real msmtp, relaying nowhere.
			"msmtp",
			msmtpPath,
			regexp.MustCompile(`^sendmail .*/sendmail: exit status \d+: msmtp: cannot connect to 127\.0\.0\.1, port \d+: Connection refused`),
		},
		{
			// A program that prints escape sequences and a lot of text:
			// the error is one clean, short line.
			"noisy",
			script(t, `cat >/dev/null
printf 'bad \033[31mrecipient\033[0m\r\nsecond line\n' >&2
head -c 100000 /dev/zero | tr '\0' x >&2
exit 67`),
			regexp.MustCompile(`^sendmail .*/sendmail: exit status 67: bad recipient second line x{400,}…$`),
		},
		{
			"missing",
			filepath.Join(t.TempDir(), "no-sendmail"),
			regexp.MustCompile(`^sendmail .*/no-sendmail: fork/exec .*: no such file or directory$`),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Sendmail(t.Context(), tc.path, sample())
			if err == nil {
				t.Fatal("Sendmail succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if !tc.want.MatchString(err.Error()) {
				t.Errorf("error %q does not match %s", err, tc.want)
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestSendmailArgsAndInput(t *testing.T) {
	// What a sendmail gets: "-oi -t" and the message with LF line ends.
	dir := t.TempDir()
	path := script(t, fmt.Sprintf(`printf '%%s\n' "$@" > %s/args
cat > %s/stdin`, dir, dir))
	if err := Sendmail(t.Context(), path, sample()); err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff("-oi\n-t\n", string(args)); d != "" {
		t.Errorf("arguments (-want +got):\n%s", d)
	}
	in, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(in, []byte("\r")) {
		t.Errorf("sendmail input has CR bytes")
	}
	checkMail(t, bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n")), sample(), sample().Subject)
}

func TestSendmailContext(t *testing.T) {
	path := script(t, "exec sleep 30")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Sendmail(ctx, path, sample())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Sendmail returned after %v", d)
	}
}
