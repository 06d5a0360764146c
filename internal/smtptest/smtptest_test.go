package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rawMessage is a message as a client would write it, with an encoded
// subject, a folded header field and one part in each transfer
// encoding that Parse undoes.
const rawMessage = "From: Ops =?UTF-8?Q?=C3=89quipe?= <ops@example.com>\r\n" +
	"To: a@example.com,\r\n b@example.com\r\n" +
	"Subject: =?UTF-8?B?Y2Fmw6kg4piD?=\r\n" +
	"Date: Tue, 04 Mar 2025 05:06:07 +0100\r\n" +
	"Message-ID: <1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"na=C3=AFve line that is long enough to be cut by a soft line break here =\r\n" +
	"and on\r\nsecond\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+4piDPC9w\r\nPgo=\r\n" +
	"--b1--\r\n"

func TestParse(t *testing.T) {
	want := Parsed{
		From:        "Ops Équipe <ops@example.com>",
		To:          "a@example.com, b@example.com",
		Subject:     "café ☃",
		MessageID:   "<1@example.com>",
		MIMEVersion: "1.0",
		Type:        "multipart/alternative",
		Date:        time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600)),
		Parts: []Part{
			{Type: "text/plain; charset=UTF-8", Encoding: "quoted-printable", Body: "naïve line that is long enough to be cut by a soft line break here and on\nsecond"},
			{Type: "text/html; charset=UTF-8", Encoding: "base64", Body: "<p>☃</p>\n"},
		},
	}
	got := Parse(t, []byte(rawMessage))
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	if d := cmp.Diff("To: a@example.com, b@example.com", HeaderLines([]byte(rawMessage))[1]); d != "" {
		t.Errorf("HeaderLines unfolds (-want +got):\n%s", d)
	}
	if n := len(HeaderLines([]byte(rawMessage))); n != 7 {
		t.Errorf("HeaderLines: %d fields, want 7", n)
	}
}

func TestReadyWriter(t *testing.T) {
	for _, tc := range []struct {
		writes []string
		want   bool
	}{
		{[]string{"ready\n"}, true},
		{[]string{"rea", "dy", "\n"}, true},
		{[]string{"starting\nready\nmore\n"}, true},
		{[]string{"ready"}, false},
		{[]string{"already\n"}, false},
		{[]string{"ready now\n"}, false},
		{[]string{strings.Repeat("x", 10000), "ready\n"}, false},
		{[]string{strings.Repeat("x", 10000), "\nready\n"}, true},
	} {
		t.Run(fmt.Sprintf("%.20q", tc.writes), func(t *testing.T) {
			w := &readyWriter{ready: make(chan struct{})}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(s))
				}
			}
			got := false
			select {
			case <-w.ready:
				got = true
			default:
			}
			if got != tc.want {
				t.Errorf("ready = %v, want %v", got, tc.want)
			}
		})
	}
}

// deliver sends one message with net/smtp the way a submission client
// does: STARTTLS or TLS from the start as the mode asks, then AUTH
// PLAIN.
func deliver(t *testing.T, s *Server, mode, password string) error {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", s.CAFile)
	}
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	var conn net.Conn
	if mode == "smtps" {
		conn, err = tls.Dial("tcp", addr, cfg)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if mode == "starttls" {
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if mode != "plain" {
		if err := c.Auth(smtp.PlainAuth("", s.User, password, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("sender@example.com"); err != nil {
		return err
	}
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(rawMessage)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// TestServer delivers to the server in each mode and reads back what it
// stored; a wrong password is refused; a stopped server refuses
// connections and keeps its messages readable.
func TestServer(t *testing.T) {
	for _, mode := range []string{"starttls", "smtps", "plain"} {
		t.Run(mode, func(t *testing.T) {
			s := Start(t, mode)
			if n := len(s.Messages(t)); n != 0 {
				t.Fatalf("a new server holds %d messages", n)
			}
			if mode != "plain" {
				err := deliver(t, s, mode, "wrong-"+s.Password)
				if err == nil || !strings.Contains(err.Error(), "535") {
					t.Errorf("wrong password: error %v, want 535", err)
				}
			}
			if err := deliver(t, s, mode, s.Password); err != nil {
				t.Fatalf("deliver: %v", err)
			}
			want := Message{
				Raw:      []byte(rawMessage),
				MailFrom: "sender@example.com",
				RcptTos:  []string{"a@example.com", "b@example.com"},
				TLS:      mode != "plain",
				Auth:     mode != "plain",
			}
			if d := cmp.Diff(want, s.Only(t)); d != "" {
				t.Errorf("stored message (-want +got):\n%s", d)
			}

			s.Stop()
			s.Stop() // again: nothing happens
			if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL("smtp"), "smtp://"), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("dial a stopped server: %v, want a refused connection", err)
			}
			if n := len(s.Messages(t)); n != 1 {
				t.Errorf("a stopped server holds %d messages, want 1", n)
			}
		})
	}
}

// fatalRecorder keeps the message of a Fatalf and ends the goroutine as
// testing.T does, so that a test can check how Start fails.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestStartFails: a server that exits before it is ready fails the test
// with what it printed.
func TestStartFails(t *testing.T) {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r, "bogus")
	}()
	<-done
	for _, want := range []string{"smtpd.py bogus exited before it was ready", "invalid choice: 'bogus'"} {
		if !strings.Contains(r.msg, want) {
			t.Errorf("Start failed with %q; want it to contain %q", r.msg, want)
		}
	}
}
