package mailer

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logtriage/logtriage/internal/smtptest"
)

func TestSMTPCheck(t *testing.T) {
	ca := smtptest.NewCA(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	type result struct {
		Host     string
		Port     int
		Implicit bool
		Policy   string
		User     string
		Err      string
	}
	for _, tc := range []struct {
		name string
		cfg  SMTP
		want result
	}{
		{"submission", SMTP{URL: "smtp://mail.example.com"}, result{Host: "mail.example.com", Port: 587, Policy: "TLSMandatory"}},
		{"port", SMTP{URL: "smtp://mail.example.com:25"}, result{Host: "mail.example.com", Port: 25, Policy: "TLSMandatory"}},
		{"smtps", SMTP{URL: "smtps://mail.example.com"}, result{Host: "mail.example.com", Port: 465, Implicit: true, Policy: "TLSMandatory"}},
		{"upper case, slash", SMTP{URL: "SMTP://mail.example.com:2525/"}, result{Host: "mail.example.com", Port: 2525, Policy: "TLSMandatory"}},
		{"IPv6", SMTP{URL: "smtp://[::1]:25", StartTLS: "none"}, result{Host: "::1", Port: 25, Policy: "NoTLS"}},
		{"opportunistic", SMTP{URL: "smtp://relay", StartTLS: "opportunistic", User: "u"}, result{Host: "relay", Port: 587, Policy: "TLSOpportunistic", User: "u"}},
		{"user in URL", SMTP{URL: "smtp://digest@relay"}, result{Host: "relay", Port: 587, Policy: "TLSMandatory", User: "digest"}},
		{"same user twice", SMTP{URL: "smtp://digest@relay", User: "digest", Password: "pw"}, result{Host: "relay", Port: 587, Policy: "TLSMandatory", User: "digest"}},
		{"CA file", SMTP{URL: "smtp://relay", CAFile: ca.CAFile}, result{Host: "relay", Port: 587, Policy: "TLSMandatory"}},

		{"empty", SMTP{}, result{Err: `--smtp: empty URL`}},
		{"no scheme", SMTP{URL: "mail.example.com"}, result{Err: `--smtp "mail.example.com": no scheme: want smtp://host[:port] or smtps://host[:port]`}},
		{"host:port", SMTP{URL: "mail.example.com:587"}, result{Err: `--smtp "mail.example.com:587": scheme "mail.example.com" not supported: want smtp:// or smtps://`}},
		{"http", SMTP{URL: "http://mail.example.com"}, result{Err: `--smtp "http://mail.example.com": scheme "http" not supported: want smtp:// or smtps://`}},
		{"submissions", SMTP{URL: "submissions://mail.example.com"}, result{Err: `--smtp "submissions://mail.example.com": scheme "submissions" not supported: want smtp:// or smtps://`}},
		{"opaque", SMTP{URL: "smtp:mail.example.com"}, result{Err: `--smtp "smtp:mail.example.com": want smtp://host[:port]`}},
		{"path", SMTP{URL: "smtp://mail.example.com/relay"}, result{Err: `--smtp "smtp://mail.example.com/relay": unexpected path "/relay": want smtp://host[:port]`}},
		{"query", SMTP{URL: "smtp://mail.example.com?tls=no"}, result{Err: `--smtp "smtp://mail.example.com?tls=no": unexpected query or fragment: want smtp://host[:port]`}},
		{"no host", SMTP{URL: "smtp://"}, result{Err: `--smtp "smtp://": no host`}},
		{"port zero", SMTP{URL: "smtp://relay:0"}, result{Err: `--smtp "smtp://relay:0": port "0" out of range`}},
		{"port too big", SMTP{URL: "smtp://relay:70000"}, result{Err: `--smtp "smtp://relay:70000": port "70000" out of range`}},
		{"bad port", SMTP{URL: "smtp://relay:smtp"}, result{Err: `--smtp "smtp://relay:smtp": invalid port ":smtp" after host`}},
		{"password in URL", SMTP{URL: "smtp://digest:hunter2@relay"}, result{Err: `--smtp "smtp://digest:xxxxx@relay": no password in the URL (ps and shell histories show it): use --smtp-password-file or LOGTRIAGE_SMTP_PASSWORD`}},
		{"empty password in URL", SMTP{URL: "smtp://digest:@relay"}, result{Err: `--smtp "smtp://digest:xxxxx@relay": no password in the URL (ps and shell histories show it): use --smtp-password-file or LOGTRIAGE_SMTP_PASSWORD`}},
		{"password in unparsable URL", SMTP{URL: "smtp://digest:hunter2@relay:x y"}, result{Err: `--smtp "smtp://digest:xxxxx@relay:x y": invalid port ":x y" after host`}},
		{"users differ", SMTP{URL: "smtp://digest@relay", User: "other"}, result{Err: `--smtp "smtp://digest@relay": user "digest" differs from --smtp-user "other"`}},
		{"password without user", SMTP{URL: "smtp://relay", Password: "pw"}, result{Err: `--smtp-password given without a user: set --smtp-user or a user in --smtp`}},
		{"bad starttls", SMTP{URL: "smtp://relay", StartTLS: "yes"}, result{Err: `--smtp-starttls "yes": want required, opportunistic or none`}},
		{"smtps without TLS", SMTP{URL: "smtps://relay", StartTLS: "none"}, result{Err: `--smtp-starttls none: smtps:// is TLS from the start; STARTTLS applies to smtp:// only`}},
		{"auth in clear", SMTP{URL: "smtp://127.0.0.1:25", StartTLS: "none", User: "digest", Password: "pw"}, result{Err: `--smtp-starttls none with user "digest": refusing to send the SMTP password over an unencrypted connection; use STARTTLS or smtps://`}},
		{"CA file missing", SMTP{URL: "smtp://relay", CAFile: missing}, result{Err: `--smtp-ca: open ` + missing + `: no such file or directory`}},
		{"CA file not PEM", SMTP{URL: "smtp://relay", CAFile: notPEM}, result{Err: `--smtp-ca ` + notPEM + `: no PEM certificate in it`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.cfg.server()
			got := result{Err: errText(err)}
			if err == nil {
				got = result{Host: s.host, Port: s.port, Implicit: s.implicit, Policy: s.policy.String(), User: s.user}
				if s.tls.ServerName != s.host {
					t.Errorf("TLS server name %q, want %q", s.tls.ServerName, s.host)
				}
				if (s.tls.RootCAs != nil) != (tc.cfg.CAFile != "") {
					t.Errorf("RootCAs set: %v, with CAFile %q", s.tls.RootCAs != nil, tc.cfg.CAFile)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("SMTP%+v (-want +got):\n%s", tc.cfg, d)
			}
			if strings.Contains(got.Err, "hunter2") {
				t.Errorf("error shows the password: %s", got.Err)
			}
		})
	}
}

// send delivers m and returns what the server received for it.
func send(t *testing.T, srv *smtptest.Server, cfg SMTP, m Message) smtptest.Message {
	t.Helper()
	before := len(srv.Messages(t))
	if err := Send(t.Context(), cfg, m); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(t)
	if len(msgs) != before+1 {
		t.Fatalf("server holds %d messages after a delivery, had %d", len(msgs), before)
	}
	got := msgs[len(msgs)-1]
	if d := cmp.Diff([]string{"ops@example.com", "oncall@example.org"}, got.RcptTos); d != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", d)
	}
	if got.MailFrom != "logtriage@example.com" {
		t.Errorf("envelope sender %q", got.MailFrom)
	}
	return got
}

// failSend expects Send to fail, the server to have received nothing, and
// the error to contain want and never the password.
func failSend(t *testing.T, srv *smtptest.Server, cfg SMTP, want string) error {
	t.Helper()
	before := len(srv.Messages(t))
	err := Send(t.Context(), cfg, sample())
	if err == nil {
		t.Fatalf("Send succeeded, want an error containing %q", want)
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("error shows the password: %q", err)
	}
	if n := len(srv.Messages(t)); n != before {
		t.Errorf("server received a message (%d, had %d)", n, before)
	}
	return err
}

// TestSendSTARTTLS delivers to a submission server that requires STARTTLS
// before anything else and AUTH before mail.
func TestSendSTARTTLS(t *testing.T) {
	srv := smtptest.Start(t, "starttls")
	cfg := SMTP{URL: srv.URL("smtp"), User: srv.User, Password: srv.Password, CAFile: srv.CAFile, Timeout: 20 * time.Second}

	t.Run("deliver", func(t *testing.T) {
		m := sample()
		got := send(t, srv, cfg, m)
		checkMail(t, got.Raw, m, m.Subject)
		if !got.TLS || !got.Auth {
			t.Errorf("delivered with TLS %v, AUTH %v; want both", got.TLS, got.Auth)
		}
	})
	t.Run("hostile subject", func(t *testing.T) {
		tc := hostileSubjects[len(hostileSubjects)-1]
		m := sample()
		m.Subject = tc.subject
		got := send(t, srv, cfg, m)
		checkMail(t, got.Raw, m, tc.want)
	})
	t.Run("opportunistic", func(t *testing.T) {
		cfg := cfg
		cfg.StartTLS = "opportunistic"
		if got := send(t, srv, cfg, sample()); !got.TLS {
			t.Error("opportunistic STARTTLS did not start TLS on a server that offers it")
		}
	})
	t.Run("user in URL", func(t *testing.T) {
		cfg := cfg
		cfg.URL = "smtp://" + srv.User + "@" + strings.TrimPrefix(srv.URL("smtp"), "smtp://")
		cfg.User = ""
		send(t, srv, cfg, sample())
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := cfg
		cfg.Password = "wrong-" + srv.Password
		failSend(t, srv, cfg, "535")
	})
	t.Run("no AUTH", func(t *testing.T) {
		cfg := cfg
		cfg.User, cfg.Password = "", ""
		failSend(t, srv, cfg, "530")
	})
	t.Run("unknown CA", func(t *testing.T) {
		cfg := cfg
		cfg.CAFile = ""
		failSend(t, srv, cfg, "x509: certificate signed by unknown authority")
	})
	t.Run("smtps to a STARTTLS port", func(t *testing.T) {
		cfg := cfg
		cfg.URL = srv.URL("smtps")
		failSend(t, srv, cfg, "tls: ")
	})
}

// TestSendPlainServer talks to a server that offers no STARTTLS but
// offers AUTH in clear, as a downgrading attacker would.
func TestSendPlainServer(t *testing.T) {
	srv := smtptest.Start(t, "plain")
	cfg := SMTP{URL: srv.URL("smtp"), User: srv.User, Password: srv.Password, Timeout: 20 * time.Second}

	t.Run("STARTTLS required", func(t *testing.T) {
		failSend(t, srv, cfg, "does not support STARTTLS")
	})
	t.Run("opportunistic keeps the password", func(t *testing.T) {
		cfg := cfg
		cfg.StartTLS = "opportunistic"
		err := failSend(t, srv, cfg, "refusing to send the SMTP password over an unencrypted connection")
		if !errors.Is(err, ErrAuthWithoutTLS) {
			t.Errorf("error %v is not ErrAuthWithoutTLS", err)
		}
	})
	for _, mode := range []string{"opportunistic", "none"} {
		t.Run(mode+" without AUTH", func(t *testing.T) {
			cfg := cfg
			cfg.StartTLS, cfg.User, cfg.Password = mode, "", ""
			m := sample()
			got := send(t, srv, cfg, m)
			checkMail(t, got.Raw, m, m.Subject)
			if got.TLS || got.Auth {
				t.Errorf("delivered with TLS %v, AUTH %v; want neither", got.TLS, got.Auth)
			}
		})
	}
}

// TestSendSMTPS delivers over TLS from the first byte (port 465 style).
func TestSendSMTPS(t *testing.T) {
	srv := smtptest.Start(t, "smtps")
	cfg := SMTP{URL: srv.URL("smtps"), User: srv.User, Password: srv.Password, CAFile: srv.CAFile, Timeout: 20 * time.Second}
	m := sample()
	got := send(t, srv, cfg, m)
	checkMail(t, got.Raw, m, m.Subject)
	if !got.TLS || !got.Auth {
		t.Errorf("delivered with TLS %v, AUTH %v; want both", got.TLS, got.Auth)
	}

	cfg.Password = "wrong"
	failSend(t, srv, cfg, "535")
}

// TestSendStalled: a server that accepts the connection and never says
// anything must not hold the delivery past its time limit or past the
// caller's context.
func TestSendStalled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn // held open, silent, until the test ends
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	url := "smtp://" + l.Addr().String()

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		err := Send(t.Context(), SMTP{URL: url, Timeout: 300 * time.Millisecond}, sample())
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no delivery within 300ms") {
			t.Errorf("error %v, want the time limit", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send returned after %v", d)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		err := Send(ctx, SMTP{URL: url, Timeout: time.Minute}, sample())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send returned after %v", d)
		}
	})
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ err, password, want string }{
		{"535 authentication failed", "s3cret", "535 authentication failed"},
		{"server said: s3cret is wrong, s3cret!", "s3cret", "server said: xxxxx is wrong, xxxxx!"},
		{"no password set", "", "no password set"},
	} {
		t.Run(tc.err, func(t *testing.T) {
			if d := cmp.Diff(tc.want, redact(errors.New(tc.err), tc.password).Error()); d != "" {
				t.Errorf("redact (-want +got):\n%s", d)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	private := file("private", "from-file\nsecond line\n", 0o600)
	group := file("group", "group-readable\r\n", 0o640)
	noNewline := file("nonl", "no-newline", 0o400)
	world := file("world", "leaked\n", 0o644)
	worldWritable := file("world-writable", "leaked\n", 0o602)
	empty := file("empty", "\nsecond\n", 0o600)
	missing := filepath.Join(dir, "missing")

	env := map[string]string{"LOGTRIAGE_SMTP_USER": "env-user", "LOGTRIAGE_SMTP_PASSWORD": "env-password"}
	type result struct{ User, Password, Err string }
	for _, tc := range []struct {
		name                 string
		user, password, file string
		env                  map[string]string
		want                 result
	}{
		{"nothing", "", "", "", nil, result{}},
		{"flags", "u", "p", "", env, result{User: "u", Password: "p"}},
		{"environment", "", "", "", env, result{User: "env-user", Password: "env-password"}},
		{"file beats environment", "u", "", private, env, result{User: "u", Password: "from-file"}},
		{"file, group readable, CRLF", "u", "", group, nil, result{User: "u", Password: "group-readable"}},
		{"file without newline", "u", "", noNewline, nil, result{User: "u", Password: "no-newline"}},
		{"both password flags", "u", "p", private, nil, result{Err: "--smtp-password and --smtp-password-file: choose one"}},
		{"world readable", "u", "", world, nil, result{Err: "--smtp-password-file " + world + ": mode 0644 lets other users read or change it; chmod o-rwx " + world}},
		{"world writable", "u", "", worldWritable, nil, result{Err: "--smtp-password-file " + worldWritable + ": mode 0602 lets other users read or change it; chmod o-rwx " + worldWritable}},
		{"empty first line", "u", "", empty, nil, result{Err: "--smtp-password-file " + empty + ": first line is empty"}},
		{"missing", "u", "", missing, nil, result{Err: "--smtp-password-file: open " + missing + ": no such file or directory"}},
		{"directory", "u", "", dir, nil, result{Err: "--smtp-password-file " + dir + ": not a regular file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p, err := Credentials(tc.user, tc.password, tc.file, func(k string) string { return tc.env[k] })
			got := result{Err: errText(err)}
			if err == nil {
				got.User, got.Password = u, p
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Credentials (-want +got):\n%s", d)
			}
		})
	}
}
